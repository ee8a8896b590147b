package gateway.authz_test

import data.gateway.authz

# Fixtures: subjects, resources and contexts.

gp_nurse := {"kind": "user", "id": "u-gp", "org": "G81001", "role": "R8001", "purpose": "TREAT", "break_glass_reason": ""}

trust_doctor := {"kind": "user", "id": "u-rj1", "org": "RJ1", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

trust_receptionist := object.union(trust_doctor, {"role": "R8009"})

trust_social_worker := object.union(trust_doctor, {"role": "R8014"})

council_sw := {"kind": "user", "id": "u-la", "org": "LA001", "role": "R1330", "purpose": "COC", "break_glass_reason": ""}

council_system := {"kind": "system", "id": "cm", "org": "LA001", "role": "", "purpose": "COC", "break_glass_reason": ""}

provider_carer := {"kind": "user", "id": "u-cp", "org": "CP001", "role": "R1460", "purpose": "TREAT", "break_glass_reason": ""}

researcher := {"kind": "user", "id": "u-x", "org": "X99", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

care_plan := {"type": "CarePlan", "id": "cp1", "patient": "Patient/p1", "categories": ["care-plan"], "labels": [], "author_orgs": ["LA001"]}

care_package := {"type": "CarePlan", "id": "pk1", "patient": "Patient/p1", "categories": ["care-package"], "labels": [], "author_orgs": ["LA001"]}

finance := {"type": "Basic", "id": "f1", "patient": "Patient/p1", "categories": ["financial"], "labels": [], "author_orgs": ["CP001"]}

opinion := {"type": "Observation", "id": "o1", "patient": "Patient/p1", "categories": ["opinion"], "labels": [], "author_orgs": ["LA001"]}

safeguarding_flag := {"type": "Flag", "id": "s1", "patient": "Patient/p1", "categories": ["alert", "safeguarding"], "labels": [], "author_orgs": ["LA001"]}

safeguarding_note := {"type": "Observation", "id": "s2", "patient": "Patient/p1", "categories": ["safeguarding"], "labels": [], "author_orgs": ["LA001"]}

visit := {"type": "Encounter", "id": "v1", "patient": "Patient/p1", "categories": ["visit"], "labels": [], "author_orgs": ["CP001"]}

third_party := object.union(care_plan, {"labels": ["https://socialcare-fhir.example.org/CodeSystem/security-label|third-party-confidential"]})

restricted := object.union(care_plan, {"labels": ["http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"]})

related := {"related": true, "objected": false, "self": false, "known_to_council": false, "provider_named": false}

unrelated := object.union(related, {"related": false})

objected := object.union(related, {"objected": true})

known := object.union(unrelated, {"known_to_council": true})

self_ctx := object.union(unrelated, {"self": true})

decide(subject, resource, ctx) := d if {
	d := authz.decision with input as {"action": "read", "subject": subject, "resource": resource, "context": ctx}
}

write(subject, ctx) := d if {
	resource := object.union(care_plan, {"author_orgs": [subject.org]}) # as the gateway stamps it
	d := authz.decision with input as {"action": "write", "subject": subject, "resource": resource, "context": ctx}
}

# DSA-1: signatories only.

test_dsa_nhs_signatory_allowed if {
	d := decide(gp_nurse, care_plan, related)
	d.allow
	"DSA-1-signatory" in d.reasons
}

test_dsa_non_signatory_refused if {
	d := decide(researcher, care_plan, related)
	not d.allow
	"DSA-1-signatory" in d.reasons
}

test_dsa_unknown_org_refused if {
	d := decide(object.union(gp_nurse, {"org": "ZZZ"}), care_plan, related)
	not d.allow
	"DSA-1-signatory" in d.reasons
}

test_dsa_provider_reads_own_records if {
	d := decide(provider_carer, visit, unrelated)
	d.allow
	d.reasons == ["DSA-1-provider-own-records", "PURPOSE-2-direct-care"]
}

test_dsa_provider_refused_others_records if {
	d := decide(provider_carer, care_plan, related)
	not d.allow
	"DSA-1-provider-own-records" in d.reasons
}

# PURPOSE-2: direct care only; break glass for clinical roles with a reason.

test_purpose_direct_care_allowed if {
	decide(object.union(gp_nurse, {"purpose": "COC"}), care_plan, related).allow
}

test_purpose_other_refused if {
	every purpose in ["HRESCH", "HPAYMT", "HOPERAT", "PUBHLTH", ""] {
		d := decide(object.union(gp_nurse, {"purpose": purpose}), care_plan, related)
		not d.allow
		"PURPOSE-2-direct-care" in d.reasons
	}
}

test_break_glass_allowed_and_flagged if {
	d := decide(object.union(trust_doctor, {"purpose": "BTG", "break_glass_reason": "unconscious in A&E"}), care_plan, objected)
	d.allow
	"PURPOSE-2-break-glass" in d.reasons
	d.obligations == ["audit-break-glass", "review-break-glass"]
}

test_break_glass_needs_reason if {
	d := decide(object.union(trust_doctor, {"purpose": "BTG", "break_glass_reason": "  "}), care_plan, unrelated)
	not d.allow
	"PURPOSE-2-break-glass" in d.reasons
}

test_break_glass_clinical_only if {
	d := decide(object.union(trust_receptionist, {"purpose": "BTG", "break_glass_reason": "urgent"}), care_plan, unrelated)
	not d.allow
	"PURPOSE-2-break-glass" in d.reasons
}

test_break_glass_nhs_only if {
	d := decide(object.union(council_sw, {"purpose": "BTG", "break_glass_reason": "urgent"}), care_plan, unrelated)
	not d.allow
	"PURPOSE-2-break-glass" in d.reasons
}

# REL-3: legitimate relationship.

test_relationship_allowed if {
	d := decide(trust_doctor, care_plan, related)
	d.allow
	"REL-3-relationship" in d.reasons
}

test_relationship_missing_refused if {
	d := decide(trust_doctor, care_plan, unrelated)
	not d.allow
	d.reasons == ["REL-3-relationship"]
}

test_relationship_from_search_list if {
	decide(trust_doctor, care_plan, {"related_patients": ["Patient/p1"]}).allow
	not decide(trust_doctor, care_plan, {"related_patients": ["Patient/p2"]}).allow
}

test_council_known_allowed if {
	d := decide(council_sw, care_plan, known)
	d.allow
	"REL-3-known-to-council" in d.reasons
}

test_council_unknown_refused if {
	d := decide(council_sw, care_plan, unrelated)
	not d.allow
	d.reasons == ["REL-3-known-to-council"]
}

test_directory_needs_no_relationship if {
	org := {"type": "Organization", "id": "org1", "patient": "", "categories": ["directory"], "labels": [], "author_orgs": []}
	decide(trust_receptionist, org, unrelated).allow
	not decide(researcher, org, unrelated).allow
}

# NTK-4: need to know by role class and category.

test_ntk_clinical_sees_care_records if {
	every r in [care_plan, care_package, visit, opinion] {
		decide(trust_doctor, r, related).allow
	}
}

test_ntk_admin_sees_summary_only if {
	d := decide(trust_receptionist, care_package, related)
	d.allow
	d.redactions == ["/activity", "/description", "/note", "/supportingInfo", "/text"]
	e := decide(trust_receptionist, care_plan, related)
	not e.allow
	"NTK-4-need-to-know" in e.reasons
}

test_ntk_no_nhs_role_sees_finance if {
	every s in [trust_doctor, trust_receptionist, trust_social_worker, gp_nurse] {
		d := decide(s, finance, related)
		not d.allow
		"NTK-4-need-to-know" in d.reasons
	}
	decide(council_sw, finance, known).allow
}

test_ntk_opinion_clinical_and_social_work_only if {
	decide(trust_social_worker, opinion, related).allow
	not decide(trust_receptionist, opinion, related).allow
}

test_ntk_safeguarding_alert_redacted_for_clinical if {
	d := decide(trust_doctor, safeguarding_flag, related)
	d.allow
	d.redactions == ["/code/text", "/note", "/text"]
}

test_ntk_safeguarding_details_for_social_workers if {
	d := decide(trust_social_worker, safeguarding_flag, related)
	d.allow
	d.redactions == []
	decide(trust_social_worker, safeguarding_note, related).allow
}

test_ntk_safeguarding_record_hidden_from_others if {
	d := decide(trust_doctor, safeguarding_note, related)
	not d.allow
	"NTK-4-need-to-know" in d.reasons
}

test_ntk_restricted_label if {
	decide(trust_doctor, restricted, related).allow
	not decide(object.union(trust_doctor, {"role": "R1450"}), restricted, related).allow
}

# A trust system (client credentials, no job role) reads for direct care
# as the system role class allows: a related person's care plan, never an
# unrelated person's, a restricted record or safeguarding details.
trust_system := {"kind": "system", "id": "ryq-epr", "org": "RJ1", "role": "", "purpose": "TREAT", "break_glass_reason": ""}

test_ntk_trust_system if {
	decide(trust_system, care_plan, related).allow
	not decide(trust_system, care_plan, unrelated).allow
	not decide(trust_system, restricted, related).allow
	not decide(trust_system, finance, related).allow
	d := decide(trust_system, safeguarding_flag, related)
	d.allow
	d.redactions == ["/code/text", "/note", "/text"]
}

test_ntk_unknown_role_refused if {
	d := decide(object.union(trust_doctor, {"role": "R9999"}), care_plan, related)
	not d.allow
	"NTK-4-role" in d.reasons
}

test_ntk_unknown_category_refused if {
	d := decide(trust_doctor, object.union(care_plan, {"categories": ["care-plan", "mystery"]}), related)
	not d.allow
	"NTK-4-vocabulary" in d.reasons
}

# OBJ-5: objection.

test_objection_refuses_nhs if {
	d := decide(trust_doctor, care_plan, objected)
	not d.allow
	d.reasons == ["OBJ-5-objection"]
}

test_objection_council_keeps_access if {
	decide(council_sw, safeguarding_note, object.union(known, {"objected": true})).allow
}

test_objection_search_list if {
	not decide(trust_doctor, care_plan, {"related_patients": ["Patient/p1"], "objected_patients": ["Patient/p1"]}).allow
}

# SELF-6: self-access.

test_self_reads_own_record if {
	d := decide(person, care_plan, self_ctx)
	d.allow
	d.reasons == ["SELF-6"]
	decide(person, safeguarding_note, self_ctx).redactions == []
}

test_self_not_others_record if {
	d := decide(person, care_plan, unrelated)
	not d.allow
	"SELF-6" in d.reasons
}

test_self_third_party_refused if {
	d := decide(person, third_party, self_ctx)
	not d.allow
	"SELF-6-third-party" in d.reasons
}

test_self_cannot_write if {
	not write(person, self_ctx).allow
}

# WRITE-7: writes.

test_write_council_allowed if {
	d := write(council_system, unrelated)
	d.allow
	"WRITE-7" in d.reasons
}

test_write_provider_named_allowed if {
	d := write(provider_carer, object.union(unrelated, {"provider_named": true}))
	d.allow
	"WRITE-7-provider-named" in d.reasons
}

test_write_provider_not_named_refused if {
	d := write(provider_carer, unrelated)
	not d.allow
	d.reasons == ["WRITE-7-provider-named"]
}

test_write_nhs_refused if {
	d := write(trust_doctor, related)
	not d.allow
	"WRITE-7" in d.reasons
}

# The decision object, the page rule and the data itself.

test_unknown_action_refused if {
	d := authz.decision with input as {"action": "delete", "subject": council_sw, "resource": care_plan, "context": known}
	not d.allow
	"ACTION-0-unknown" in d.reasons
}

test_page_decides_each_resource if {
	ds := authz.decisions with input as {
		"action": "search", "subject": trust_doctor,
		"resources": [care_plan, finance, safeguarding_flag],
		"contexts": [related, related, objected],
	}
	[d.allow | some d in ds] == [true, false, false]
}

test_every_role_in_one_class if {
	every role in {r | some rc in data.dsa.role_classes; some r in rc.roles} {
		count([c | some c, rc in data.dsa.role_classes; role in rc.roles]) == 1
	}
}

test_class_categories_in_vocabulary if {
	every rc in data.dsa.role_classes {
		every cat in rc.categories {
			cat in data.dsa.vocabulary
		}
	}
}

test_organisations_have_known_kinds if {
	every o in data.dsa.organisations {
		data.dsa.kinds[o.kind]
	}
}

# The subject half of the paths and the order of denial reasons.

test_open_paths_by_subject if {
	authz.open_paths == {"relationship", "directory", "cohort"} with input as {"action": "read", "subject": trust_doctor}
	authz.open_paths == {"break-glass"} with input as {"action": "read", "subject": object.union(trust_doctor, {"purpose": "BTG", "break_glass_reason": "collapsed"})}
	authz.open_paths == {"council", "directory", "cohort"} with input as {"action": "search", "subject": council_sw}
	authz.open_paths == {"provider-own"} with input as {"action": "read", "subject": provider_carer}
	authz.open_paths == set() with input as {"action": "read", "subject": researcher}
	authz.open_paths == set() with input as {"action": "read", "subject": object.union(trust_doctor, {"role": "R9999"})}
	authz.open_paths == {"self", "share-consent", "share-duty"} with input as {"action": "read", "subject": person}
	authz.open_paths == {"write-council", "write-cohort"} with input as {"action": "write", "subject": council_system}
}

test_denial_reasons_in_rule_order if {
	d := decide(object.union(trust_doctor, {"purpose": "HRESCH"}), object.union(care_plan, {"categories": ["care-plan", "mystery"]}), objected)
	not d.allow
	d.reasons == ["PURPOSE-2-direct-care", "NTK-4-vocabulary"]
}

test_page_shares_outcomes if {
	ds := authz.decisions with input as {
		"action": "read", "subject": trust_receptionist,
		"resources": [care_package, care_package, care_plan, care_plan],
		"contexts": [related, related, related, unrelated],
	}
	[d.allow | some d in ds] == [true, true, false, false]
	ds[0] == ds[1]
	ds[0].redactions == ["/activity", "/description", "/note", "/supportingInfo", "/text"]
	ds[2].reasons == ["NTK-4-need-to-know"]
	ds[3].reasons == ["REL-3-relationship", "NTK-4-need-to-know"]
}

# AUDIT-8: the council's IG lead reviews the audit trail (break-glass
# accesses); nobody else reads it.

council_ig := {"kind": "user", "id": "u-ig", "org": "SYN01", "role": "R5105", "purpose": "HOPERAT", "break_glass_reason": ""}

audit_event := {"type": "AuditEvent", "id": "a1", "patient": "", "categories": ["audit"], "labels": [], "author_orgs": []}

test_audit_ig_at_fixture_council if {
	every role in ["R5105", "R0001"] {
		every purpose in ["HOPERAT", "COC", "TREAT"] {
			d := decide(object.union(council_ig, {"role": role, "purpose": purpose}), audit_event, unrelated)
			d.allow
			d.reasons == ["AUDIT-8-ig-review", "DSA-1-signatory", "NTK-4-need-to-know"]
		}
	}
}

test_audit_refused_to_others if {
	every s in [council_sw, trust_doctor, gp_nurse, provider_carer, person, object.union(council_ig, {"purpose": "HRESCH"}), object.union(council_ig, {"org": "RJ1"})] {
		d := decide(s, audit_event, unrelated)
		not d.allow
	}
	"AUDIT-8-ig-review" in decide(council_sw, audit_event, known).reasons
}

test_fixture_organisations_listed if {
	data.dsa.organisations.SYN01.kind == "council-asc"
	data.dsa.organisations.SYNH1.kind == "care-provider"
	data.dsa.organisations.SYNR1.kind == "care-provider"
	data.dsa.organisations.Y99001.kind == "gp-practice"
	data.dsa.organisations.RJ1.kind == "nhs-trust"
}

test_translator_labels if {
	sw := object.union(care_plan, {"labels": ["https://socialcare-fhir.example.org/CodeSystem/security-label|third-party-confidential"]})
	not decide(person, sw, self_ctx).allow
}

# The entry points the engine's plans use give exactly the decision: grant
# for the paths a record matches and its categories, refusal for the record
# checks it fails (decision.rego explains why this must hold).
test_grant_is_the_decision_of_an_allowed_record if {
	d := decide(trust_doctor, safeguarding_flag, related)
	d.allow
	g := authz.grant with input as {"action": "read", "subject": trust_doctor, "paths": ["relationship"], "categories": safeguarding_flag.categories}
	g == d
}

test_refusal_is_the_decision_of_a_refused_record if {
	d := decide(trust_doctor, care_plan, objected)
	not d.allow
	r := authz.refusal with input as {"action": "read", "subject": trust_doctor, "failures": ["OBJ-5-objection"]}
	r == d
}

test_no_grant_for_an_unknown_category if {
	not authz.grant with input as {"action": "read", "subject": trust_doctor, "paths": ["relationship"], "categories": ["care-plan", "mystery"]}
}

# The filter rule (decision.rego) stands in for the plans of a policy
# decided in full: a record the reader may see passes it, another not.
test_filter_rule if {
	authz.filter with input as {"action": "search", "subject": gp_nurse, "resource": care_plan, "context": related}
	not authz.filter with input as {"action": "search", "subject": researcher, "resource": care_plan, "context": related}
}

# What a refusal tells the caller (disclosed, deny.rego) and who may read a
# person's access report (operations.rego).
package gateway.disclosure_test

import data.gateway.authz

# Fixtures, kept here so that this file stands on its own.

gp_nurse := {"kind": "user", "id": "u-gp", "org": "G81001", "role": "R8001", "purpose": "TREAT", "break_glass_reason": ""}

trust_doctor := {"kind": "user", "id": "u-rj1", "org": "RJ1", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

trust_receptionist := object.union(trust_doctor, {"role": "R8009"})

council_sw := {"kind": "user", "id": "u-la", "org": "LA001", "role": "R1330", "purpose": "COC", "break_glass_reason": ""}

council_ig := {"kind": "user", "id": "u-ig", "org": "SYN01", "role": "R5105", "purpose": "HOPERAT", "break_glass_reason": ""}

provider_carer := {"kind": "user", "id": "u-cp", "org": "CP001", "role": "R1460", "purpose": "TREAT", "break_glass_reason": ""}

researcher := {"kind": "user", "id": "u-x", "org": "X99", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

care_plan := {"type": "CarePlan", "id": "cp1", "patient": "Patient/p1", "categories": ["care-plan"], "labels": [], "author_orgs": ["LA001"]}

finance := {"type": "Basic", "id": "f1", "patient": "Patient/p1", "categories": ["financial"], "labels": [], "author_orgs": ["CP001"]}

safeguarding_note := {"type": "Observation", "id": "s2", "patient": "Patient/p1", "categories": ["safeguarding"], "labels": [], "author_orgs": ["LA001"]}

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

# A refusal names the rules that would disclose something about the person
# (an objection, a restricted or safeguarding record, third-party content)
# only to a caller who passes every other rule; the full reasons stay in
# reasons, for the audit trail.

test_unrelated_trust_not_told_of_an_objection if {
	d := decide(trust_doctor, care_plan, object.union(objected, {"related": false}))
	not d.allow
	d.reasons == ["REL-3-relationship", "OBJ-5-objection"]
	d.disclosed == ["REL-3-relationship"]
}

test_related_gp_told_of_an_objection if {
	d := decide(gp_nurse, care_plan, objected)
	d.reasons == ["OBJ-5-objection"]
	d.disclosed == ["OBJ-5-objection"]
}

test_unrelated_trust_not_told_of_a_safeguarding_record if {
	d := decide(trust_receptionist, safeguarding_note, unrelated)
	d.reasons == ["REL-3-relationship", "NTK-4-need-to-know"]
	d.disclosed == ["REL-3-relationship"]
}

test_unrelated_trust_not_told_of_a_restricted_label if {
	d := decide(trust_receptionist, restricted, unrelated)
	"NTK-4-need-to-know" in d.reasons
	d.disclosed == ["REL-3-relationship"]
}

test_related_receptionist_told_need_to_know if {
	d := decide(trust_receptionist, care_plan, related)
	d.disclosed == ["NTK-4-need-to-know"]
}

test_person_not_told_of_third_party_content_of_another if {
	d := decide(person, third_party, unrelated)
	d.reasons == ["SELF-6", "SELF-6-third-party"]
	d.disclosed == ["SELF-6"]
}

test_person_told_of_third_party_content_of_their_own_record if {
	d := decide(person, third_party, self_ctx)
	d.disclosed == ["SELF-6-third-party"]
}

test_outsider_told_nothing_about_the_record if {
	d := decide(researcher, restricted, objected)
	not "OBJ-5-objection" in d.disclosed
	not "NTK-4-need-to-know" in d.disclosed
	count(d.disclosed) > 0
}

test_every_refusal_discloses_something if {
	every s in [gp_nurse, trust_doctor, trust_receptionist, council_sw, provider_carer, researcher, person] {
		every r in [care_plan, finance, safeguarding_note, third_party, restricted] {
			every c in [related, unrelated, objected, known, self_ctx] {
				refusal_discloses(decide(s, r, c))
			}
		}
	}
}

refusal_discloses(d) if d.allow

refusal_discloses(d) if {
	not d.allow
	count(d.disclosed) > 0
	every id in d.disclosed {
		id in d.reasons
	}
}

refusal_discloses(d) if {
	not d.allow
	d.disclosed == ["DEFAULT-deny"]
}

test_disclosing_rules_are_rule_ids if {
	every id in authz.disclosing_rules {
		id in authz.rule_ids
	}
}

# The plans' refusal entry point discloses the same as the full decision.
test_refusal_entry_point_discloses_the_same if {
	d := decide(trust_doctor, care_plan, object.union(objected, {"related": false}))
	r := authz.refusal with input as {"action": "read", "subject": trust_doctor, "failures": ["REL-3-relationship", "OBJ-5-objection"]}
	r == d
}

# $who-accessed: the person themselves (SELF-6-access-report), and council
# adult social care staff who know the person (AUDIT-8-access-report);
# nobody else, not even the person's GP.

patient := {"type": "Patient", "id": "p1", "patient": "Patient/p1", "categories": ["demographics"], "labels": [], "author_orgs": ["LA001"]}

report(subject, ctx) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": "$who-accessed", "subject": subject, "resource": patient, "context": ctx}
}

test_person_reads_their_own_access_report if {
	d := report(person, self_ctx)
	d.allow
	d.reasons == ["SELF-6-access-report"]
}

test_person_refused_another_persons_access_report if {
	d := report(person, unrelated)
	not d.allow
	d.reasons == ["SELF-6-access-report"]
	d.disclosed == ["SELF-6-access-report"]
}

test_council_staff_who_know_the_person_read_the_report if {
	every s in [council_sw, council_ig] {
		d := report(s, known)
		d.allow
		d.reasons == ["AUDIT-8-access-report"]
	}
}

test_council_staff_who_do_not_know_the_person_refused if {
	d := report(council_sw, unrelated)
	not d.allow
	d.disclosed == ["AUDIT-8-access-report"]
}

test_nhs_and_providers_refused_the_access_report if {
	# An episode of the trust or the GP's registration makes them known
	# or related to the person: neither opens the report.
	every s in [trust_doctor, gp_nurse, provider_carer, researcher] {
		every c in [related, known] {
			d := report(s, c)
			not d.allow
			d.reasons == ["AUDIT-8-access-report"]
		}
	}
}

test_council_staff_outside_direct_care_or_review_refused if {
	not report(object.union(council_sw, {"purpose": "HRESCH"}), known).allow
}

test_unknown_operation_refused if {
	d := authz.operation_decision with input as {"action": "operation", "operation": "$everything", "subject": person, "resource": patient, "context": self_ctx}
	not d.allow
	d.reasons == ["ACTION-0-unknown"]
}

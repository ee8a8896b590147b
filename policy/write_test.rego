package gateway.write_test

import data.gateway.authz

# WRITE-7-*: who may write what. The provider is CP001, the council LA001.

provider_carer := {"kind": "user", "id": "u-cp", "org": "CP001", "role": "R1460", "purpose": "TREAT", "break_glass_reason": ""}

council_sw := {"kind": "user", "id": "u-la", "org": "LA001", "role": "R1330", "purpose": "COC", "break_glass_reason": ""}

gp_nurse := {"kind": "user", "id": "u-gp", "org": "G81001", "role": "R8001", "purpose": "TREAT", "break_glass_reason": ""}

trust_doctor := {"kind": "user", "id": "u-rj1", "org": "RJ1", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

researcher := {"kind": "user", "id": "u-x", "org": "X99", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

unrelated := {"related": false, "objected": false, "self": false, "known_to_council": false, "provider_named": false}

provider_own_visit := {"type": "Observation", "id": "w1", "patient": "Patient/p1", "categories": ["visit"], "labels": [], "author_orgs": ["CP001"]}

council_visit := object.union(provider_own_visit, {"author_orgs": ["LA001"]})

shared_visit := object.union(provider_own_visit, {"author_orgs": ["CP001", "LA001"]})

labelled_visit := object.union(provider_own_visit, {"labels": ["http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"]})

named := object.union(unrelated, {"provider_named": true})

write_of(subject, resource, stored) := d if {
	d := authz.decision with input as {"action": "write", "subject": subject, "resource": resource, "stored": stored, "context": named}
}

create_of(subject, resource) := d if {
	d := authz.decision with input as {"action": "write", "subject": subject, "resource": resource, "context": named}
}

test_provider_creates_own_ordinary_record if {
	d := create_of(provider_carer, provider_own_visit)
	d.allow
	"WRITE-7-source" in d.reasons
}

test_provider_may_not_create_relationships if {
	some t in ["Patient", "EpisodeOfCare", "CareTeam", "Encounter", "ServiceRequest", "Consent", "Organization"]
	d := create_of(provider_carer, object.union(provider_own_visit, {"type": t}))
	not d.allow
	d.reasons == ["WRITE-7-relationship"]
}

test_every_relationship_type_refused if {
	every t in ["Patient", "EpisodeOfCare", "CareTeam", "Encounter", "ServiceRequest", "Consent", "Organization"] {
		not create_of(provider_carer, object.union(provider_own_visit, {"type": t})).allow
	}
}

test_council_creates_relationships if {
	every t in ["Patient", "EpisodeOfCare", "CareTeam", "Encounter", "ServiceRequest", "Consent", "Organization"] {
		create_of(council_sw, object.union(council_visit, {"type": t})).allow
	}
}

test_provider_may_not_claim_another_author if {
	d := create_of(provider_carer, council_visit)
	not d.allow
	d.reasons == ["WRITE-7-source"]
}

test_provider_must_name_itself if {
	d := create_of(provider_carer, object.union(provider_own_visit, {"author_orgs": []}))
	d.reasons == ["WRITE-7-source"]
}

test_provider_changes_own_record if {
	d := write_of(provider_carer, provider_own_visit, provider_own_visit)
	d.allow
	"WRITE-7-provider-own" in d.reasons
}

test_provider_may_not_change_council_record if {
	d := write_of(provider_carer, provider_own_visit, council_visit)
	not d.allow
	d.reasons == ["WRITE-7-provider-own"]
}

test_provider_may_not_change_shared_record if {
	d := write_of(provider_carer, provider_own_visit, shared_visit)
	not d.allow
	"WRITE-7-provider-own" in d.reasons
}

test_provider_may_not_change_unattributed_record if {
	d := write_of(provider_carer, provider_own_visit, object.union(provider_own_visit, {"author_orgs": []}))
	d.reasons == ["WRITE-7-provider-own"]
}

test_provider_change_needs_named if {
	d := authz.decision with input as {"action": "write", "subject": provider_carer, "resource": provider_own_visit, "stored": provider_own_visit, "context": unrelated}
	d.reasons == ["WRITE-7-provider-named"]
}

test_provider_may_not_remove_label if {
	d := write_of(provider_carer, provider_own_visit, labelled_visit)
	not d.allow
	d.reasons == ["WRITE-7-labels"]
}

test_provider_keeps_label_and_adds_one if {
	more := object.union(labelled_visit, {"labels": array.concat(labelled_visit.labels, ["https://socialcare-fhir.example.org/CodeSystem/security-label|safeguarding"])})
	write_of(provider_carer, more, labelled_visit).allow
}

test_provider_deletes_own_record if {
	write_of(provider_carer, labelled_visit, labelled_visit).allow
}

test_council_removes_label_and_changes_provider_record if {
	d := write_of(council_sw, object.union(provider_own_visit, {"author_orgs": ["CP001", "LA001"]}), labelled_visit)
	d.allow
	d.reasons == ["PURPOSE-2-direct-care", "WRITE-7"]
}

test_nhs_and_others_write_nothing if {
	every s in [gp_nurse, trust_doctor, researcher] {
		d := create_of(s, object.union(provider_own_visit, {"author_orgs": [s.org]}))
		not d.allow
		"WRITE-7" in d.reasons
	}
}

test_person_writes_nothing if {
	d := create_of(person, provider_own_visit)
	not d.allow
	"SELF-6" in d.reasons
}

test_relationship_types_are_the_facts_types if {
	authz.relationship_types == {"Patient", "EpisodeOfCare", "CareTeam", "Encounter", "ServiceRequest", "Consent", "Organization"}
}

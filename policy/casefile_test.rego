# Who may draw, review and report case-file audit samples (casefile.rego).
package gateway.casefile_test

import data.gateway.authz

social_worker := {"kind": "user", "id": "u-la", "org": "LA001", "role": "R1330", "purpose": "TREAT", "break_glass_reason": ""}

council_ig := {"kind": "user", "id": "u-ig", "org": "SYN01", "role": "R5105", "purpose": "HOPERAT", "break_glass_reason": ""}

council_carer := object.union(social_worker, {"role": "R1460"})

gp := {"kind": "user", "id": "u-gp", "org": "Y99001", "role": "R0260", "purpose": "TREAT", "break_glass_reason": ""}

provider := {"kind": "user", "id": "u-cp", "org": "CP001", "role": "R1330", "purpose": "TREAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

whole := {"type": "", "id": "", "patient": "", "categories": [], "labels": [], "author_orgs": []}

patient := {"type": "Patient", "id": "p1", "patient": "Patient/p1", "categories": ["demographics"], "labels": [], "author_orgs": ["LA001"]}

none := {"related": false, "objected": false, "self": false, "known_to_council": false, "provider_named": false}

known := object.union(none, {"known_to_council": true})

decide(op, subject, resource, ctx) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": op, "subject": subject, "resource": resource, "context": ctx}
}

test_social_worker_draws_and_reports if {
	every op in ["$case-file-sample", "$case-file-report"] {
		d := decide(op, social_worker, whole, none)
		d.allow
		d.reasons == ["CASEAUDIT-13-case-file-audit"]
	}
}

test_ig_lead_draws_for_an_operational_review if decide("$case-file-sample", council_ig, whole, none).allow

test_reviews_a_person_the_council_knows if decide("$case-file-review", social_worker, patient, known).allow

test_not_a_person_the_council_does_not_know if {
	d := decide("$case-file-review", social_worker, patient, none)
	not d.allow
	d.disclosed == ["CASEAUDIT-13-case-file-audit"]
}

# A sample is of the whole record, a review of one person: not the other
# way round.
test_scopes_do_not_mix if {
	not decide("$case-file-sample", social_worker, patient, known).allow
	not decide("$case-file-report", social_worker, patient, known).allow
	not decide("$case-file-review", social_worker, whole, known).allow
}

test_roles_without_data_quality_refused if {
	every op in ["$case-file-sample", "$case-file-report"] {
		not decide(op, council_carer, whole, none).allow
	}
	not decide("$case-file-review", council_carer, patient, known).allow
}

test_nhs_and_providers_refused if {
	every s in [gp, provider] {
		not decide("$case-file-sample", s, whole, none).allow
		not decide("$case-file-review", s, patient, known).allow
	}
}

test_people_refused if not decide("$case-file-review", person, patient, object.union(known, {"self": true})).allow

test_wrong_purpose_refused if not decide("$case-file-sample", object.union(social_worker, {"purpose": "HRESCH"}), whole, none).allow

# The data-quality report is still its own rule.
test_data_quality_unchanged if decide("$data-quality", social_worker, whole, none).reasons == ["QUALITY-9-data-quality"]

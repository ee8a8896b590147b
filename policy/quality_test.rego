# Who may run the data-quality report (quality.rego).
package gateway.quality_test

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

report(subject, resource, ctx) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": "$data-quality", "subject": subject, "resource": resource, "context": ctx}
}

test_social_worker_runs_the_whole_report if {
	d := report(social_worker, whole, none)
	d.allow
	d.reasons == ["QUALITY-9-data-quality"]
}

test_ig_lead_runs_it_for_a_review if report(council_ig, whole, none).allow

test_a_person_the_council_knows if report(social_worker, patient, known).allow

test_not_a_person_the_council_does_not_know if {
	d := report(social_worker, patient, none)
	not d.allow
	d.disclosed == ["QUALITY-9-data-quality"]
}

test_roles_without_data_quality_refused if not report(council_carer, whole, none).allow

test_nhs_and_providers_refused if {
	not report(gp, whole, none).allow
	not report(provider, whole, none).allow
}

test_people_refused if not report(person, patient, object.union(none, {"self": true})).allow

test_wrong_purpose_refused if not report(object.union(social_worker, {"purpose": "HRESCH"}), whole, none).allow

run(op, subject, resource, ctx) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": op, "subject": subject, "resource": resource, "context": ctx}
}

test_snapshots_and_trend_for_the_same_staff if {
	d := run("$data-quality-trend", social_worker, whole, none)
	d.allow
	d.reasons == ["QUALITY-9-data-quality"]
	run("$data-quality-snapshot", council_ig, whole, none).allow
}

test_snapshots_and_trend_refused_to_others if {
	not run("$data-quality-snapshot", council_carer, whole, none).allow
	not run("$data-quality-trend", gp, whole, none).allow
	not run("$data-quality-trend", provider, whole, none).allow
}

test_snapshots_and_trend_are_of_the_whole_record_only if {
	d := run("$data-quality-trend", social_worker, patient, known)
	not d.allow
	d.disclosed == ["QUALITY-9-data-quality"]
}

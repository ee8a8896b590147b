# Rights requests: who raises, answers and exports them (rights.rego).
package gateway.rights_test

import data.gateway.authz

social_worker := {"kind": "user", "id": "u-la", "org": "LA001", "role": "R1330", "purpose": "TREAT", "break_glass_reason": ""}

council_carer := object.union(social_worker, {"role": "R1460"})

gp := {"kind": "user", "id": "u-gp", "org": "Y99001", "role": "R0260", "purpose": "TREAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

whole := {"type": "", "id": "", "patient": "", "categories": [], "labels": [], "author_orgs": []}

patient := {"type": "Patient", "id": "p1", "patient": "Patient/p1", "categories": ["demographics"], "labels": [], "author_orgs": ["LA001"]}

task := {"type": "Task", "id": "", "patient": "Patient/p1", "categories": ["rights-request"], "labels": [], "author_orgs": []}

none := {"related": false, "objected": false, "self": false, "known_to_council": false, "provider_named": false}

known := object.union(none, {"known_to_council": true})

self := object.union(none, {"self": true})

op(name, subject, resource, ctx) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": name, "subject": subject, "resource": resource, "context": ctx}
}

write(subject, resource, ctx) := d if {
	d := authz.decision with input as {"action": "write", "subject": subject, "resource": resource, "context": ctx}
}

test_person_raises_a_request_about_themselves if {
	d := write(person, task, self)
	d.allow
	d.reasons == ["SELF-6-request"]
}

test_person_refused_a_request_about_another if {
	d := write(person, task, none)
	not d.allow
	"SELF-6-request" in d.disclosed
}

test_person_refused_other_writes if {
	obs := {"type": "Observation", "id": "", "patient": "Patient/p1", "categories": ["other"], "labels": [], "author_orgs": []}
	not write(person, obs, self).allow
}

test_person_never_changes_a_request if {
	d := authz.decision with input as {"action": "write", "subject": person, "resource": task, "context": self, "stored": task}
	not d.allow
}

test_social_worker_answers_for_a_known_person if {
	every name in ["$rights-request", "$accept", "$decline", "$recipients", "$subject-access"] {
		d := op(name, social_worker, patient, known)
		d.allow
		d.reasons == ["RIGHTS-10-requests"]
	}
}

test_social_worker_lists_overdue_over_the_whole_record if op("$overdue", social_worker, whole, none).allow

test_not_for_a_person_the_council_does_not_know if {
	d := op("$accept", social_worker, patient, none)
	not d.allow
	d.disclosed == ["RIGHTS-10-requests"]
}

test_roles_without_rights_refused if not op("$decline", council_carer, patient, known).allow

test_nhs_refused if not op("$subject-access", gp, patient, known).allow

test_person_exports_their_own_record if {
	d := op("$subject-access", person, patient, self)
	d.allow
	d.reasons == ["SELF-6-subject-access"]
}

test_person_refused_another_export if {
	d := op("$subject-access", person, patient, none)
	not d.allow
	d.disclosed == ["SELF-6-subject-access"]
}

test_person_does_not_answer_requests if {
	d := op("$accept", person, patient, self)
	not d.allow
	d.disclosed == ["SELF-6-request"]
}

# Who may manage and approve policy versions (governance.rego).
package gateway.governance_test

import data.gateway.authz

ig_lead := {"kind": "user", "id": "u-ig", "org": "SYN01", "role": "R0001", "purpose": "HOPERAT", "break_glass_reason": ""}

caldicott := object.union(ig_lead, {"id": "u-cg", "role": "R5105"})

social_worker := object.union(ig_lead, {"id": "u-sw", "role": "R1330"})

trust_ig := object.union(caldicott, {"org": "RJ1"})

council_system := {"kind": "system", "id": "cm", "org": "LA001", "role": "", "purpose": "COC", "break_glass_reason": ""}

op(name, subject) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": name, "subject": subject, "resource": {"type": "", "id": "", "patient": "", "categories": [], "labels": [], "author_orgs": []}, "context": {}}
}

test_ig_lead_manages_but_does_not_approve if {
	d := op("$policy-manage", ig_lead)
	d.allow
	d.reasons == ["POLICY-10-manage"]
	a := op("$policy-approve", ig_lead)
	not a.allow
	a.disclosed == ["POLICY-11-approve"]
}

test_caldicott_guardian_manages_and_approves if {
	op("$policy-manage", caldicott).allow
	d := op("$policy-approve", caldicott)
	d.allow
	d.reasons == ["POLICY-11-approve"]
	d.disclosed == []
}

test_nobody_else if {
	every s in [social_worker, trust_ig, council_system] {
		not op("$policy-manage", s).allow
		not op("$policy-approve", s).allow
	}
}

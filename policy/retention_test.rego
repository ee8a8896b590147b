# Who may appraise, dispose of, hold and extend records (retention.rego).
package gateway.retention_test

import data.gateway.authz

ig := {"kind": "user", "id": "u-ig", "org": "SYN01", "role": "R0001", "purpose": "HOPERAT", "break_glass_reason": ""}

caldicott := object.union(ig, {"id": "u-cg", "role": "R5105"})

social_worker := {"kind": "user", "id": "u-sw", "org": "SYN01", "role": "R1330", "purpose": "TREAT", "break_glass_reason": ""}

gp := {"kind": "user", "id": "u-gp", "org": "Y99001", "role": "R0260", "purpose": "TREAT", "break_glass_reason": ""}

# An IG role at an NHS trust: the role class, but not a council that keeps the audit trail.
trust_ig := object.union(ig, {"org": "RJ1"})

system := {"kind": "system", "id": "client-la", "org": "SYN01", "role": "", "purpose": "HOPERAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

whole := {"type": "", "id": "", "patient": "", "categories": [], "labels": [], "author_orgs": []}

decide(subject, op) := d if {
	d := authz.operation_decision with input as {"action": "operation", "operation": op, "subject": subject, "resource": whole, "context": {}}
}

test_records_managers_appraise_and_decide if {
	every op in {"$disposal-due", "$disposal-certificate", "$disposal", "$disposal-approve", "$legal-hold", "$retention-extend"} {
		decide(ig, op).allow
		decide(caldicott, op).allow
	}
}

test_each_operation_names_its_rule if {
	decide(ig, "$disposal-due").reasons == ["RETAIN-12-appraisal"]
	decide(ig, "$disposal-certificate").reasons == ["RETAIN-12-appraisal"]
	decide(ig, "$disposal").reasons == ["RETAIN-12-disposal"]
	decide(ig, "$disposal-approve").reasons == ["RETAIN-12-disposal"]
	decide(ig, "$legal-hold").reasons == ["RETAIN-12-hold"]
	decide(ig, "$retention-extend").reasons == ["RETAIN-12-hold"]
}

test_others_are_refused_and_told_the_rule if {
	every s in [social_worker, gp, trust_ig, person] {
		every op in {"$disposal-due", "$disposal", "$disposal-approve", "$legal-hold", "$retention-extend"} {
			d := decide(s, op)
			not d.allow
			count(d.disclosed) == 1
		}
	}
}

test_a_system_never_decides_a_disposal if {
	not decide(system, "$disposal").allow
	not decide(system, "$disposal-approve").allow
	not decide(system, "$legal-hold").allow
}

test_purpose_matters if {
	not decide(object.union(ig, {"purpose": "RESCH"}), "$disposal-due").allow
}

test_the_role_class_capability_decides if {
	d := decide(ig, "$disposal") with data.dsa.role_classes.ig.records_manager as false
	not d.allow
}

test_rule_ids_are_listed if {
	every id in {"RETAIN-12-appraisal", "RETAIN-12-disposal", "RETAIN-12-hold"} {
		id in authz.rule_ids
	}
}

# Changing this policy (package policy/versions, docs/policy-guide.md):
# who may read, propose, test, activate and roll back policy versions
# ($policy-manage, POLICY-10-manage) and who may approve one
# ($policy-approve, POLICY-11-approve). Both belong to staff of an
# organisation whose kind keeps the audit trail (reads_audit: the council
# that hosts the shared record): managing, the role classes that review
# the audit trail (audit: true) or approve (approve_policy: true);
# approving, only those with approve_policy: true (the Caldicott
# Guardian). The gateway also refuses an approval by the version's own
# author, whatever this policy says: two people, always. The decision of
# the ACTIVE version is the one asked.
package gateway.authz

# METADATA
# title: Information governance manages the policy
# description: >-
#   Information governance leads and approvers of the organisation hosting
#   the shared record read, propose, test, activate and roll back versions
#   of this policy, and explain its decisions.
# custom:
#   id: POLICY-10-manage
operation_decision := policy_decision("POLICY-10-manage", policy_manage_allowed) if {
	input.action == "operation"
	input.operation == "$policy-manage"
}

# METADATA
# title: The Caldicott Guardian approves policy changes
# description: >-
#   A change to the policy takes effect only when someone with the
#   approver role (the Caldicott Guardian) approves it, and never the
#   person who proposed it: two people, always.
# custom:
#   id: POLICY-11-approve
operation_decision := policy_decision("POLICY-11-approve", policy_approve_allowed) if {
	input.action == "operation"
	input.operation == "$policy-approve"
}

policy_decision(id, allowed) := {
	"allow": allowed,
	"reasons": [id],
	"disclosed": disclosed,
	"redactions": [],
	"obligations": [],
} if {
	disclosed := [x | x := id; not allowed]
}

default policy_manage_allowed := false

policy_manage_allowed if {
	policy_staff
	policy_role_class.audit == true
}

policy_manage_allowed if policy_approve_allowed

default policy_approve_allowed := false

policy_approve_allowed if {
	policy_staff
	policy_role_class.approve_policy == true
}

policy_staff if {
	input.subject.kind == "user"
	kind.reads_audit == true
}

policy_role_class := data.dsa.role_classes[role_class]

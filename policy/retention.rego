# Retention and disposal of records (docs/records-retention.md): the
# appraisal list of records past their retention ($disposal-due), the
# decisions on them (proposing a disposal, approving it, placing or
# lifting a legal hold, extending retention) and the certificates of
# destruction. Nothing here destroys anything by itself: the gateway
# lists, people decide, and a disposal needs a second records manager
# to approve it (the gateway also refuses an approval by the proposer,
# whatever this policy says).
package gateway.authz

# METADATA
# title: Records past their retention are appraised by a records manager
# description: >-
#   The appraisal list ($disposal-due) and the certificates of destruction
#   ($disposal-certificate) are for council staff (an organisation kind
#   that keeps the audit trail: reads_audit) whose role class manages
#   records (records_manager: true in data.dsa.role_classes), for direct
#   care or an operational review. The list names people, record classes
#   and resource ids, never clinical content.
# custom:
#   id: RETAIN-12-appraisal
operation_decision := retention_decision("RETAIN-12-appraisal", retention_allowed) if {
	input.action == "operation"
	input.operation in {"$disposal-due", "$disposal-certificate"}
}

# METADATA
# title: Records are disposed of only by a records manager
# description: >-
#   Proposing a disposal ($disposal: what would go, a dry run until
#   approved) and approving it ($disposal-approve: the records are purged
#   and a destruction record written) belong to a named person (a user
#   token, never a system) of the council whose role class manages
#   records. The gateway refuses an approval by the proposer and any
#   disposal of a held record (409).
# custom:
#   id: RETAIN-12-disposal
operation_decision := retention_decision("RETAIN-12-disposal", retention_decider) if {
	input.action == "operation"
	input.operation in {"$disposal", "$disposal-approve"}
}

# METADATA
# title: Legal holds and extensions are placed by a records manager
# description: >-
#   Placing or lifting a legal hold ($legal-hold) and extending a
#   record's retention ($retention-extend), each with a reason, belong to
#   a named records manager of the council, as disposals do.
# custom:
#   id: RETAIN-12-hold
operation_decision := retention_decision("RETAIN-12-hold", retention_decider) if {
	input.action == "operation"
	input.operation in {"$legal-hold", "$retention-extend"}
}

retention_decision(id, allowed) := {
	"allow": allowed,
	"reasons": [id],
	"disclosed": disclosed,
	"redactions": [],
	"obligations": [],
} if {
	disclosed := [x | x := id; not allowed]
}

default retention_allowed := false

retention_allowed if {
	input.subject.kind == "user"
	kind.reads_audit == true
	data.dsa.role_classes[role_class].records_manager == true
	audit_purpose
}

# Decisions are a named person's: retention_allowed asks for a user
# token; the gateway records the token's subject as the decider (the
# policy does not read subject ids, so its plans stay shared by role).
retention_decider := retention_allowed

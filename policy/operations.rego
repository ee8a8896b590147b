# Operations on a person's record other than reading it, decided by
# operation_decision for input.action "operation": input.operation names the
# operation, input.resource is the Patient it is about and input.context the
# gateway's facts about that patient. The decision has the shape of the
# others (allow, reasons, disclosed, redactions, obligations); an operation
# this policy does not know is refused (ACTION-0-unknown).
package gateway.authz

default operation_decision := {
	"allow": false,
	"reasons": ["ACTION-0-unknown"],
	"disclosed": ["ACTION-0-unknown"],
	"redactions": [],
	"obligations": [],
}

operation_decision := access_report_decision if {
	input.action == "operation"
	input.operation == "$who-accessed"
}

# $who-accessed, the person's access report: who has looked at their record.
# It is the person's own (SELF-6-access-report), and council adult social
# care staff who know the person may read it to help them
# (AUDIT-8-access-report: organisation kinds in data.dsa.access_report_kinds,
# a known role, for direct care or an audit review). Nobody else reads it,
# not even an NHS organisation with a care relationship such as the
# person's GP: the report shows every organisation that looked, which is
# the person's to share.
access_report_decision := {
	"allow": true,
	"reasons": sort(access_report_grants),
	"disclosed": [],
	"redactions": [],
	"obligations": [],
} if {
	count(access_report_grants) > 0
} else := {
	"allow": false,
	"reasons": ids,
	"disclosed": ids,
	"redactions": [],
	"obligations": [],
} if {
	ids := [id | some id in rule_ids; id in access_report_failures]
	count(ids) > 0
} else := {
	"allow": false,
	"reasons": ["DEFAULT-deny"],
	"disclosed": ["DEFAULT-deny"],
	"redactions": [],
	"obligations": [],
}

# METADATA
# title: A person may see who has looked at their record
# description: >-
#   A person may see their access report: every organisation and role that
#   looked at their record, when and why.
# custom:
#   id: SELF-6-access-report
access_report_grants contains "SELF-6-access-report" if {
	person
	self_purpose
	is_self(input.resource, input.context)
}

# METADATA
# title: Council staff may fetch a person's access report for them
# description: >-
#   Council adult social care staff who know the person may fetch the
#   person's access report to help them. Nobody else reads it, not even
#   the person's GP: it shows every organisation that looked, which is the
#   person's to share.
# custom:
#   id: AUDIT-8-access-report
access_report_grants contains "AUDIT-8-access-report" if {
	staff
	org.kind in data.dsa.access_report_kinds
	role_class
	audit_purpose
	known(input.resource, input.context)
}

access_report_failures contains "SELF-6-access-report" if person

access_report_failures contains "AUDIT-8-access-report" if staff

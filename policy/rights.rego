# A person's data protection rights over their record: rectification and
# subject access (UK GDPR articles 16 and 15; the ICO gives one month for
# each). Requests are FHIR Tasks (category rights-request).
#
# SELF-6-request: a person raises a request about their own record: they
# create a Task whose for is their own Patient (never change one: requests
# move on only by the council's $accept and $decline).
#
# RIGHTS-10-requests: council staff (organisation kinds in
# data.dsa.rights_kinds) whose role class handles rights requests (rights:
# true in data.dsa.role_classes), for direct care or an operational review,
# raise requests for, answer ($accept, $decline), trace ($recipients) and
# export ($subject-access) the record of a person the council knows, and
# list the overdue requests over the whole record ($overdue). What they
# then write is decided as any write (WRITE-7), what they read as any read.
#
# SELF-6-subject-access: a person exports their own record
# ($subject-access); what the export holds is decided as the person's own
# reads (SELF-6, less SELF-6-third-party).
package gateway.authz

# The path's rule is in path_rules (paths.rego).
open_paths contains "self-request" if {
	write
	person
	self_purpose
}

path("self-request", r, c) if {
	"rights-request" in r.categories
	is_self(r, c)
	not input.stored
}

# METADATA
# title: A person may ask for their record to be corrected
# description: >-
#   A person may raise a request about their own record (for example to
#   correct an inaccuracy). They create the request; only the council
#   moves it on, by accepting or declining it, within one month.
# custom:
#   id: SELF-6-request
record_checks contains "SELF-6-request" if {
	person
	write
}

record_fails("SELF-6-request", r, c) if not path("self-request", r, c)

rights_operations := {"$rights-request", "$accept", "$decline", "$recipients", "$overdue", "$subject-access"}

operation_decision := rights_decision if {
	input.action == "operation"
	input.operation in rights_operations
}

rights_decision := {
	"allow": true,
	"reasons": sort(rights_grants),
	"disclosed": [],
	"redactions": [],
	"obligations": [],
} if {
	count(rights_grants) > 0
} else := {
	"allow": false,
	"reasons": ids,
	"disclosed": ids,
	"redactions": [],
	"obligations": [],
} if {
	ids := [id | some id in rule_ids; id in rights_failures]
	count(ids) > 0
} else := {
	"allow": false,
	"reasons": ["DEFAULT-deny"],
	"disclosed": ["DEFAULT-deny"],
	"redactions": [],
	"obligations": [],
}

# METADATA
# title: Council staff handle people's rights requests
# description: >-
#   Council staff whose role handles rights requests raise, answer and
#   trace requests for correction and subject access for people known to
#   the council, and list requests that are overdue. What they then write
#   or read is decided as any other write or read.
# custom:
#   id: RIGHTS-10-requests
rights_grants contains "RIGHTS-10-requests" if {
	staff
	org.kind in data.dsa.rights_kinds
	data.dsa.role_classes[role_class].rights == true
	audit_purpose
	rights_scope
}

# METADATA
# title: A person may have a copy of their record
# description: >-
#   A person may export a copy of their own record (subject access). The
#   copy holds what they could read themselves, less information about
#   other people.
# custom:
#   id: SELF-6-subject-access
rights_grants contains "SELF-6-subject-access" if {
	input.operation == "$subject-access"
	person
	self_purpose
	is_self(input.resource, input.context)
}

# $overdue is over the whole record (no resource); the rest are about a
# person the council knows.
rights_scope if {
	input.operation == "$overdue"
	input.resource.type == ""
}

rights_scope if {
	input.operation != "$overdue"
	input.resource.type == "Patient"
	known(input.resource, input.context)
}

rights_failures contains "SELF-6-subject-access" if {
	person
	input.operation == "$subject-access"
}

rights_failures contains "SELF-6-request" if {
	person
	input.operation != "$subject-access"
}

rights_failures contains "RIGHTS-10-requests" if staff

# CASEAUDIT-13-case-file-audit: case-file audit sampling. The council's
# quality staff (the same people who run $data-quality: organisation kinds
# in data.dsa.data_quality_kinds, a role class with data_quality: true,
# for direct care or an operational review) draw samples of case files,
# read them and their checklist ($case-file-sample, over the whole record)
# and their results ($case-file-report), and review one person's case file
# ($case-file-review, on a Patient known to the council). What a reviewer
# sees of the case file is decided resource by resource as their own
# reads are: this rule lets them review, not read more.
package gateway.authz

case_file_operations := {"$case-file-sample", "$case-file-report", "$case-file-review"}

operation_decision := case_file_decision if {
	input.action == "operation"
	input.operation in case_file_operations
}

case_file_decision := {
	"allow": true,
	"reasons": ["CASEAUDIT-13-case-file-audit"],
	"disclosed": [],
	"redactions": [],
	"obligations": [],
} if {
	case_file_allowed
} else := {
	"allow": false,
	"reasons": ["CASEAUDIT-13-case-file-audit"],
	"disclosed": ["CASEAUDIT-13-case-file-audit"],
	"redactions": [],
	"obligations": [],
}

# METADATA
# title: The council audits a sample of its case files
# description: >-
#   Council staff whose role runs data-quality reports may draw a random
#   sample of case files, review each against the council's checklist and
#   report the results. A reviewer sees of a case file only what they could
#   read anyway, and only of people known to the council.
# custom:
#   id: CASEAUDIT-13-case-file-audit
case_file_allowed if {
	quality_staff
	case_file_scope
}

# Samples and their results are about the whole record (no resource);
# a review is about one person the council knows.
case_file_scope if {
	input.operation in {"$case-file-sample", "$case-file-report"}
	input.resource.type == ""
}

case_file_scope if {
	input.operation == "$case-file-review"
	input.resource.type == "Patient"
	known(input.resource, input.context)
}

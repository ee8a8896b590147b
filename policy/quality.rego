# QUALITY-9-data-quality: the data-quality report ($data-quality), the
# data reports the council runs to find gaps and errors in its records.
# Council staff (organisation kinds in data.dsa.data_quality_kinds) whose
# role class runs them (data_quality: true in data.dsa.role_classes), for
# direct care or an operational review, run it over the whole record or
# over one person they know. Every item the report lists is then decided
# as a read of the resource it names: the report shows nothing its reader
# could not read. The same staff take snapshots of the report's counts
# ($data-quality-snapshot) and read their trend ($data-quality-trend),
# both over the whole record only: counts per check, no people, no
# records.
package gateway.authz

data_quality_operations := {"$data-quality", "$data-quality-snapshot", "$data-quality-trend"}

operation_decision := data_quality_decision if {
	input.action == "operation"
	input.operation in data_quality_operations
}

data_quality_decision := {
	"allow": true,
	"reasons": ["QUALITY-9-data-quality"],
	"disclosed": [],
	"redactions": [],
	"obligations": [],
} if {
	data_quality_allowed
} else := {
	"allow": false,
	"reasons": ["QUALITY-9-data-quality"],
	"disclosed": ["QUALITY-9-data-quality"],
	"redactions": [],
	"obligations": [],
}

# METADATA
# title: The council checks the quality of its records
# description: >-
#   Council staff whose role runs data-quality reports may run them over
#   the whole record or one person known to the council, to find gaps and
#   errors. The report lists only what its reader could read anyway.
# custom:
#   id: QUALITY-9-data-quality
data_quality_allowed if {
	quality_staff
	data_quality_scope
}

# Council staff whose role class runs the council's quality work (data
# reports, case-file audits), for direct care or an operational review.
quality_staff if {
	staff
	org.kind in data.dsa.data_quality_kinds
	data.dsa.role_classes[role_class].data_quality == true
	audit_purpose
}

# The whole record (no resource), or, for the report itself, a person
# the council knows.
data_quality_scope if input.resource.type == ""

data_quality_scope if {
	input.operation == "$data-quality"
	input.resource.type == "Patient"
	known(input.resource, input.context)
}

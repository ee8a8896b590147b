# Why a request was denied: every rule id whose condition failed, in the
# order of rule_ids. Only used to explain a denial; whether to allow is
# decided by the paths alone.
#
# A rule fails either because of who is asking (subject_failures, rule ids
# that fail whatever the record, evaluated once per evaluation) or because of
# the record: record_checks holds the record-level checks that apply to this
# subject (once per evaluation) and record_fails(id, r, c) tests the record
# (per denied record, for the applicable checks only).
package gateway.authz

rule_ids := [
	"ACTION-0-unknown",
	"DSA-1-signatory",
	"DSA-1-provider-own-records",
	"PURPOSE-2-direct-care",
	"PURPOSE-2-break-glass",
	"REL-3-relationship",
	"REL-3-known-to-council",
	"NTK-4-role",
	"NTK-4-need-to-know",
	"NTK-4-vocabulary",
	"OBJ-5-objection",
	"SELF-6",
	"SELF-6-third-party",
	"WRITE-7",
	"WRITE-7-provider-named",
	"WRITE-7-provider-own",
	"WRITE-7-relationship",
	"WRITE-7-labels",
	"WRITE-7-source",
	"AUDIT-8-ig-review",
	"SELF-6-access-report",
	"AUDIT-8-access-report",
	"QUALITY-9-data-quality",
	"SELF-6-request",
	"SELF-6-subject-access",
	"RIGHTS-10-requests",
	"COHORT-11-own-cohort",
]

record_failures(r, c) := {id | some id in record_checks; record_fails(id, r, c)}

# The failures in rule_ids order, or DEFAULT-deny when none explains it.
ordered_reasons(failures) := ids if {
	all := subject_failures | failures
	ids := [id | some id in rule_ids; id in all]
	count(ids) > 0
} else := ["DEFAULT-deny"]

subject_failures contains "ACTION-0-unknown" if {
	not read_like
	not write
}

subject_failures contains "DSA-1-signatory" if {
	staff
	read_like
	not reads in {"relationship", "known-to-council", "own-records"}
}

subject_failures contains "DSA-1-signatory" if {
	not staff
	not person
}

record_checks contains "DSA-1-provider-own-records" if {
	staff
	read_like
	reads == "own-records"
}

record_fails("DSA-1-provider-own-records", r, _) if {
	not input.subject.org in r.author_orgs
}

subject_failures contains "PURPOSE-2-direct-care" if {
	staff
	not direct_care
	not break_glass_requested
}

subject_failures contains "PURPOSE-2-direct-care" if {
	person
	not self_purpose
}

subject_failures contains "PURPOSE-2-break-glass" if {
	staff
	break_glass_requested
	not break_glass
}

record_checks contains "REL-3-relationship" if {
	staff
	read_like
	reads == "relationship"
	direct_care
}

record_fails("REL-3-relationship", r, c) if {
	not related(r, c)
	not "directory" in r.categories
	not "cohort" in r.categories
}

record_checks contains "REL-3-known-to-council" if {
	staff
	read_like
	reads == "known-to-council"
}

record_fails("REL-3-known-to-council", r, c) if {
	not known(r, c)
	not "directory" in r.categories
	not "cohort" in r.categories
}

subject_failures contains "NTK-4-role" if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
	not role_class
}

record_checks contains "NTK-4-need-to-know" if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
	role_class
}

record_fails("NTK-4-need-to-know", r, _) if {
	not need_to_know(r)
}

record_checks contains "NTK-4-vocabulary" if {
	read_like
}

record_fails("NTK-4-vocabulary", r, _) if {
	not known_categories(r.categories)
}

record_checks contains "OBJ-5-objection" if {
	staff
	read_like
	reads == "relationship"
	direct_care
}

record_fails("OBJ-5-objection", r, c) if {
	objected(r, c)
}

record_checks contains "SELF-6" if {
	person
}

record_fails("SELF-6", r, c) if {
	not is_self(r, c)
}

subject_failures contains "SELF-6" if {
	person
	write
}

record_checks contains "SELF-6-third-party" if {
	person
	read_like
}

record_fails("SELF-6-third-party", r, _) if {
	third_party(r)
}

subject_failures contains "WRITE-7" if {
	staff
	write
	not writes in {"any", "provider-named"}
}

record_checks contains "WRITE-7-provider-named" if {
	staff
	write
	writes == "provider-named"
}

record_fails("WRITE-7-provider-named", _, c) if {
	not c.provider_named == true
}

record_checks contains "AUDIT-8-ig-review" if {
	staff
	read_like
	not "audit" in open_paths
}

record_fails("AUDIT-8-ig-review", r, _) if {
	"audit" in r.categories
}

# What a refusal may tell the caller (the decision's disclosed; the audit
# trail keeps every reason). A rule in disclosing_rules fails because of
# something about the person: they objected to sharing (OBJ-5-objection),
# the record is restricted, safeguarding or otherwise outside the caller's
# need to know (NTK-4-need-to-know), or it holds third-party content
# (SELF-6-third-party). The caller is told such a rule only when it is all
# that failed, that is when the caller passes every other rule (a GP with
# the person on its list learns that the person objected); otherwise the
# caller is told only the rules that say nothing about the person (a trust
# with no care relationship learns REL-3-relationship, never that the
# person objected).
disclosing_rules := {"OBJ-5-objection", "NTK-4-need-to-know", "SELF-6-third-party"}

disclosed_reasons(failures) := ids if {
	ids := ordered_reasons(failures)
	every id in ids {
		id in disclosing_rules
	}
} else := ids if {
	ids := [id | some id in ordered_reasons(failures); not id in disclosing_rules]
	count(ids) > 0
} else := ["DEFAULT-deny"]

# WRITE-7-provider-own, WRITE-7-relationship, WRITE-7-labels,
# WRITE-7-source: what a commissioned provider may not write (paths.rego).
record_checks contains id if {
	staff
	write
	writes == "provider-named"
	some id in ["WRITE-7-provider-own", "WRITE-7-relationship", "WRITE-7-labels", "WRITE-7-source"]
}

record_fails("WRITE-7-provider-own", _, _) if changes_others

record_fails("WRITE-7-relationship", r, _) if relationship_type(r)

record_fails("WRITE-7-labels", r, _) if removes_label(r)

record_fails("WRITE-7-source", r, _) if not own_authorship(r)

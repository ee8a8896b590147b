# COHORT-11-own-cohort: cohorts (FHIR Groups, record category cohort) are
# lists of people an organisation defines for itself, such as a trust's
# patients with an active episode, to export their records in bulk
# (Group/{id}/$export). A Group names no patient of its own (it is in no
# person's compartment) but lists many, so it is not a directory record:
#
#   - an NHS organisation or the council (reads relationship or
#     known-to-council), for direct care, in a known role class that may
#     see cohorts, reads the Groups its own organisation wrote (author_orgs,
#     which the gateway stamps on every write) and no other's, and no
#     relationship with the members is needed to read the list; what is
#     exported of the members is decided resource by resource as any read;
#   - the same callers create, change and delete Groups that their
#     organisation alone wrote, under its own name only; the council's
#     adult social care also writes any record (write-council);
#   - breaking the glass opens a person's record, never another
#     organisation's cohorts (paths.rego).
#
# The paths' rules are in path_rules (paths.rego).
package gateway.authz

cohort_reader if {
	staff
	reads in {"relationship", "known-to-council"}
	direct_care
	role_class
}

open_paths contains "cohort" if {
	read_like
	cohort_reader
}

path("cohort", r, _) if {
	"cohort" in r.categories
	input.subject.org in r.author_orgs
	need_to_know(r)
}

open_paths contains "write-cohort" if {
	write
	cohort_reader
}

# The write-cohort path allows Groups only: a caller with no other write
# path (an NHS organisation) is refused a write of any other type before
# its body is read (Engine.NeverFor).
path_types := {"write-cohort": ["Group"]}

path("write-cohort", r, _) if {
	r.type == "Group"
	own_authorship(r)
	not changes_others
}

# METADATA
# title: An organisation reads and writes only its own cohorts
# description: >-
#   A cohort (a FHIR Group listing people, for example a trust's patients
#   with an active episode, used to export their records in bulk) is read
#   and changed only by staff of the organisation that wrote it, for
#   direct care, in a role class that may see cohorts. Another
#   organisation's cohorts are refused; what is exported of the people in a
#   cohort is decided record by record, as any read.
# custom:
#   id: COHORT-11-own-cohort
record_checks contains "COHORT-11-own-cohort" if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
}

record_fails("COHORT-11-own-cohort", r, _) if {
	read_like
	"cohort" in r.categories
	not input.subject.org in r.author_orgs
}

record_checks contains "COHORT-11-own-cohort" if {
	staff
	write
	reads in {"relationship", "known-to-council"}
	writes != "any"
}

record_fails("COHORT-11-own-cohort", r, _) if {
	write
	r.type == "Group"
	not own_authorship(r)
}

record_fails("COHORT-11-own-cohort", r, _) if {
	write
	r.type == "Group"
	changes_others
}

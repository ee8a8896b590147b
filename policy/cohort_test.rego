package gateway.cohort_test

import data.gateway.authz

# COHORT-11-own-cohort: Groups are read and written by the organisation
# that defined them.

trust_doctor := {"kind": "user", "id": "u-rj1", "org": "RJ1", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

trust_system := {"kind": "system", "id": "rj1-epr", "org": "RJ1", "role": "", "purpose": "TREAT", "break_glass_reason": ""}

other_trust := object.union(trust_doctor, {"id": "u-ryq", "org": "RYQ"})

council_sw := {"kind": "user", "id": "u-la", "org": "LA001", "role": "R1330", "purpose": "COC", "break_glass_reason": ""}

provider_carer := {"kind": "user", "id": "u-cp", "org": "CP001", "role": "R1460", "purpose": "TREAT", "break_glass_reason": ""}

researcher := {"kind": "user", "id": "u-x", "org": "X99", "role": "R8000", "purpose": "TREAT", "break_glass_reason": ""}

person := {"kind": "person", "id": "p1", "org": "", "role": "", "purpose": "PATRQT", "break_glass_reason": "", "nhs_number": "9990000018"}

trust_cohort := {"type": "Group", "id": "g1", "patient": "", "categories": ["cohort"], "labels": [], "author_orgs": ["RJ1"]}

council_cohort := object.union(trust_cohort, {"id": "g2", "author_orgs": ["LA001"]})

shared_cohort := object.union(trust_cohort, {"author_orgs": ["LA001", "RJ1"]})

no_facts := {"related": false, "objected": false, "self": false, "known_to_council": false, "provider_named": false}

all_facts := {"related": true, "objected": true, "self": true, "known_to_council": true, "provider_named": true}

read_of(subject, resource) := d if {
	d := authz.decision with input as {"action": "read", "subject": subject, "resource": resource, "context": no_facts}
}

write_of(subject, resource, stored) := d if {
	d := authz.decision with input as {"action": "write", "subject": subject, "resource": resource, "stored": stored, "context": no_facts}
}

create_of(subject, resource) := d if {
	d := authz.decision with input as {"action": "write", "subject": subject, "resource": resource, "context": no_facts}
}

test_owner_reads_its_cohort_without_relationships if {
	every s in [trust_doctor, trust_system] {
		d := read_of(s, trust_cohort)
		d.allow
		"COHORT-11-own-cohort" in d.reasons
	}
	read_of(council_sw, council_cohort).allow
}

test_others_never_read_a_cohort if {
	d := read_of(other_trust, trust_cohort)
	not d.allow
	d.reasons == ["COHORT-11-own-cohort"]
	d.disclosed == ["COHORT-11-own-cohort"]
	not read_of(council_sw, trust_cohort).allow
	not read_of(trust_doctor, council_cohort).allow
	not read_of(provider_carer, trust_cohort).allow
	not read_of(researcher, trust_cohort).allow
	not read_of(person, trust_cohort).allow
}

# Facts about patients open nothing: a Group names no patient of its own.
test_facts_do_not_open_a_cohort if {
	not authz.decision.allow with input as {"action": "read", "subject": other_trust, "resource": trust_cohort, "context": all_facts}
}

test_break_glass_does_not_open_a_cohort if {
	btg := object.union(other_trust, {"purpose": "BTG", "break_glass_reason": "collapsed"})
	not read_of(btg, trust_cohort).allow
}

test_purpose_and_role_still_apply if {
	not read_of(object.union(trust_doctor, {"purpose": "HRESCH"}), trust_cohort).allow
	not read_of(object.union(trust_doctor, {"role": "R9999"}), trust_cohort).allow
}

test_trust_writes_its_own_cohorts if {
	d := create_of(trust_doctor, trust_cohort)
	d.allow
	d.reasons == ["COHORT-11-own-cohort", "PURPOSE-2-direct-care"]
	write_of(trust_system, trust_cohort, trust_cohort).allow
}

test_trust_writes_nothing_else if {
	d := create_of(trust_doctor, object.union(trust_cohort, {"type": "Observation", "categories": ["visit"]}))
	not d.allow
	d.reasons == ["WRITE-7"]

	# a category tag does not make another type a cohort
	not create_of(trust_doctor, object.union(trust_cohort, {"type": "Observation"})).allow
}

test_trust_may_not_write_anothers_cohort if {
	# under another organisation's name
	d := create_of(other_trust, trust_cohort)
	not d.allow
	"COHORT-11-own-cohort" in d.reasons

	# changing what another wrote: the gateway keeps the stored authors
	not write_of(trust_doctor, shared_cohort, council_cohort).allow
	not write_of(trust_doctor, shared_cohort, shared_cohort).allow
}

test_council_writes_any_cohort if {
	create_of(council_sw, council_cohort).allow
	write_of(council_sw, shared_cohort, trust_cohort).allow
}

test_provider_writes_no_cohort if {
	not create_of(provider_carer, object.union(trust_cohort, {"author_orgs": ["CP001"]})).allow
}

# The gateway refuses a write of any other type before reading its body
# when write-cohort is the only path open (Engine.NeverFor).
test_write_cohort_is_for_groups_only if {
	authz.path_types == {"write-cohort": ["Group"]}
	not create_of(trust_doctor, object.union(trust_cohort, {"type": "CarePlan", "categories": ["care-plan"]})).allow
}

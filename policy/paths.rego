# The ways a request can be allowed ("paths"). Each path is one conjunction
# of conditions; a request is allowed when at least one path for its action
# holds. Anything else is denied (default deny). The rule ids a path
# satisfies are its reasons in the decision.
package gateway.authz

read_paths := {"relationship", "break-glass", "council", "provider-own", "directory", "self"}

write_paths := {"write-council", "write-provider"}

path_rules := {
	"relationship": ["DSA-1-signatory", "PURPOSE-2-direct-care", "REL-3-relationship", "OBJ-5-objection", "NTK-4-need-to-know"],
	"break-glass": ["DSA-1-signatory", "PURPOSE-2-break-glass", "NTK-4-need-to-know"],
	"council": ["DSA-1-signatory", "PURPOSE-2-direct-care", "REL-3-known-to-council", "NTK-4-need-to-know"],
	"provider-own": ["DSA-1-provider-own-records", "PURPOSE-2-direct-care"],
	"directory": ["DSA-1-signatory", "PURPOSE-2-direct-care", "NTK-4-need-to-know"],
	"self": ["SELF-6"],
	"write-council": ["WRITE-7", "PURPOSE-2-direct-care"],
	"write-provider": ["WRITE-7-provider-named", "PURPOSE-2-direct-care"],
}

path_obligations := {"break-glass": ["audit-break-glass", "review-break-glass"]}

# DSA-1, PURPOSE-2, REL-3, OBJ-5, NTK-4: an NHS organisation reads the record
# of a person it has a care relationship with, for direct care, unless the
# person objected.
path("relationship", r, c) if {
	staff
	reads == "relationship"
	direct_care
	related(r, c)
	not objected(r, c)
	need_to_know(r)
}

# PURPOSE-2-break-glass: a clinical role in an NHS organisation, with a
# reason, reads without a relationship and despite an objection. Allowed and
# flagged for review.
path("break-glass", r, _) if {
	staff
	reads == "relationship"
	break_glass
	need_to_know(r)
}

# DSA-1, REL-3-known-to-council: the council's adult social care reads the
# records of people known to it, objection or not (its duties, including
# safeguarding, continue).
path("council", r, c) if {
	staff
	reads == "known-to-council"
	direct_care
	known(r, c)
	need_to_know(r)
}

# DSA-1-provider-own-records: a commissioned care provider reads back only
# what its own organisation wrote.
path("provider-own", r, _) if {
	staff
	reads == "own-records"
	direct_care
	input.subject.org in r.author_orgs
}

# Directory records (organisations, practitioners) carry no patient: any
# signatory reading for direct care sees them.
path("directory", r, _) if {
	staff
	reads in {"relationship", "known-to-council"}
	direct_care
	"directory" in r.categories
	need_to_know(r)
}

# SELF-6: a person reads their own record, less what is labelled third-party
# confidential.
path("self", r, c) if {
	person
	self_purpose
	is_self(r, c)
	not third_party(r)
}

# WRITE-7: the council's adult social care submits records.
path("write-council", _, _) if {
	staff
	writes == "any"
	direct_care
}

# WRITE-7-provider-named: a commissioned provider submits records only for
# people whose care package names it (computed by the gateway).
path("write-provider", _, c) if {
	staff
	writes == "provider-named"
	direct_care
	c.provider_named == true
}

action_paths := read_paths if read_like

action_paths := write_paths if write

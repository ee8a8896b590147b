# The ways a request can be allowed ("paths"). A request is allowed when at
# least one path for its action holds; anything else is denied (default
# deny). The rule ids a path satisfies are its reasons in the decision.
#
# Each path has two halves, both of which must hold:
#   - open_paths contains p: who is asking, for what action and purpose.
#     It depends on input.subject, input.action and data.dsa only, so it is
#     evaluated once per evaluation (once for a whole page, and before
#     partial evaluation reaches the resource in a search filter).
#   - path(p, r, c): the record r and the gateway's facts c about its
#     patient, evaluated per record for the open paths only.
package gateway.authz

path_rules := {
	"relationship": ["DSA-1-signatory", "PURPOSE-2-direct-care", "REL-3-relationship", "OBJ-5-objection", "NTK-4-need-to-know"],
	"break-glass": ["DSA-1-signatory", "PURPOSE-2-break-glass", "NTK-4-need-to-know"],
	"council": ["DSA-1-signatory", "PURPOSE-2-direct-care", "REL-3-known-to-council", "NTK-4-need-to-know"],
	"provider-own": ["DSA-1-provider-own-records", "PURPOSE-2-direct-care"],
	"directory": ["DSA-1-signatory", "PURPOSE-2-direct-care", "NTK-4-need-to-know"],
	"self": ["SELF-6"],
	"self-request": ["SELF-6-request"],
	"share-consent": ["SHARE-13-consent"],
	"share-duty": ["SHARE-13-duty"],
	"write-council": ["WRITE-7", "PURPOSE-2-direct-care"],
	"write-provider": ["WRITE-7-provider-named", "WRITE-7-provider-own", "WRITE-7-relationship", "WRITE-7-labels", "WRITE-7-source", "PURPOSE-2-direct-care"],
	"audit": ["DSA-1-signatory", "AUDIT-8-ig-review", "NTK-4-need-to-know"],
	"cohort": ["DSA-1-signatory", "PURPOSE-2-direct-care", "COHORT-11-own-cohort", "NTK-4-need-to-know"],
	"write-cohort": ["COHORT-11-own-cohort", "PURPOSE-2-direct-care"],
}

path_obligations := {"break-glass": ["audit-break-glass", "review-break-glass"]}

# DSA-1, PURPOSE-2, REL-3, OBJ-5, NTK-4: an NHS organisation reads the record
# of a person it has a care relationship with, for direct care, unless the
# person objected.
open_paths contains "relationship" if {
	read_like
	staff
	reads == "relationship"
	direct_care
	role_class
}

path("relationship", r, c) if {
	related(r, c)
	not objected(r, c)
	need_to_know(r)
}

# PURPOSE-2-break-glass: a clinical role in an NHS organisation, with a
# reason, reads without a relationship and despite an objection. Allowed and
# flagged for review. Breaking the glass opens a person's record, not
# another organisation's cohorts (cohort.rego).
open_paths contains "break-glass" if {
	read_like
	staff
	reads == "relationship"
	break_glass
	role_class
}

path("break-glass", r, _) if {
	need_to_know(r)
	not "cohort" in r.categories
}

# DSA-1, REL-3-known-to-council: the council's adult social care reads the
# records of people known to it, objection or not (its duties, including
# safeguarding, continue).
open_paths contains "council" if {
	read_like
	staff
	reads == "known-to-council"
	direct_care
	role_class
}

path("council", r, c) if {
	known(r, c)
	need_to_know(r)
}

# DSA-1-provider-own-records: a commissioned care provider reads back only
# what its own organisation wrote.
open_paths contains "provider-own" if {
	read_like
	staff
	reads == "own-records"
	direct_care
}

path("provider-own", r, _) if {
	input.subject.org in r.author_orgs
}

# Directory records (organisations, practitioners) carry no patient: any
# signatory reading for direct care sees them.
open_paths contains "directory" if {
	read_like
	staff
	reads in {"relationship", "known-to-council"}
	direct_care
	role_class
}

path("directory", r, _) if {
	"directory" in r.categories
	need_to_know(r)
}

# AUDIT-8-ig-review: an information governance role (a role class marked
# audit) in an organisation whose kind keeps the audit trail (reads_audit:
# the council that hosts the shared record) reads audit records, for direct
# care or to review accesses (purposes.audit_review), e.g. break-glass
# reviews. Audit records name no patient, so no relationship applies.
open_paths contains "audit" if {
	read_like
	staff
	kind.reads_audit == true
	data.dsa.role_classes[role_class].audit == true
	audit_purpose
}

path("audit", r, _) if {
	"audit" in r.categories
	need_to_know(r)
}

# SELF-6: a person reads their own record, less what is labelled third-party
# confidential.
open_paths contains "self" if {
	read_like
	person
	self_purpose
}

path("self", r, c) if {
	is_self(r, c)
	not third_party(r)
}

# WRITE-7: the council's adult social care writes any record: it creates,
# changes and deletes what establishes a care relationship, removes security
# labels and may attribute an entry to the organisation whose worker
# recorded it. (What it may change or delete it must also be able to read:
# the gateway decides the stored version as a read first.)
open_paths contains "write-council" if {
	write
	staff
	writes == "any"
	direct_care
}

path("write-council", _, _) := true

# A commissioned provider writes (r: the version it sends; input.stored: the
# version held now, absent on a create):
#   - WRITE-7-provider-named: only for people whose care package names it
#     (c.provider_named, computed by the gateway from the care packages the
#     council holds);
#   - WRITE-7-relationship: nothing that establishes a care relationship
#     (data.dsa.relationship_types);
#   - WRITE-7-source: under its own organisation's name only;
#   - WRITE-7-provider-own: changes or deletes only what its own
#     organisation alone wrote;
#   - WRITE-7-labels: removes no security label from the stored version.
open_paths contains "write-provider" if {
	write
	staff
	writes == "provider-named"
	direct_care
}

path("write-provider", r, c) if {
	c.provider_named == true
	not relationship_type(r)
	own_authorship(r)
	not changes_others
	not removes_label(r)
}

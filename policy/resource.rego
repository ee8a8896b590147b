# Facts about one resource (r: input.resource or an element of
# input.resources) and the gateway's facts about its patient (c:
# input.context or an element of input.contexts). These are functions so that
# a page of resources shares the subject facts computed once.
#
# In a search the resource is unknown: partial evaluation keeps these
# conditions and the engine translates them to MongoDB. Keep them to the
# shapes the translator knows: "x in r.categories", "r.patient in list",
# equality, and negations of those.
package gateway.authz

# REL-3: the subject's organisation has a care relationship with the patient
# (computed by the gateway: registered GP, active episode, care team,
# encounter or referral within data.dsa.relationship_window_days).
related(_, c) if c.related == true

related(r, c) if r.patient in c.related_patients

# OBJ-5: the patient has an active objection to sharing.
objected(_, c) if c.objected == true

objected(r, c) if r.patient in c.objected_patients

# REL-3-known-to-council: the patient is known to the subject's council.
known(_, c) if c.known_to_council == true

known(r, c) if r.patient in c.known_patients

# SELF-6: the record is about the person asking.
is_self(_, c) if c.self == true

is_self(r, c) if r.patient in c.self_patients

category_forbidden(cats) if {
	some cat in forbidden_categories
	cat in cats
}

label_forbidden(labels) if {
	some label in forbidden_labels
	label in labels
}

third_party(r) if {
	some label in data.dsa.third_party_labels
	label in r.labels
}

alert_present(cats) if {
	some cat in data.dsa.safeguarding_visible_with
	cat in cats
}

# NTK-4: safeguarding records are hidden from role classes without
# safeguarding detail, unless the record is an alert (then it is shown with
# its details redacted).
safeguarding_hidden(cats) if {
	not safeguarding_detail
	"safeguarding" in cats
	not alert_present(cats)
}

# NTK-4: every category of the record is visible to the role class, no
# forbidden label is present, and safeguarding details stay with social work.
# It depends on the record's categories and labels only, and OPA memoises a
# function per argument values, so a page of records sharing categories and
# labels checks them once.
need_to_know(r) if cleared(r.categories, r.labels)

cleared(cats, labels) if {
	role_class
	not category_forbidden(cats)
	not label_forbidden(labels)
	not safeguarding_hidden(cats)
}

# WRITE-7-relationship: resources of this type establish care relationships
# (the gateway's facts: GP, episode, care team, encounter, referral,
# objection, organisation codes).
relationship_type(r) if r.type in relationship_types

# WRITE-7-source: the record names the subject's organisation, and it
# alone, as its author (the gateway stamps it so, keeping the authors of the
# stored version; an equality rather than an iteration, so that plans can
# be made of it).
own_authorship(r) if r.author_orgs == [input.subject.org]

# WRITE-7-provider-own: a change (update or delete) of a stored version that
# the subject's organisation did not write alone. Absent input.stored (a
# create), nothing is changed.
changes_others if {
	input.stored
	not sole_author(input.stored)
}

sole_author(s) if {
	input.subject.org in s.author_orgs
	not other_author(s)
}

other_author(s) if {
	some a in s.author_orgs
	a != input.subject.org
}

# WRITE-7-labels: a security label of the stored version is missing from r.
removes_label(r) if {
	some label in input.stored.labels
	not label in r.labels
}

# Sharing with a named third party (issue 13, "Consent beyond the local care
# record", J11). A Consent can name a person outside the local care record
# (a carer, an advocate) by identifier, the record categories it covers and
# a period; the gateway turns each active one into share facts
# (fhir/facts/share.go) and gives the policy, for a caller who signs in as
# that person (an NHS login token whose NHS number is the Consent actor's),
# the categories shared with them now, per basis:
#   - c.shared_consent[cat]: patients who consented to share cat;
#   - c.shared_duty[cat]: patients whose records the council shares under its
#     legal duty (Care Act 2014 s42 safeguarding enquiries), consent or not.
# The period is applied by the gateway at each request: a share begins and
# ends by itself, and a withdrawal (the Consent made inactive, or a deny, or
# deleted) takes effect on the next request.
#
# Precedence: the person's objection to sharing (OBJ-5) wins over a share on
# their consent (the later, wider choice stands until they say otherwise); a
# share under the council's legal duty holds despite an objection, as the
# council's own access does (REL-3-known-to-council), and says so in its
# reason (SHARE-13-duty) in the decision and the audit record.
#
# A third party sees a record only when every category it carries is shared
# with them, never records labelled as holding another person's confidences
# (third_party) or restricted (data.dsa.restricted_labels), and with the
# redactions any non-clinical reader gets (safeguarding details).
package gateway.authz

# METADATA
# title: A named third party sees what the person consented to share
# description: >-
#   Someone the person named in a consent to share (for example a carer or
#   an advocate who signs in with NHS login) may read the person's records
#   in the categories the consent covers, while its period lasts. Records
#   holding other people's confidences or restricted records are never
#   shared this way. If the person has objected to sharing, the objection
#   wins; when the person withdraws the consent it stops at once.
# custom:
#   id: SHARE-13-consent
open_paths contains "share-consent" if {
	read_like
	person
	self_purpose
}

path("share-consent", r, c) if {
	not objected(r, c)
	shareable(r)
	not share_uncovered(r, c)
	some cat in vocabulary
	cat in r.categories
	shared_on_consent(r, c, cat)
}

# METADATA
# title: A named third party sees what the council's legal duty shares
# description: >-
#   Where the council shares a person's records with a named third party
#   because of its legal duty (safeguarding enquiries under section 42 of
#   the Care Act 2014), that party may read the records in the categories
#   recorded, while its period lasts, even if the person objected. The
#   legal duty is recorded as the basis of every such access.
# custom:
#   id: SHARE-13-duty
open_paths contains "share-duty" if {
	read_like
	person
	self_purpose
}

path("share-duty", r, c) if {
	shareable(r)
	not duty_uncovered(r, c)
	some cat in vocabulary
	cat in r.categories
	shared_on_duty(r, c, cat)
}

# Never shared with a third party: other people's confidences and
# restricted records.
shareable(r) if {
	not third_party(r)
	not restricted_record(r)
}

restricted_record(r) if {
	some label in data.dsa.restricted_labels
	label in r.labels
}

# A category of the record neither basis shares. (The lookups sit in
# functions: a reference that is undefined inside "not" would otherwise
# make the whole body fail instead of the negation hold.)
share_uncovered(r, c) if {
	some cat in vocabulary
	cat in r.categories
	not shared_on_consent(r, c, cat)
	not shared_on_duty(r, c, cat)
}

duty_uncovered(r, c) if {
	some cat in vocabulary
	cat in r.categories
	not shared_on_duty(r, c, cat)
}

shared_on_consent(r, c, cat) if r.patient in c.shared_consent[cat]

shared_on_duty(r, c, cat) if r.patient in c.shared_duty[cat]

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
	"RETAIN-12-appraisal",
	"RETAIN-12-disposal",
	"RETAIN-12-hold",
	"COHORT-11-own-cohort",
	"CASEAUDIT-13-case-file-audit",
]

record_failures(r, c) := {id | some id in record_checks; record_fails(id, r, c)}

# The failures in rule_ids order, or DEFAULT-deny when none explains it.

# METADATA
# title: Refused unless a rule allows
# description: >-
#   Nothing is shared unless a rule of the agreement allows it. A request
#   no rule allows, and no particular rule explains, is refused.
# custom:
#   id: DEFAULT-deny
ordered_reasons(failures) := ids if {
	all := subject_failures | failures
	ids := [id | some id in rule_ids; id in all]
	count(ids) > 0
} else := ["DEFAULT-deny"]

# METADATA
# title: Only known kinds of request are decided
# description: >-
#   The gateway decides reads, searches, histories, writes and the
#   operations the agreement names. Any other kind of request is refused,
#   because the agreement only permits what it describes.
# custom:
#   id: ACTION-0-unknown
subject_failures contains "ACTION-0-unknown" if {
	not read_like
	not write
}

# METADATA
# title: Only organisations that signed the agreement take part
# description: >-
#   Records are shared only with organisations that signed the data
#   sharing agreement, in the way the agreement lets their kind of
#   organisation read (NHS organisations by care relationship, the council
#   by the people known to it, care providers their own records). An
#   organisation outside the agreement, or one whose kind reads nothing,
#   is refused; so is anyone who is neither staff of a signatory nor the
#   person themselves.
# custom:
#   id: DSA-1-signatory
subject_failures contains "DSA-1-signatory" if {
	staff
	read_like
	not reads in {"relationship", "known-to-council", "own-records"}
}

subject_failures contains "DSA-1-signatory" if {
	not staff
	not person
}

# METADATA
# title: Care providers read back only what they wrote
# description: >-
#   A care provider the council commissions sees only the records its own
#   organisation wrote (its visit notes, medication records, incidents).
#   It does not see what the council, the NHS or another provider recorded
#   about the person.
# custom:
#   id: DSA-1-provider-own-records
record_checks contains "DSA-1-provider-own-records" if {
	staff
	read_like
	reads == "own-records"
}

record_fails("DSA-1-provider-own-records", r, _) if {
	not input.subject.org in r.author_orgs
}

# METADATA
# title: Only for the person's direct care
# description: >-
#   Staff may use the shared record only for the direct care of the person
#   (treatment or continuity of care), the purposes the agreement allows.
#   Research, payment, planning and other secondary uses are refused. A
#   person reading their own record must say they are doing so for
#   themselves.
# custom:
#   id: PURPOSE-2-direct-care
subject_failures contains "PURPOSE-2-direct-care" if {
	staff
	not direct_care
	not break_glass_requested
}

subject_failures contains "PURPOSE-2-direct-care" if {
	person
	not self_purpose
}

# METADATA
# title: Emergency access (break glass) is for clinicians with a reason
# description: >-
#   In an emergency a clinician in an NHS organisation may read a record
#   without a care relationship, and even though the person objected, but
#   only in a clinical role the agreement marks for emergency access and
#   only after stating a reason. Every such access is flagged in the audit
#   trail and reviewed afterwards. Anyone else asking for emergency access
#   is refused.
# custom:
#   id: PURPOSE-2-break-glass
subject_failures contains "PURPOSE-2-break-glass" if {
	staff
	break_glass_requested
	not break_glass
}

# METADATA
# title: A care relationship is needed
# description: >-
#   An NHS organisation sees a person's social care record only when it is
#   caring for them: the person is registered with the GP practice, or the
#   organisation has an active episode of care, is in the person's care
#   team, or had an encounter or referral with them within the window the
#   agreement sets. Without such a relationship the record is refused.
# custom:
#   id: REL-3-relationship
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

# METADATA
# title: The council sees the people known to it
# description: >-
#   The council's adult social care sees the records of people known to
#   its service. Its statutory duties (including safeguarding) continue
#   when a person objects to sharing with the NHS, so an objection does
#   not stop the council. People not known to the council are refused.
# custom:
#   id: REL-3-known-to-council
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

# METADATA
# title: A recognised job role is needed
# description: >-
#   Staff see records only in a job role the agreement places in a role
#   class (clinical, admin, social work, care, information governance). A
#   job role the agreement does not list sees nothing.
# custom:
#   id: NTK-4-role
subject_failures contains "NTK-4-role" if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
	not role_class
}

# METADATA
# title: Each role sees only the categories it needs to know
# description: >-
#   Each role class sees only the categories of record the agreement gives
#   it, less those its kind of organisation may never see (no NHS
#   organisation sees financial records). Restricted records need a role
#   cleared for them, and safeguarding details stay with social workers:
#   others see only that an alert exists. A record outside the caller's
#   need to know is refused.
# custom:
#   id: NTK-4-need-to-know
record_checks contains "NTK-4-need-to-know" if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
	role_class
}

record_fails("NTK-4-need-to-know", r, _) if {
	not need_to_know(r)
}

# METADATA
# title: Records must carry agreed categories
# description: >-
#   Every record is labelled with categories from the agreed vocabulary. A
#   record carrying a category the agreement does not define is refused
#   rather than guessed at.
# custom:
#   id: NTK-4-vocabulary
record_checks contains "NTK-4-vocabulary" if {
	read_like
}

record_fails("NTK-4-vocabulary", r, _) if {
	not known_categories(r.categories)
}

# METADATA
# title: The person's objection is respected
# description: >-
#   A person may object to their social care record being shared with the
#   NHS. While the objection stands, NHS organisations do not see the
#   record, even with a care relationship; only emergency access by a
#   clinician with a stated reason overrides it, and that access is
#   reviewed. A caller who would otherwise have been allowed is told the
#   person objected.
# custom:
#   id: OBJ-5-objection
record_checks contains "OBJ-5-objection" if {
	staff
	read_like
	reads == "relationship"
	direct_care
}

record_fails("OBJ-5-objection", r, c) if {
	objected(r, c)
}

# METADATA
# title: A person sees their own record
# description: >-
#   A person may read their own record, for themselves. They cannot read
#   anyone else's record, and they cannot change their record directly
#   (they ask for a correction instead).
# custom:
#   id: SELF-6
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

# METADATA
# title: Information about other people is withheld
# description: >-
#   When a person reads their own record, entries labelled as holding
#   confidential information about someone else (a third party, such as a
#   relative who confided in a social worker) are withheld, as data
#   protection law allows.
# custom:
#   id: SELF-6-third-party
record_checks contains "SELF-6-third-party" if {
	person
	read_like
}

record_fails("SELF-6-third-party", r, _) if {
	third_party(r)
}

# METADATA
# title: Only the council and named providers write
# description: >-
#   Only the council's adult social care writes to the shared record (and
#   commissioned providers, within limits). NHS organisations and others
#   read only; their writes are refused.
# custom:
#   id: WRITE-7
subject_failures contains "WRITE-7" if {
	staff
	write
	not writes in {"any", "provider-named"}
}

# METADATA
# title: Providers write only for people whose care they provide
# description: >-
#   A commissioned care provider writes only for people whose care
#   package, held by the council, names that provider.
# custom:
#   id: WRITE-7-provider-named
record_checks contains "WRITE-7-provider-named" if {
	staff
	write
	writes == "provider-named"
}

record_fails("WRITE-7-provider-named", _, c) if {
	not c.provider_named == true
}

# METADATA
# title: The audit trail is for information governance review
# description: >-
#   The audit trail of who looked at which records is read only by
#   information governance leads and the Caldicott Guardian of the
#   organisation that hosts the shared record, to review accesses such as
#   emergency (break glass) reads. Nobody else reads the audit trail.
# custom:
#   id: AUDIT-8-ig-review
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

# METADATA
# title: Providers change only their own entries
# description: >-
#   A care provider may change or delete only what its own organisation
#   alone wrote; entries by the council or another organisation are not
#   its to change.
# custom:
#   id: WRITE-7-provider-own
record_fails("WRITE-7-provider-own", _, _) if changes_others

# METADATA
# title: Providers cannot create care relationships
# description: >-
#   A care provider may not write the records that decide who sees a
#   person's record (registrations, episodes of care, care teams,
#   encounters, referrals, consent and objections, organisations). Only
#   the council writes those.
# custom:
#   id: WRITE-7-relationship
record_fails("WRITE-7-relationship", r, _) if relationship_type(r)

# METADATA
# title: Providers cannot remove protective labels
# description: >-
#   A care provider may not remove a security label (such as restricted or
#   third-party confidential) from a record; only the council may.
# custom:
#   id: WRITE-7-labels
record_fails("WRITE-7-labels", r, _) if removes_label(r)

# METADATA
# title: Providers write under their own name
# description: >-
#   A care provider writes only under its own organisation's name, so
#   every entry says truthfully who recorded it.
# custom:
#   id: WRITE-7-source
record_fails("WRITE-7-source", r, _) if not own_authorship(r)

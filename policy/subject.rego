# Facts about who is asking. Everything here depends on input.subject,
# input.action and the data sharing agreement (data.dsa) only, never on the
# resource, so OPA computes it once per evaluation: once for a page of
# resources, and before partial evaluation reaches the resource in a search
# filter. Organisation kind and role class come from data.dsa only, never
# from the token.
package gateway.authz

# The subject's organisation as listed in the data sharing agreement.
org := data.dsa.organisations[input.subject.org]

# What the agreement lets the subject's kind of organisation do.
kind := data.dsa.kinds[org.kind]

# What the subject's organisation may read and write under the agreement:
# relationship (NHS), known-to-council, own-records (providers) or none;
# any, provider-named or none. Organisations outside the agreement: none.
default reads := "none"

reads := kind.reads

default writes := "none"

writes := kind.writes

# The subject's role class (clinical, admin, social-work, care, ig).
role_class := cls if {
	input.subject.kind != "system"
	some cls, rc in data.dsa.role_classes
	input.subject.role in rc.roles
}

# A system (client credentials: a trust's EPR pulling records for direct
# care) has no job role: its class is the one naming its kind in
# subject_kinds.
role_class := cls if {
	input.subject.kind == "system"
	some cls, rc in data.dsa.role_classes
	input.subject.kind in object.get(rc, "subject_kinds", [])
}

# staff: a user or system acting for an organisation, as opposed to a person
# reading their own record.
staff if input.subject.kind in {"user", "system"}

person if input.subject.kind == "person"

read_like if input.action in {"read", "search", "history", "operation"}

write if input.action == "write"

# PURPOSE-2: direct care purposes from the agreement.
direct_care if input.subject.purpose in data.dsa.purposes.direct_care

break_glass_requested if input.subject.purpose in data.dsa.purposes.break_glass

# PURPOSE-2-break-glass: clinical roles (role classes marked break_glass) in
# NHS organisations, with a reason.
break_glass if {
	break_glass_requested
	kind.nhs == true
	data.dsa.role_classes[role_class].break_glass == true
	trim_space(input.subject.break_glass_reason) != ""
}

self_purpose if input.subject.purpose in data.dsa.purposes.self_access

# AUDIT-8: reviewing the audit trail is direct care's safeguard or an
# operational review purpose.
audit_purpose if direct_care

audit_purpose if input.subject.purpose in data.dsa.purposes.audit_review

# NTK-4: categories the role class may see, less those the organisation kind
# may never see (no NHS organisation sees financial records). Set difference
# is one operation, cheaper than a negation per category.
visible_categories := {cat | some cat in data.dsa.role_classes[role_class].categories} - excluded_categories

default excluded_categories := set()

excluded_categories := {cat | some cat in kind.excluded_categories}

forbidden_categories := vocabulary - visible_categories

# WRITE-7-relationship: the resource types that establish care
# relationships, as a set.
relationship_types := {t | some t in data.dsa.relationship_types}

# The agreed vocabulary as a set, so that membership is one lookup.
vocabulary := {cat | some cat in data.dsa.vocabulary}

# Restricted confidentiality labels are forbidden to role classes without
# clearance for restricted records.
default forbidden_labels := set()

forbidden_labels := {label | some label in data.dsa.restricted_labels} if not cleared_for_restricted

cleared_for_restricted if data.dsa.role_classes[role_class].restricted == true

# Role classes that see safeguarding details; others see only that a
# safeguarding alert exists.
safeguarding_detail if role_class in data.dsa.safeguarding_detail_classes

# Pointers to remove from a resource of a category, for this subject.
category_redactions := object.union(safeguarding_redactions, summary_redactions)

default safeguarding_redactions := {}

safeguarding_redactions := {"safeguarding": data.dsa.redactions.safeguarding} if not safeguarding_detail

summary_redactions := {cat: data.dsa.redactions["care-package-summary"] |
	some cat in data.dsa.summary_only[role_class]
}

# Why a request was denied: every rule id whose condition failed. Only used
# to explain a denial; whether to allow is decided by the paths alone.
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
]

deny_reasons(r, c) := ids if {
	found := [id | some id in rule_ids; failed(id, r, c)]
	count(found) > 0
	ids := found
} else := ["DEFAULT-deny"]

failed("ACTION-0-unknown", _, _) if {
	not read_like
	not write
}

failed("DSA-1-signatory", _, _) if {
	staff
	read_like
	not reads in {"relationship", "known-to-council", "own-records"}
}

failed("DSA-1-signatory", _, _) if {
	not staff
	not person
}

failed("DSA-1-provider-own-records", r, _) if {
	staff
	read_like
	reads == "own-records"
	not input.subject.org in r.author_orgs
}

failed("PURPOSE-2-direct-care", _, _) if {
	staff
	not direct_care
	not break_glass_requested
}

failed("PURPOSE-2-direct-care", _, _) if {
	person
	not self_purpose
}

failed("PURPOSE-2-break-glass", _, _) if {
	staff
	break_glass_requested
	not break_glass
}

failed("REL-3-relationship", r, c) if {
	staff
	read_like
	reads == "relationship"
	direct_care
	not related(r, c)
	not "directory" in r.categories
}

failed("REL-3-known-to-council", r, c) if {
	staff
	read_like
	reads == "known-to-council"
	not known(r, c)
	not "directory" in r.categories
}

failed("NTK-4-role", _, _) if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
	not role_class
}

failed("NTK-4-need-to-know", r, _) if {
	staff
	read_like
	reads in {"relationship", "known-to-council"}
	role_class
	not need_to_know(r)
}

failed("NTK-4-vocabulary", r, _) if {
	read_like
	not known_categories(r)
}

failed("OBJ-5-objection", r, c) if {
	staff
	read_like
	reads == "relationship"
	direct_care
	objected(r, c)
}

failed("SELF-6", r, c) if {
	person
	not is_self(r, c)
}

failed("SELF-6", _, _) if {
	person
	write
}

failed("SELF-6-third-party", r, _) if {
	person
	read_like
	third_party(r)
}

failed("WRITE-7", _, _) if {
	staff
	write
	not writes in {"any", "provider-named"}
}

failed("WRITE-7-provider-named", _, c) if {
	staff
	write
	writes == "provider-named"
	not c.provider_named == true
}

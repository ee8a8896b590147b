# The decision object. input.resource and input.context give one decision
# (data.gateway.authz.decision); input.resources and input.contexts give one
# decision per resource of a page in a single evaluation
# (data.gateway.authz.decisions). data.gateway.authz.filter is the rule the
# engine partially evaluates, with input.resource unknown, into a database
# filter for searches.
#
# Rules without arguments are evaluated once per evaluation, so everything
# that depends only on the subject (open_paths, subject_failures,
# record_checks, category_redactions) is shared by every resource of a
# page. Functions are memoised per evaluation by their arguments, so
# allowed(ps, cats) and ordered_reasons(failures) are built once for each
# distinct outcome, not once per resource.
package gateway.authz

decision := decide(input.resource, input.context)

decisions := [decide(r, input.contexts[i]) | some i, r in input.resources]

# The search filter: some read path holds. Decision-only checks (known
# vocabulary) are not part of it: a record they reject is dropped by the
# per-resource decision, never shown.
filter if {
	read_like
	some p in open_paths
	path(p, input.resource, input.context)
}

matched(r, c) := {p | some p in open_paths; path(p, r, c)}

decide(r, c) := allowed(ps, r.categories) if {
	ps := matched(r, c)
	ps != set()
	known_categories(r.categories)
} else := {
	"allow": false,
	"reasons": deny_reasons(r, c),
	"redactions": [],
	"obligations": [],
}

# The decision for a record reached by paths ps with categories cats.
allowed(ps, cats) := {
	"allow": true,
	"reasons": sort({id | some p in ps; some id in path_rules[p]}),
	"redactions": redactions(cats, ps),
	"obligations": sort({o | some p in ps; some o in path_obligations[p]}),
}

# Every category is in the agreed vocabulary: a record labelled with an
# unknown category is refused rather than guessed at.
known_categories(cats) if {
	every cat in cats {
		cat in vocabulary
	}
}

# Staff see redacted views (safeguarding alerts, care package summaries); a
# person reading their own record sees it whole.
redactions(_, ps) := [] if "self" in ps

redactions(cats, ps) := sort({ptr |
	some cat in cats
	some ptr in category_redactions[cat]
}) if not "self" in ps

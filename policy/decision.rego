# The decision object. input.resource and input.context give one decision
# (data.gateway.authz.decision); input.resources and input.contexts give one
# decision per resource of a page in a single evaluation
# (data.gateway.authz.decisions). data.gateway.authz.filter is the rule the
# engine partially evaluates, with input.resource unknown, into a database
# filter for searches.
package gateway.authz

decision := decide(input.resource, input.context)

decisions := [decide(r, input.contexts[i]) | some i, r in input.resources]

# The search filter: some read path holds. Decision-only checks (known
# vocabulary) are not part of it: a record they reject is dropped by the
# per-resource decision, never shown.
filter if {
	read_like
	some p in read_paths
	path(p, input.resource, input.context)
}

matched(r, c) := {p | some p in action_paths; path(p, r, c)}

decide(r, c) := {
	"allow": true,
	"reasons": sort({id | some p in ps; some id in path_rules[p]}),
	"redactions": redactions(r, ps),
	"obligations": sort({o | some p in ps; some o in path_obligations[p]}),
} if {
	ps := matched(r, c)
	count(ps) > 0
	known_categories(r)
} else := {
	"allow": false,
	"reasons": deny_reasons(r, c),
	"redactions": [],
	"obligations": [],
}

# Every category is in the agreed vocabulary: a record labelled with an
# unknown category is refused rather than guessed at.
known_categories(r) if {
	every cat in r.categories {
		cat in data.dsa.vocabulary
	}
}

# Staff see redacted views (safeguarding alerts, care package summaries); a
# person reading their own record sees it whole.
redactions(_, ps) := [] if "self" in ps

redactions(r, ps) := sort({ptr |
	some cat in r.categories
	some ptr in category_redactions[cat]
}) if not "self" in ps

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

decide(r, c) := d if {
	d := granted(matched(r, c), r.categories)
} else := {
	"allow": false,
	"reasons": deny_reasons(r, c),
	"redactions": [],
	"obligations": [],
}

# An allowed decision depends on the record and its patient's facts only
# through the paths the record matches and its categories. The engine relies
# on this to decide pages fast: it specialises path(p, r, c) for each caller
# by partial evaluation, runs the result over each record, and evaluates
# grant (below) once per distinct outcome; records no path allows are
# decided by decide(r, c) in full, for the reasons. Keep decide in this
# shape: an allowed decision is granted(matched(r, c), r.categories).
granted(ps, cats) := allowed(ps, cats) if {
	ps != set()
	known_categories(cats)
}

# grant is granted for input.paths (a list of path names) and
# input.categories: the engine's entry point for specialised decisions.
grant := granted({p | some p in input.paths}, input.categories)

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

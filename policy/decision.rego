# The decision object. input.resource and input.context give one decision
# (data.gateway.authz.decision); input.resources and input.contexts give one
# decision per resource of a page in a single evaluation
# (data.gateway.authz.decisions). data.gateway.authz.filter is the search
# filter for policies the engine cannot specialise (below).
#
# How the engine decides fast. For each caller (action and the subject
# fields the policy reads) the engine partially evaluates path(p, r, c) for
# every path and record_fails(id, r, c) for every record check, with the
# record and its patient's facts unknown, and compiles what is left into Go
# predicates (a "plan", built once per caller and policy version). A record
# is then decided by running those predicates and looking up grant (for the
# paths that held and the record's categories) or refusal (for the checks
# that failed), each evaluated once per distinct outcome. Search filters are
# what is left of the paths, with the caller's patient lists put in.
#
# This relies on decide keeping the shape below: an allowed decision is
# granted(matched(r, c), r.categories), any other is
# refused(record_failures(r, c)). The engine checks at load time that its
# plans agree with full evaluation, and refuses a policy where they do not.
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
} else := refused(record_failures(r, c))

# A record some path allows, with categories all in the vocabulary.
granted(ps, cats) := allowed(ps, cats) if {
	ps != set()
	known_categories(cats)
}

# A refusal, with the rules that failed (see deny.rego) and those of them
# the caller may be told (disclosed, see deny.rego).
refused(failures) := {
	"allow": false,
	"reasons": ordered_reasons(failures),
	"disclosed": disclosed_reasons(failures),
	"redactions": [],
	"obligations": [],
}

# The engine's entry points for specialised decisions: grant for
# input.paths (a list of path names) and input.categories; refusal for
# input.failures (a list of record check ids).
grant := granted({p | some p in input.paths}, input.categories)

refusal := refused({id | some id in input.failures})

# The decision for a record reached by paths ps with categories cats.
allowed(ps, cats) := {
	"allow": true,
	"reasons": sort({id | some p in ps; some id in path_rules[p]}),
	"redactions": redactions(cats, ps),
	"obligations": sort({o | some p in ps; some o in path_obligations[p]}),
}

# Every category is in the agreed vocabulary: a record labelled with an
# unknown category is refused rather than guessed at.
known_categories(cats) if not unknown_category(cats)

unknown_category(cats) if {
	some cat in cats
	not cat in vocabulary
}

# Staff see redacted views (safeguarding alerts, care package summaries); a
# person reading their own record sees it whole.
redactions(_, ps) := [] if "self" in ps

redactions(cats, ps) := sort({ptr |
	some cat in cats
	some ptr in category_redactions[cat]
}) if not "self" in ps

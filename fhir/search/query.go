package search

import (
	"net/url"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// Options are the gateway's settings for parsing a search.
type Options struct {
	Lenient      bool // Prefer: handling=lenient: ignore unknown/unsupported params (leave them out of Self)
	DefaultCount int  // used when _count absent (gateway default 50)
	MaxCount     int  // cap; larger _count is clamped to it (gateway default 1000)
}

// Gateway defaults used when Options leaves a count at zero.
const (
	DefaultCount = 50
	MaxCount     = 1000
)

// Query is a parsed search: a filter on stored documents and the result
// parameters.
type Query struct {
	Type       string
	Filter     *cond.Node  // conditions on stored resources (True for none); the store adds liveness and keyset conditions
	Sort       []SortField // empty means default order; store always appends _id as tie-breaker
	Count      int
	Total      string   // "" / "none" / "accurate" ("estimate" is treated as accurate)
	Summary    string   // "" or "count"
	Elements   []string // top-level element names requested by _elements
	Include    []Include
	RevInclude []Include
	Cursor     string     // raw value of the `_cursor` paging parameter, opaque, passed through
	Self       url.Values // canonical form of every parameter that was understood, for the Bundle self link (excludes _cursor)
}

// SortField is one key of the result order.
type SortField struct {
	Param string // "_lastUpdated", "date", "_id", ...
	Field string // stored-document path, present on every document Index produces, e.g. "lu", "_id", "sp._sort.date.a"
	Desc  bool
}

// Include is one _include or _revinclude.
type Include struct {
	Source string // resource type holding the reference ("Encounter" for _include=Encounter:patient, "Provenance" for _revinclude=Provenance:target)
	Param  string // reference search parameter name
	Target string // optional target type restriction ("" = all of the param's targets)
	Field  string // stored path of the reference values, e.g. "sp.patient"; values are "Type/id" strings
}

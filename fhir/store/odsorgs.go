package store

import (
	"slices"
	"sync"
)

// An organisation-wide lookup of facts names the caller's organisation by
// its ODS code, but facts name organisations by reference, so the
// organisations must be known before the facts naming them can be asked
// for. They change very rarely (an Organization created, or its code
// changed), so each instance remembers the organisations it last found
// for each code and asks, in one query, for the code's ods facts (which
// say which organisations it names now) and the facts naming the
// organisations remembered. When the organisations named now are among
// those remembered, that one query is the answer; otherwise the facts of
// the organisations it missed are asked for next. What is remembered is
// only ever a guess checked against the database, never an answer.
type odsOrgs struct {
	mu     sync.Mutex
	byCode map[string][]string
}

func (o *odsOrgs) get(code string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.byCode[code]
}

func (o *odsOrgs) put(code string, orgs []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byCode == nil || len(o.byCode) > 10_000 {
		o.byCode = map[string][]string{}
	}
	o.byCode[code] = slices.Clone(orgs)
}

package sqlstore

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// A token is stored as its codes (c), its system|code pairs (sc) and its
// systems (s). A system that has a code is already the prefix of an sc
// row, so the engine keeps an s row only for a system with no code (an
// identifier with a system and no value, say): a resource then writes one
// index row fewer per coded token, about a seventh of its rows. A search
// for a system (`code=http://snomed.info/sct|`) asks for both
// (systemsByCode). Rows written before keep their s rows, which the same
// search still finds.

// codelessSystems is a token's stored form with only the systems no code
// was given with.
func codelessSystems(v any) any {
	m, ok := v.(bson.M)
	if !ok {
		return v
	}
	systems, ok := m["s"].([]string)
	if !ok {
		return v
	}
	codes, _ := m["sc"].([]string)
	var kept []string
	for _, s := range systems {
		coded := false
		for _, sc := range codes {
			if strings.HasPrefix(sc, s+"|") {
				coded = true
				break
			}
		}
		if !coded {
			kept = append(kept, s)
		}
	}
	if len(kept) == len(systems) {
		return v
	}
	out := bson.M{}
	for k, x := range m {
		out[k] = x
	}
	if len(kept) == 0 {
		delete(out, "s")
	} else {
		out["s"] = kept
	}
	return out
}

// systemsByCode rewrites the conditions on a token's systems (field.s) to
// what the rows hold: some sc row starting with "system|", or an s row.
func systemsByCode(n *cond.Node) *cond.Node {
	switch n.Op {
	case cond.And, cond.Or, cond.Not:
		var kids []*cond.Node
		changed := false
		for _, k := range n.Kids {
			r := systemsByCode(k)
			changed = changed || r != k
			kids = append(kids, r)
		}
		if !changed {
			return n
		}
		c := *n
		c.Kids = kids
		return &c
	}
	base, ok := strings.CutSuffix(n.Field, ".s")
	if !ok || !strings.HasPrefix(n.Field, "sp.") {
		return n
	}
	system := func(v any) *cond.Node {
		s, ok := v.(string)
		if !ok {
			return cond.Is(n.Field, v)
		}
		return cond.AnyOf(cond.Compare(base+".sc", cond.Prefix, s+"|"), cond.Is(n.Field, s))
	}
	switch n.Op {
	case cond.Eq:
		return system(n.Value)
	case cond.In:
		var alts []*cond.Node
		for _, v := range n.Values {
			alts = append(alts, system(v))
		}
		return cond.AnyOf(alts...)
	case cond.Exists:
		return cond.AnyOf(cond.Present(base+".sc"), n)
	}
	return n
}

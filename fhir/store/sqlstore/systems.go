package sqlstore

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// A token is stored as its codes (c), its system|code pairs (sc) and its
// systems (s), and a quantity as its value (v), unit codes (c) and
// system|code pairs (sc). The engine leaves out what an sc row already
// says:
//   - an s row for a system that has a code (the system is the prefix of
//     that code's sc row); only a system with no code (an identifier with
//     a system and no value, say) keeps its s row. A search for a system
//     (`code=http://snomed.info/sct|`) asks for both.
//   - a c row for a code given with no system (a status: sc "|finished"
//     says c "finished"). A search for a code asks for the c row or the
//     sc row "|code".
//
// A coded token so writes one or two index rows fewer (about a seventh of
// a resource's rows). Rows written before keep their s and c rows, which
// the same searches still find.

// compactToken is a token's (or quantity's) stored form without the s and
// c values an sc value implies.
func compactToken(v any) any {
	m, ok := v.(bson.M)
	if !ok {
		return v
	}
	codes, _ := m["sc"].([]string)
	var out bson.M // m's copy, once something is left out
	replace := func(k string, kept []string, n int) {
		if len(kept) == n {
			return
		}
		if out == nil {
			out = bson.M{}
			for k, x := range m {
				out[k] = x
			}
		}
		if len(kept) == 0 {
			delete(out, k)
		} else {
			out[k] = kept
		}
	}
	if systems, ok := m["s"].([]string); ok {
		var kept []string
		for _, s := range systems {
			if !slices.ContainsFunc(codes, func(sc string) bool { return strings.HasPrefix(sc, s+"|") }) {
				kept = append(kept, s)
			}
		}
		replace("s", kept, len(systems))
	}
	if cs, ok := m["c"].([]string); ok {
		var kept []string
		for _, c := range cs {
			if !slices.Contains(codes, "|"+c) {
				kept = append(kept, c)
			}
		}
		replace("c", kept, len(cs))
	}
	if out == nil {
		return v
	}
	return out
}

// impliedByCode rewrites the conditions on a token's systems (field.s) and
// codes (field.c) to what the rows hold (see compactToken): for a system,
// some sc row starting with "system|" or an s row; for a code, a c row or
// the sc row "|code".
func impliedByCode(n *cond.Node) *cond.Node {
	switch n.Op {
	case cond.And, cond.Or, cond.Not:
		var kids []*cond.Node
		changed := false
		for _, k := range n.Kids {
			r := impliedByCode(k)
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
	if !strings.HasPrefix(n.Field, "sp.") {
		return n
	}
	var alt func(v string) *cond.Node
	base, ok := strings.CutSuffix(n.Field, ".s")
	if ok {
		alt = func(s string) *cond.Node { return cond.Compare(base+".sc", cond.Prefix, s+"|") }
	} else if base, ok = strings.CutSuffix(n.Field, ".c"); ok {
		alt = func(c string) *cond.Node { return cond.Is(base+".sc", "|"+c) }
	} else {
		return n
	}
	one := func(v any) *cond.Node {
		s, ok := v.(string)
		if !ok {
			return cond.Is(n.Field, v)
		}
		return cond.AnyOf(alt(s), cond.Is(n.Field, s))
	}
	switch n.Op {
	case cond.Eq:
		return one(n.Value)
	case cond.In:
		var alts []*cond.Node
		for _, v := range n.Values {
			alts = append(alts, one(v))
		}
		return cond.AnyOf(alts...)
	case cond.Exists:
		return cond.AnyOf(cond.Present(base+".sc"), n)
	}
	return n
}

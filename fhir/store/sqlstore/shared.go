package sqlstore

import (
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir/search"
)

// Most resources name their patient under several stored fields at once:
// the compartment (pat), the access attribute (acl.pat) and search
// parameters such as patient and subject (and a Provenance's target), all
// with the same "Patient/<id>". The engine writes such a value once, in one
// index row whose field names the fields that share it, instead of one row
// per field: a shared row's field is sharedPrefix and those field names in
// the type's order, joined by sharedSep ("~acl.pat+pat+sp.patient"). That
// is three rows fewer for an Encounter (of about 25) and two for a
// Provenance (of about 11).
//
// A condition on one of these fields then looks under the field itself and
// under every shared field that includes it (fieldIn); the set is fixed by
// the type's search parameters, so no lookup is needed, and rows written
// before, one per field, are still found under the field's own name.

const (
	sharedPrefix = "~"
	sharedSep    = "+"
)

// sharable are the stored fields whose values are shared between them, in
// the order shared field names list them; a type has those its search
// index defines (pat and acl.pat always).
var sharable = []string{"acl.pat", "pat", "sp.patient", "sp.subject", "sp.target"}

// sharedFields are a type's sharable fields and, for each, the index field
// names it may be stored under: its own and every shared name including it.
type sharedFields struct {
	fields []string
	names  map[string][]string
}

// sharedFieldsOf derives t's shared fields from its search index keys.
func sharedFieldsOf(t string) sharedFields {
	keys := search.IndexKeys(t)
	var fields []string
	for _, f := range sharable {
		if f == "pat" || f == "acl.pat" || slices.Contains(keys, f) {
			fields = append(fields, f)
		}
	}
	sf := sharedFields{fields: fields, names: map[string][]string{}}
	// Every subset of two or more fields, by bitmask over fields.
	for mask := 1; mask < 1<<len(fields); mask++ {
		var in []string
		for i, f := range fields {
			if mask&(1<<i) != 0 {
				in = append(in, f)
			}
		}
		name := in[0]
		if len(in) > 1 {
			name = sharedName(in)
		}
		for _, f := range in {
			sf.names[f] = append(sf.names[f], name)
		}
	}
	return sf
}

func sharedName(fields []string) string {
	return sharedPrefix + strings.Join(fields, sharedSep)
}

// share replaces the entries of es that hold the same string value under
// several of sf's fields with one shared entry per value. Other entries
// keep their order; shared ones follow them.
func (sf sharedFields) share(es []entry) []entry {
	if len(sf.fields) < 2 {
		return es
	}
	rank := func(f string) int { return slices.Index(sf.fields, f) }
	byValue := map[string][]string{}
	var values []string // in first-seen order
	for _, e := range es {
		v, ok := e.v.(string)
		if !ok || rank(e.f) < 0 {
			continue
		}
		if byValue[v] == nil {
			values = append(values, v)
		}
		byValue[v] = append(byValue[v], e.f)
	}
	if len(values) == 0 {
		return es
	}
	out := es[:0:0]
	for _, e := range es {
		v, ok := e.v.(string)
		if ok && rank(e.f) >= 0 && len(byValue[v]) > 1 {
			continue
		}
		out = append(out, e)
	}
	for _, v := range values {
		fs := byValue[v]
		if len(fs) < 2 {
			continue
		}
		slices.SortFunc(fs, func(a, b string) int { return rank(a) - rank(b) })
		out = append(out, entry{sharedName(fs), v})
	}
	return out
}

// namesOf are the index field names stored field f may be under: its own,
// and for a shared field every shared name including it.
func (sf sharedFields) namesOf(f string) []string {
	if names := sf.names[f]; names != nil {
		return names
	}
	return []string{f}
}

// fieldIn writes the test that index field column col holds the writer's
// type's stored field f: col = f, or for a shared field col IN (its names).
func (w *sqlWriter) fieldIn(col, f string) {
	names := w.s.shared[w.t].namesOf(f)
	if len(names) == 1 {
		w.b.WriteString(col + " = ?")
	} else {
		w.b.WriteString(col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")")
	}
	for _, n := range names {
		w.args = append(w.args, n)
	}
}

// literals are namesOf(f) as SQL string literals, for a query whose
// placeholders are already numbered (the names are this package's own:
// letters, digits and . - + ~, no quote).
func (sf sharedFields) literals(f string) string {
	return "'" + strings.Join(sf.namesOf(f), "', '") + "'"
}

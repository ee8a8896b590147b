package sqlstore

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// entry is one row of a type's search index.
type entry struct {
	f string
	v any
}

// indexed is what a resource is searched by: index rows and sort keys.
type indexed struct {
	entries []entry
	sorts   map[string]int64 // column -> value
	facts   []facts.Fact
	// systems are the (field, system) pairs whose sc rows stand for codes
	// with no c row (see compactToken).
	systems [][2]string
	// acl are the access attributes' columns: a_pat, a_cat, a_sec, a_org.
	acl [4]string
}

// aclColumns hold the access attributes the policy's restriction tests on
// every candidate row: the patient as it is, each list as its values
// between separators ("\x1fa\x1fb\x1f"), so that a test is a string
// search in the row itself rather than a probe of the index.
var aclColumns = []string{"a_pat", "a_cat", "a_sec", "a_org"}

// aclList encodes a list attribute for its column.
func aclList(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return aclSep + strings.Join(vs, aclSep) + aclSep
}

const aclSep = "\x1f"

// values are the head's extra columns (aclColumns, then the sort columns
// cols) in order.
func (ix *indexed) values(cols []string) []any {
	out := make([]any, 0, len(aclColumns)+len(cols))
	for _, a := range ix.acl {
		out = append(out, a)
	}
	for _, c := range cols {
		if v, ok := ix.sorts[c]; ok {
			out = append(out, v)
		} else {
			out = append(out, nil)
		}
	}
	return out
}

// indexOf extracts the stored fields of a resource, the same fields the
// MongoDB engine keeps in its documents (search.Index and
// policy.Attributes), flattened to (field, value) rows.
func (s *Store) indexOf(t string, obj map[string]any) indexed {
	sp, pat := search.Index(t, obj)
	a := policy.Attributes(t, obj)
	var out indexed
	id, _ := obj["id"].(string)
	out.facts = facts.FromResource(t, id, obj, sp, pat)
	seen := map[entry]bool{}
	add := func(f string, v any) {
		e := entry{f, v}
		if !seen[e] {
			seen[e] = true
			out.entries = append(out.entries, e)
		}
	}
	for _, p := range pat {
		add("pat", p)
	}
	// The policy's attributes are always present in a MongoDB document
	// (acl.pat is "" for a resource about no patient). The patient is also
	// in the index, so that a search may start from it.
	add("acl.pat", a.Patient)
	out.acl = [4]string{a.Patient, aclList(a.Categories), aclList(a.Labels), aclList(a.AuthorOrgs)}
	cols := s.sorts[t]
	for k, v := range sp {
		if k == "_sort" {
			continue
		}
		compact, relied := compactToken(v)
		for _, sys := range relied {
			out.systems = append(out.systems, [2]string{"sp." + k, sys})
		}
		flatten("sp."+k, compact, add)
	}
	if so, ok := sp["_sort"].(bson.M); ok {
		out.sorts = map[string]int64{}
		for name, ad := range so {
			m, _ := ad.(bson.M)
			for dir, v := range m {
				if col, ok := cols["sp._sort."+name+"."+dir]; ok {
					if dt, ok := v.(bson.DateTime); ok {
						out.sorts[col] = int64(dt)
					}
				}
			}
		}
	}
	out.entries = s.shared[t].share(out.entries)
	sort.Slice(out.entries, func(i, j int) bool { return out.entries[i].f < out.entries[j].f })
	return out
}

// flatten emits the scalars under path: a document's fields as
// path.field, a list's items at path itself.
func flatten(path string, v any, add func(string, any)) {
	switch x := v.(type) {
	case nil:
	case bson.M:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(path+"."+k, x[k], add)
		}
	case map[string]any:
		flatten(path, bson.M(x), add)
	case bson.D:
		for _, e := range x {
			flatten(path+"."+e.Key, e.Value, add)
		}
	case []string:
		for _, s := range x {
			add(path, s)
		}
	case bson.A:
		for _, it := range x {
			flatten(path, it, add)
		}
	case []any:
		for _, it := range x {
			flatten(path, it, add)
		}
	case string:
		add(path, x)
	case bool:
		add(path, x)
	case bson.DateTime:
		add(path, int64(x))
	case float64:
		add(path, x)
	case float32:
		add(path, float64(x))
	case int:
		add(path, int64(x))
	case int32:
		add(path, int64(x))
	case int64:
		add(path, x)
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice {
			for i := range rv.Len() {
				flatten(path, rv.Index(i).Interface(), add)
			}
			return
		}
		panic("sqlstore: unexpected search value of type " + rv.Type().String() + " at " + strings.TrimSpace(path))
	}
}

func slicesSort(s []string) { slices.Sort(s) }

// attrs decodes the access attribute columns.
func attrs(pat, cat, sec, org string) *policy.ResourceAttributes {
	return &policy.ResourceAttributes{Patient: pat, Categories: aclSplit(cat), Labels: aclSplit(sec), AuthorOrgs: aclSplit(org)}
}

func aclSplit(s string) []string {
	if s == "" {
		return []string{} // as policy.Attributes gives: an empty list, not null
	}
	return strings.Split(strings.Trim(s, aclSep), aclSep)
}

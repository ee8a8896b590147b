package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// deleted is the engine's own field of a head that is a deletion.
const deleted = "del"

// columns are the fields every head row has as a column: the condition
// fields (package cond) the engine keeps there, and its own.
var columns = map[string]string{cond.ID: "h.id", cond.LastUpdated: "h.lu", "vid": "h.vid", deleted: "h.del", cond.AccessPatient: "h.a_pat"}

// listColumns are the list attributes kept in one column each (see
// aclList); only equality, membership and existence are tested on them.
var listColumns = map[string]string{cond.AccessCategories: "h.a_cat", cond.AccessLabels: "h.a_sec", cond.AccessOrgs: "h.a_org"}

// alwaysPresent are fields every resource holds (perhaps empty), so
// exists on them is always true, as in MongoDB.
var alwaysPresent = map[string]bool{cond.Compartment: true, cond.AccessPatient: true, cond.AccessCategories: true, cond.AccessLabels: true, cond.AccessOrgs: true}

// indexField is the name of a condition field in a type's index rows: the
// search index under the names package cond gives it, the patient
// attribute as acl.pat.
func indexField(f string) string {
	if f == cond.AccessPatient {
		return "acl.pat"
	}
	return f
}

// inIndex reports whether f is a condition field kept in the index rows.
func inIndex(f string) bool {
	return f == cond.Compartment || f == cond.AccessPatient || strings.HasPrefix(f, "sp.")
}

// inlineIn is the longest membership list written as SQL parameters; a
// longer one goes in as one JSON array.
const inlineIn = 64

// sqlWriter emits a condition on the heads of type t (aliased h).
type sqlWriter struct {
	s    *Store
	t    string
	b    strings.Builder
	args []any
}

func (w *sqlWriter) column(field string) (string, bool) {
	if c, ok := columns[field]; ok {
		return c, true
	}
	if c, ok := w.s.sorts[w.t][field]; ok {
		return "h." + c, true
	}
	return "", false
}

// node writes n.
func (w *sqlWriter) node(n *cond.Node) error {
	switch n.Op {
	case cond.True:
		w.b.WriteString("1")
	case cond.False:
		w.b.WriteString("0")
	case cond.And, cond.Or:
		sep := " AND "
		if n.Op == cond.Or {
			sep = " OR "
		}
		w.b.WriteString("(")
		for i, k := range n.Kids {
			if i > 0 {
				w.b.WriteString(sep)
			}
			if err := w.node(k); err != nil {
				return err
			}
		}
		w.b.WriteString(")")
	case cond.Not:
		w.b.WriteString("NOT ")
		return w.node(n.Kids[0])
	default:
		return w.leaf(n)
	}
	return nil
}

func (w *sqlWriter) leaf(n *cond.Node) error {
	if n.Op == cond.InFacts {
		return w.inFacts(n)
	}
	if col, ok := listColumns[n.Field]; ok {
		return w.listValue(col, n)
	}
	if col, ok := w.column(n.Field); ok {
		if n.Op == cond.Exists {
			if strings.HasPrefix(col, "h.s_") {
				w.b.WriteString(col + " IS NOT NULL")
			} else {
				w.b.WriteString("1")
			}
			return nil
		}
		return w.value(col, n)
	}
	if !inIndex(n.Field) {
		return fmt.Errorf("sqlstore: no stored field %q", n.Field)
	}
	if n.Op == cond.Exists {
		if alwaysPresent[n.Field] {
			w.b.WriteString("1")
			return nil
		}
		fmt.Fprintf(&w.b, "EXISTS (SELECT 1 FROM %s x WHERE x.r = h.rid AND ", index(w.t))
		if w.s.shared[w.t].names[n.Field] != nil {
			w.fieldIn("x.f", n.Field) // a shared field has no subfields
			w.b.WriteString(")")
			return nil
		}
		w.b.WriteString("(x.f = ? OR (x.f > ? AND x.f < ?)))")
		w.args = append(w.args, n.Field, n.Field+".", n.Field+"/")
		return nil
	}
	fmt.Fprintf(&w.b, "EXISTS (SELECT 1 FROM %s x WHERE x.r = h.rid AND ", index(w.t))
	w.fieldIn("x.f", indexField(n.Field))
	w.b.WriteString(" AND ")
	if err := w.value("x.v", n); err != nil {
		return err
	}
	w.b.WriteString(")")
	return nil
}

// listValue writes a test on a list column: some value equals, or is in.
func (w *sqlWriter) listValue(col string, n *cond.Node) error {
	var vs []any
	switch n.Op {
	case cond.Exists:
		w.b.WriteString("1") // always present, as in MongoDB (perhaps empty)
		return nil
	case cond.Eq:
		vs = []any{n.Value}
	case cond.In:
		vs = n.Values
	default:
		return fmt.Errorf("sqlstore: only equality and membership are supported on %s", n.Field)
	}
	w.b.WriteString("(")
	for i, v := range vs {
		s, ok := v.(string)
		if i > 0 {
			w.b.WriteString(" OR ")
		}
		if !ok {
			w.b.WriteString("0") // the attributes are strings
			continue
		}
		w.b.WriteString("instr(" + col + ", ?) > 0")
		w.args = append(w.args, aclSep+s+aclSep)
	}
	w.b.WriteString(")")
	return nil
}

// value writes the test of one value expression (a column or x.v).
func (w *sqlWriter) value(v string, n *cond.Node) error {
	if err := checkValues(n); err != nil {
		return err
	}
	switch n.Op {
	case cond.Eq, cond.Lt, cond.Le, cond.Gt, cond.Ge:
		op := map[cond.Op]string{cond.Eq: "=", cond.Lt: "<", cond.Le: "<=", cond.Gt: ">", cond.Ge: ">="}[n.Op]
		if n.Op != cond.Eq {
			// MongoDB compares only values of one kind: a number is never
			// greater than a string.
			fmt.Fprintf(&w.b, "%s %s ? AND %s", v, op, sameKind(v, n.Value))
		} else {
			fmt.Fprintf(&w.b, "%s %s ?", v, op)
		}
		w.args = append(w.args, sqlValue(n.Value))
	case cond.In:
		w.in(v, n.Values)
	case cond.Prefix:
		p, _ := n.Value.(string)
		fmt.Fprintf(&w.b, "%s >= ? AND %s < ?", v, v)
		w.args = append(w.args, p, p+"\xff")
	case cond.Contains:
		fmt.Fprintf(&w.b, "typeof(%s) = 'text' AND instr(%s, ?) > 0", v, v)
		w.args = append(w.args, n.Value)
	default:
		return fmt.Errorf("sqlstore: condition %d on %s is not supported", n.Op, n.Field)
	}
	return nil
}

func (w *sqlWriter) in(v string, values []any) {
	if len(values) > inlineIn {
		fmt.Fprintf(&w.b, "%s IN (SELECT value FROM json_each(?))", v)
		w.args = append(w.args, jsonArray(values))
		return
	}
	w.b.WriteString(v + " IN (")
	for i, x := range values {
		if i > 0 {
			w.b.WriteString(", ")
		}
		w.b.WriteString("?")
		w.args = append(w.args, sqlValue(x))
	}
	w.b.WriteString(")")
}

func sameKind(v string, x any) string {
	switch x.(type) {
	case string:
		return "typeof(" + v + ") = 'text'"
	case bool:
		return "1"
	}
	// Numbers and times (stored as milliseconds since the epoch).
	return "typeof(" + v + ") IN ('integer', 'real')"
}

// checkValues refuses a leaf with a value package cond does not define.
func checkValues(n *cond.Node) error {
	if n.Value != nil {
		if err := checkValue(n.Value); err != nil {
			return err
		}
	}
	for _, x := range n.Values {
		if err := checkValue(x); err != nil {
			return err
		}
	}
	return nil
}

func checkValue(x any) error {
	switch x.(type) {
	case string, bool, int64, float64, time.Time:
		return nil
	}
	return fmt.Errorf("sqlstore: a %T is not a condition value", x)
}

// sqlValue is a condition's value as the rows store it: booleans as 0 or
// 1, times as milliseconds since the epoch.
func sqlValue(v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case time.Time:
		return x.UnixMilli()
	}
	return v
}

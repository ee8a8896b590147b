package sqlstore

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"modernc.org/sqlite"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// columns are the stored fields every head row has as a column.
var columns = map[string]string{"_id": "h.id", "lu": "h.lu", "vid": "h.vid", "del": "h.del", "acl.pat": "h.a_pat"}

// listColumns are the list attributes kept in one column each (see
// aclList); only equality, membership and existence are tested on them.
var listColumns = map[string]string{"acl.cat": "h.a_cat", "acl.sec": "h.a_sec", "acl.org": "h.a_org"}

// alwaysPresent are index fields every MongoDB document holds (perhaps
// empty), so $exists on them is always true there.
var alwaysPresent = map[string]bool{"pat": true, "acl.pat": true, "acl.cat": true, "acl.sec": true, "acl.org": true}

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
	if n.Op == cond.Exists {
		if alwaysPresent[n.Field] {
			w.b.WriteString("1")
			return nil
		}
		fmt.Fprintf(&w.b, "EXISTS (SELECT 1 FROM %s x WHERE x.r = h.rid AND (x.f = ? OR (x.f > ? AND x.f < ?)))", index(w.t))
		w.args = append(w.args, n.Field, n.Field+".", n.Field+"/")
		return nil
	}
	fmt.Fprintf(&w.b, "EXISTS (SELECT 1 FROM %s x WHERE x.r = h.rid AND x.f = ? AND ", index(w.t))
	w.args = append(w.args, n.Field)
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
	case cond.Regex:
		fmt.Fprintf(&w.b, "typeof(%s) = 'text' AND %s REGEXP ?", v, v)
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
	return "typeof(" + v + ") IN ('integer', 'real')"
}

func sqlValue(v any) any {
	if b, ok := v.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return v
}

// regexps caches compiled patterns of the REGEXP function.
var regexps sync.Map

func init() {
	// X REGEXP Y calls regexp(Y, X): RE2 syntax, as the search package writes.
	sqlite.MustRegisterDeterministicScalarFunction("regexp", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		pattern, _ := args[0].(string)
		value, ok := args[1].(string)
		if !ok {
			return int64(0), nil
		}
		var re *regexp.Regexp
		if c, ok := regexps.Load(pattern); ok {
			re = c.(*regexp.Regexp)
		} else {
			var err error
			if re, err = regexp.Compile(pattern); err != nil {
				return nil, err
			}
			regexps.Store(pattern, re)
		}
		if re.MatchString(value) {
			return int64(1), nil
		}
		return int64(0), nil
	})
}

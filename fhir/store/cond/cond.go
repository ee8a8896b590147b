// Package cond is the one intermediate form of a condition on stored
// resources: and, or, not, equality, membership, ranges, existence and
// string prefix or containment, over named stored fields. Each storage
// engine emits it in its own query language (the MongoDB engine as BSON,
// the SQLite engine as SQL), so search parameters, keyset paging and the
// access policy's pushed-down restriction mean the same on both.
//
// Fields are the stored-field names of the search index ("_id", "lu",
// "pat", "acl.cat", "sp.<param>.<part>", "sp._sort.<param>.a|d"); an
// engine maps them to its own storage. A condition on a field holding
// several values holds when any one value satisfies it, as in MongoDB;
// each leaf is decided on its own, so two leaves on one field may be
// satisfied by different values.
//
// The search package and the policy compile to BSON filters today;
// [FromBSON] reads that filter language into this form and rejects
// anything outside the accepted subset (below), so an engine never runs a
// condition it does not understand:
//
//	{field: scalar}                        equality (null: the field is absent)
//	{field: {$eq|$ne|$gt|$gte|$lt|$lte: scalar}}
//	{field: {$in|$nin|$all: [scalars]}}
//	{field: {$exists: bool}}
//	{field: {$regex: "^literal" | "literal" | pattern, $options: "i"?}}
//	{field: {$not: {operators}}}
//	{$and|$or|$nor: [filters]}
//
// Scalars are strings, booleans, numbers and dates (dates become
// milliseconds since the epoch).
package cond

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Op is a node's operation.
type Op uint8

// Operations.
const (
	True Op = iota
	False
	And
	Or
	Not
	Eq       // Field = Value
	In       // Field in Values (empty: false)
	Lt       // Field < Value
	Le       // Field <= Value
	Gt       // Field > Value
	Ge       // Field >= Value
	Exists   // Field has a value
	Prefix   // Field (a string) starts with Value
	Contains // Field (a string) contains Value
	Regex    // Field (a string) matches the RE2 pattern Value
)

// Node is a condition.
type Node struct {
	Op     Op
	Field  string
	Value  any   // string, bool, int64, float64
	Values []any // In
	Kids   []*Node
}

// Leaf reports whether n is a condition on one field.
func (n *Node) Leaf() bool { return n.Op >= Eq }

// AllOf is the conjunction of ns, simplified: constants fold, nested
// conjunctions flatten.
func AllOf(ns ...*Node) *Node {
	var kids []*Node
	for _, n := range ns {
		switch n.Op {
		case True:
			continue
		case False:
			return &Node{Op: False}
		case And:
			kids = append(kids, n.Kids...)
		default:
			kids = append(kids, n)
		}
	}
	switch len(kids) {
	case 0:
		return &Node{Op: True}
	case 1:
		return kids[0]
	}
	return &Node{Op: And, Kids: kids}
}

// AnyOf is the disjunction of ns, simplified.
func AnyOf(ns ...*Node) *Node {
	var kids []*Node
	for _, n := range ns {
		switch n.Op {
		case False:
			continue
		case True:
			return &Node{Op: True}
		case Or:
			kids = append(kids, n.Kids...)
		default:
			kids = append(kids, n)
		}
	}
	switch len(kids) {
	case 0:
		return &Node{Op: False}
	case 1:
		return kids[0]
	}
	return &Node{Op: Or, Kids: kids}
}

// NoneOf is the negation of the disjunction of ns.
func NoneOf(ns ...*Node) *Node {
	n := AnyOf(ns...)
	switch n.Op {
	case True:
		return &Node{Op: False}
	case False:
		return &Node{Op: True}
	case Not:
		return n.Kids[0]
	}
	return &Node{Op: Not, Kids: []*Node{n}}
}

// FromBSON reads a filter of the accepted subset (see the package doc).
// An empty filter is True.
func FromBSON(d bson.D) (*Node, error) {
	var parts []*Node
	for _, e := range d {
		n, err := element(e.Key, e.Value)
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
	}
	return AllOf(parts...), nil
}

func element(key string, value any) (*Node, error) {
	switch key {
	case "$and", "$or", "$nor":
		list, err := filters(value)
		if err != nil {
			return nil, fmt.Errorf("cond: %s: %w", key, err)
		}
		switch key {
		case "$and":
			return AllOf(list...), nil
		case "$or":
			return AnyOf(list...), nil
		}
		return NoneOf(list...), nil
	}
	if strings.HasPrefix(key, "$") {
		return nil, fmt.Errorf("cond: operator %s is not in the accepted subset", key)
	}
	if ops, ok := operatorDoc(value); ok {
		return operators(key, ops)
	}
	if value == nil {
		return NoneOf(&Node{Op: Exists, Field: key}), nil
	}
	v, err := Scalar(value)
	if err != nil {
		return nil, fmt.Errorf("cond: %s: %w", key, err)
	}
	return &Node{Op: Eq, Field: key, Value: v}, nil
}

// operatorDoc reports whether v is a document of $operators.
func operatorDoc(v any) (bson.D, bool) {
	var d bson.D
	switch x := v.(type) {
	case bson.D:
		d = x
	case bson.M:
		for k, val := range x {
			d = append(d, bson.E{Key: k, Value: val})
		}
	default:
		return nil, false
	}
	if len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
		return nil, false
	}
	return d, true
}

func operators(field string, ops bson.D) (*Node, error) {
	var parts []*Node
	var options string
	for _, o := range ops {
		if o.Key == "$options" {
			options, _ = o.Value.(string)
		}
	}
	for _, o := range ops {
		var n *Node
		switch o.Key {
		case "$options":
			continue
		case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte":
			if o.Value == nil && (o.Key == "$eq" || o.Key == "$ne") {
				n = &Node{Op: Exists, Field: field}
				if o.Key == "$eq" {
					n = NoneOf(n)
				}
				break
			}
			v, err := Scalar(o.Value)
			if err != nil {
				return nil, fmt.Errorf("cond: %s %s: %w", field, o.Key, err)
			}
			op := map[string]Op{"$eq": Eq, "$ne": Eq, "$gt": Gt, "$gte": Ge, "$lt": Lt, "$lte": Le}[o.Key]
			n = &Node{Op: op, Field: field, Value: v}
			if o.Key == "$ne" {
				n = NoneOf(n)
			}
		case "$in", "$nin", "$all":
			vs, err := scalars(o.Value)
			if err != nil {
				return nil, fmt.Errorf("cond: %s %s: %w", field, o.Key, err)
			}
			switch o.Key {
			case "$all":
				var all []*Node
				for _, v := range vs {
					all = append(all, &Node{Op: Eq, Field: field, Value: v})
				}
				if len(all) == 0 {
					n = &Node{Op: False} // MongoDB: $all of nothing matches nothing
				} else {
					n = AllOf(all...)
				}
			case "$in":
				n = in(field, vs)
			default:
				n = NoneOf(in(field, vs))
			}
		case "$exists":
			b, ok := o.Value.(bool)
			if !ok {
				return nil, fmt.Errorf("cond: %s $exists takes a boolean", field)
			}
			n = &Node{Op: Exists, Field: field}
			if !b {
				n = NoneOf(n)
			}
		case "$regex":
			pattern, ok := o.Value.(string)
			if !ok {
				if r, isRegex := o.Value.(bson.Regex); isRegex {
					pattern, options = r.Pattern, r.Options
				} else {
					return nil, fmt.Errorf("cond: %s $regex takes a string", field)
				}
			}
			var err error
			if n, err = regex(field, pattern, options); err != nil {
				return nil, err
			}
		case "$not":
			inner, ok := operatorDoc(o.Value)
			if !ok {
				return nil, fmt.Errorf("cond: %s $not takes an operator document", field)
			}
			c, err := operators(field, inner)
			if err != nil {
				return nil, err
			}
			n = NoneOf(c)
		default:
			return nil, fmt.Errorf("cond: operator %s is not in the accepted subset", o.Key)
		}
		parts = append(parts, n)
	}
	return AllOf(parts...), nil
}

func in(field string, vs []any) *Node {
	switch len(vs) {
	case 0:
		return &Node{Op: False}
	case 1:
		return &Node{Op: Eq, Field: field, Value: vs[0]}
	}
	return &Node{Op: In, Field: field, Values: vs}
}

// regex turns a pattern into a prefix or containment test when it is a
// quoted literal (what the search package writes), else a Regex node.
func regex(field, pattern, options string) (*Node, error) {
	if options != "" && options != "i" {
		return nil, fmt.Errorf("cond: %s: regex options %q are not in the accepted subset", field, options)
	}
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		return nil, fmt.Errorf("cond: %s: invalid pattern: %w", field, err)
	}
	if options == "" {
		lit, anchored := strings.CutPrefix(pattern, "^")
		if plain, ok := unquote(lit); ok {
			if anchored {
				return &Node{Op: Prefix, Field: field, Value: plain}, nil
			}
			return &Node{Op: Contains, Field: field, Value: plain}, nil
		}
	} else {
		pattern = "(?i)" + pattern
	}
	return &Node{Op: Regex, Field: field, Value: pattern}, nil
}

// unquote inverts regexp.QuoteMeta: ok when s is exactly a quoted literal.
func unquote(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i+1 == len(s) {
				return "", false
			}
			i++
			c = s[i]
			if !strings.ContainsRune(`\.+*?()|[]{}^$`, rune(c)) {
				return "", false
			}
		} else if strings.ContainsRune(`\.+*?()|[]{}^$`, rune(c)) {
			return "", false
		}
		b.WriteByte(c)
	}
	out := b.String()
	return out, regexp.QuoteMeta(out) == s
}

func filters(v any) ([]*Node, error) {
	var items []any
	switch x := v.(type) {
	case bson.A:
		items = x
	case []any:
		items = x
	case []bson.D:
		for _, d := range x {
			items = append(items, d)
		}
	default:
		return nil, fmt.Errorf("takes a list of filters, not %T", v)
	}
	out := make([]*Node, 0, len(items))
	for _, it := range items {
		var d bson.D
		switch x := it.(type) {
		case bson.D:
			d = x
		case bson.M:
			for k, val := range x {
				d = append(d, bson.E{Key: k, Value: val})
			}
		default:
			return nil, fmt.Errorf("a list item is %T, not a filter", it)
		}
		n, err := FromBSON(d)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func scalars(v any) ([]any, error) {
	var items []any
	switch x := v.(type) {
	case bson.A:
		items = x
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("takes a list, not %T", v)
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		s, err := Scalar(it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Scalar normalises a BSON scalar: strings, booleans, int64, float64;
// dates as int64 milliseconds since the epoch.
func Scalar(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case bson.DateTime:
		return int64(x), nil
	case time.Time:
		return x.UnixMilli(), nil
	case bson.RawValue:
		switch x.Type {
		case bson.TypeString:
			return x.StringValue(), nil
		case bson.TypeBoolean:
			return x.Boolean(), nil
		case bson.TypeInt32:
			return int64(x.Int32()), nil
		case bson.TypeInt64:
			return x.Int64(), nil
		case bson.TypeDouble:
			return x.Double(), nil
		case bson.TypeDateTime:
			return x.DateTime(), nil
		}
		return nil, fmt.Errorf("a %s value is not a scalar", x.Type)
	}
	return nil, fmt.Errorf("a %T value is not a scalar", v)
}

// String is a readable form of n, for tests and diagnostics.
func (n *Node) String() string {
	switch n.Op {
	case True:
		return "true"
	case False:
		return "false"
	case And, Or, Not:
		name := map[Op]string{And: "and", Or: "or", Not: "not"}[n.Op]
		parts := make([]string, len(n.Kids))
		for i, k := range n.Kids {
			parts[i] = k.String()
		}
		return name + "(" + strings.Join(parts, ", ") + ")"
	case Exists:
		return "exists " + n.Field
	case In:
		return fmt.Sprintf("%s in %v", n.Field, n.Values)
	}
	op := map[Op]string{Eq: "=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=", Prefix: "prefix", Contains: "contains", Regex: "regex"}[n.Op]
	return fmt.Sprintf("%s %s %v", n.Field, op, n.Value)
}

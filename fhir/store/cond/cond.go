// Package cond is the one intermediate form of a condition on stored
// resources: and, or, not, equality, membership, ranges, existence and
// string prefix or containment, over named stored fields. The search
// package builds it from a query string and the access policy from what
// partial evaluation of its rules leaves; each storage engine emits it in
// its own query language (the MongoDB engine in package store as BSON, the
// SQLite engine in package sqlstore as SQL), and [Node.Eval] decides it
// over one record in Go. Search parameters, keyset paging and the policy's
// pushed-down restriction therefore mean the same on every engine.
//
// # Fields
//
// Fields are logical names; an engine maps each to its own storage and
// refuses a condition on a field it does not store, so that a search never
// runs a condition it does not understand.
//
//   - The access attributes the policy decides on, stored beside every
//     resource: [AccessPatient] (one string, "" for a resource about no
//     patient), [AccessCategories], [AccessLabels] and [AccessOrgs] (lists
//     of strings, perhaps empty, always present). The MongoDB engine keeps
//     them as acl.pat, acl.cat, acl.sec and acl.org; the SQLite engine as
//     the columns a_pat, a_cat, a_sec and a_org. The lists take only
//     equality, membership and existence.
//   - The search index the search package writes: [ID] (the resource id),
//     [LastUpdated] (a time), [Compartment] (the "Patient/<id>" compartments,
//     a list) and "sp.<param>.<part>" or "sp.<param>" for a parameter's
//     values (see the search package doc), with "sp._sort.<param>.a|d" for
//     sort keys. The MongoDB engine stores them under these names; the
//     SQLite engine in its head columns (id, lu, sort keys) and index rows.
//
// # Conditions
//
// A condition on a field holding several values holds when any one value
// satisfies it, as in MongoDB; each leaf is decided on its own, so two
// leaves on one field may be satisfied by different values. A leaf on an
// absent field does not hold (so [Not] of it does); [Exists] holds for a
// present field, even an empty list. Values are strings, booleans, int64,
// float64 and time.Time; a comparison holds only between values of one
// kind (numbers of either type compare with each other), as in MongoDB.
//
//	true, false                   constants
//	and(a, b, ...), or(...), not(a)
//	f = v                          Eq: some value of f equals v
//	f in [v, ...]                  In: some value of f equals one of them (none: false)
//	f < v, f <= v, f > v, f >= v   Lt, Le, Gt, Ge
//	exists f                       Exists
//	f prefix s, f contains s       Prefix, Contains: some string value of f
//
// The access policy's accepted subset of Rego (stated in the package doc
// of policy) translates into these forms over the access attributes:
// equality on a list attribute, the patient's equality with a string or
// membership of a list, negation, conjunction and disjunction.
package cond

import (
	"fmt"
	"strings"
	"time"
)

// Access attributes: what the access policy decides on (see the package
// doc for their storage).
const (
	AccessPatient    = "access.patient"
	AccessCategories = "access.categories"
	AccessLabels     = "access.labels"
	AccessOrgs       = "access.author_orgs"
)

// Search-index fields other than the "sp." parameter values.
const (
	ID          = "_id"
	LastUpdated = "lu"
	Compartment = "pat"
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
	InFacts  // Field (the patient attribute) is one of the patients Set names
)

// A FactSet names a set of patients by their access facts (package facts)
// instead of listing them: the patients with a fact of one of Kinds that
// names one of the organisations (the caller's, found by its ODS code,
// and Orgs; neither for facts that name none, such as objections), a
// fact that ends (an encounter) counting only when it ends after Since.
// A caller's caseload can be long; an engine that keeps the facts beside
// the resources tests membership in the query itself, one that does not
// looks the set up first.
type FactSet struct {
	Kinds []string
	ODS   string
	Orgs  []string // "Organization/<id>"
	Since int64    // milliseconds since the epoch; 0: every fact
}

// InFactSet is field (the patient attribute) in the patients s names.
func InFactSet(field string, s *FactSet) *Node { return &Node{Op: InFacts, Field: field, Set: s} }

// Node is a condition. Nodes are immutable once built: callers share them.
type Node struct {
	Op     Op
	Field  string
	Value  any      // string, bool, int64, float64, time.Time
	Values []any    // In
	Set    *FactSet // InFacts
	Kids   []*Node
}

// Leaf reports whether n is a condition on one field.
func (n *Node) Leaf() bool { return n.Op >= Eq }

// Always is a condition that always holds.
func Always() *Node { return &Node{Op: True} }

// Never is a condition that never holds.
func Never() *Node { return &Node{Op: False} }

// Is is field = v.
func Is(field string, v any) *Node { return &Node{Op: Eq, Field: field, Value: v} }

// OneOf is some value of field in vs: Never for none, equality for one.
func OneOf[T any](field string, vs []T) *Node {
	switch len(vs) {
	case 0:
		return Never()
	case 1:
		return Is(field, vs[0])
	}
	values := make([]any, len(vs))
	for i, v := range vs {
		values[i] = v
	}
	return &Node{Op: In, Field: field, Values: values}
}

// Compare is field op v for a range operation (Lt, Le, Gt, Ge), Prefix or
// Contains.
func Compare(field string, op Op, v any) *Node { return &Node{Op: op, Field: field, Value: v} }

// Present is exists field.
func Present(field string) *Node { return &Node{Op: Exists, Field: field} }

// AllOf is the conjunction of ns, simplified: constants fold, nested
// conjunctions flatten.
func AllOf(ns ...*Node) *Node {
	var kids []*Node
	for _, n := range ns {
		switch n.Op {
		case True:
			continue
		case False:
			return Never()
		case And:
			kids = append(kids, n.Kids...)
		default:
			kids = append(kids, n)
		}
	}
	switch len(kids) {
	case 0:
		return Always()
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
			return Always()
		case Or:
			kids = append(kids, n.Kids...)
		default:
			kids = append(kids, n)
		}
	}
	switch len(kids) {
	case 0:
		return Never()
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
		return Never()
	case False:
		return Always()
	case Not:
		return n.Kids[0]
	}
	return &Node{Op: Not, Kids: []*Node{n}}
}

// Fields lists the fields n reads, each once, in order of appearance.
func (n *Node) Fields() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*Node)
	walk = func(n *Node) {
		if n.Leaf() && !seen[n.Field] {
			seen[n.Field] = true
			out = append(out, n.Field)
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(n)
	return out
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
		parts := make([]string, len(n.Values))
		for i, v := range n.Values {
			parts[i] = show(v)
		}
		return n.Field + " in [" + strings.Join(parts, ", ") + "]"
	case InFacts:
		return fmt.Sprintf("%s in facts(kinds %v, ods %q, orgs %v, since %d)", n.Field, n.Set.Kinds, n.Set.ODS, n.Set.Orgs, n.Set.Since)
	}
	op, ok := map[Op]string{Eq: "=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=", Prefix: "prefix", Contains: "contains"}[n.Op]
	if !ok {
		op = fmt.Sprintf("op%d", n.Op)
	}
	return n.Field + " " + op + " " + show(n.Value)
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

// ResolveFacts is n with every fact set replaced by the list of patients
// lookup gives for it, for an engine (or a test) that cannot test
// membership of a fact set itself; n is returned as it is when it holds
// none.
func (n *Node) ResolveFacts(lookup func(*FactSet) ([]string, error)) (*Node, error) {
	switch {
	case n.Op == InFacts:
		ps, err := lookup(n.Set)
		if err != nil {
			return nil, err
		}
		return OneOf(n.Field, ps), nil
	case n.Leaf() || len(n.Kids) == 0:
		return n, nil
	}
	kids := make([]*Node, len(n.Kids))
	changed := false
	for i, k := range n.Kids {
		r, err := k.ResolveFacts(lookup)
		if err != nil {
			return nil, err
		}
		kids[i] = r
		changed = changed || r != k
	}
	if !changed {
		return n, nil
	}
	c := *n
	c.Kids = kids
	return &c, nil
}

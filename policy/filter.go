package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrDenyAll is returned by [Engine.Filter] with a nil filter when the
// subject may read nothing of the kind searched for.
var ErrDenyAll = errors.New("policy: nothing may be read")

// ErrUntranslatable wraps every reason a filter could not be built; the
// search must then fail (closed), never run unfiltered.
var ErrUntranslatable = errors.New("policy: filter cannot be translated to a database query")

// Stored document fields the resource attributes map to. The collection is
// per resource type, so the type needs no field. The patient is acl.pat, the
// one patient policy.Attributes gives (the one the decision uses), not the
// top-level pat, which is the search compartment and may list several.
var storedFields = map[string]string{
	"patient":     "acl.pat",
	"categories":  "acl.cat",
	"labels":      "acl.sec",
	"author_orgs": "acl.org",
}

// scalarFields hold one value, in Rego and in the document; only they may
// be compared with == or with a constant collection.
var scalarFields = map[string]bool{"acl.pat": true}

// maxSupportDepth bounds nested support rules from partial evaluation.
const maxSupportDepth = 16

// Filter returns a MongoDB filter over stored documents that matches
// exactly the documents the subject may read in a search (in.Resource is
// ignored). Per-patient facts come as lists in in.Context
// (RelatedPatients, ObjectedPatients, KnownPatients, SelfPatients); the
// per-resource booleans must be unset. It returns nil and [ErrDenyAll] when
// nothing may be read, and an error wrapping [ErrUntranslatable] when the
// policy's conditions cannot be expressed as a query. An empty filter
// means everything of the type may be read.
//
// Filters are remembered per policy version: callers must not modify the
// returned filter.
func (e *Engine) Filter(ctx context.Context, in Input) (bson.D, error) {
	c := in.Context
	if c.Related || c.Objected || c.Self || c.KnownToCouncil || c.ProviderNamed {
		return nil, fmt.Errorf("%w: a search context takes patient lists, not per-resource facts", ErrUntranslatable)
	}
	key := filterKey(in)
	if f, ok := e.filters.get(key); ok {
		return f.filter, f.err
	}
	filter, err := e.buildFilter(ctx, in)
	if err == nil || errors.Is(err, ErrDenyAll) {
		e.filters.put(key, filterResult{filter, err})
	}
	return filter, err
}

// buildFilter partially evaluates the filter rule for in and translates
// the result to a MongoDB filter.
func (e *Engine) buildFilter(ctx context.Context, in Input) (bson.D, error) {
	pq, err := e.filter.Partial(ctx, rego.EvalParsedInput(in.filterValue()))
	if err != nil {
		return nil, fmt.Errorf("policy %s: filter: %w", e.revision, err)
	}
	if len(pq.Queries) == 0 {
		return nil, ErrDenyAll
	}
	t := translator{support: map[string][]*ast.Rule{}}
	for _, m := range pq.Support {
		for _, r := range m.Rules {
			k := m.Package.Path.Extend(r.Head.Ref().GroundPrefix()).String()
			t.support[k] = append(t.support[k], r)
		}
	}
	ors := make(bson.A, 0, len(pq.Queries))
	for _, q := range pq.Queries {
		d, err := t.body(q, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", e.revision, err)
		}
		if len(d) == 0 {
			return bson.D{}, nil // one way in holds unconditionally
		}
		ors = append(ors, d)
	}
	if len(ors) == 1 {
		return ors[0].(bson.D), nil
	}
	return bson.D{{Key: "$or", Value: ors}}, nil
}

// translator turns the result of partial evaluation into bson.
type translator struct {
	support map[string][]*ast.Rule
}

// env holds the parameters of a support rule that stand for the resource:
// "" for the whole of input.resource, otherwise the attribute they stand for
// (a parameter bound to input.resource.categories maps to "categories").
type env map[ast.Var]string

func untranslatable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUntranslatable, fmt.Sprintf(format, args...))
}

// body translates a conjunction; an empty body is an empty filter (true).
func (t translator) body(b ast.Body, vars env, depth int) (bson.D, error) {
	parts := make(bson.A, 0, len(b))
	for _, e := range b {
		d, err := t.expr(e, vars, depth)
		if err != nil {
			return nil, err
		}
		if len(d) > 0 {
			parts = append(parts, d)
		}
	}
	switch len(parts) {
	case 0:
		return bson.D{}, nil
	case 1:
		return parts[0].(bson.D), nil
	}
	return bson.D{{Key: "$and", Value: parts}}, nil
}

func (t translator) expr(e *ast.Expr, vars env, depth int) (bson.D, error) {
	if len(e.With) > 0 {
		return nil, untranslatable("with modifier in %v", e)
	}
	d, err := t.positive(e, vars, depth)
	if err != nil || !e.Negated {
		return d, err
	}
	if len(d) == 0 {
		return nil, untranslatable("negation of a condition that always holds in %v", e)
	}
	return bson.D{{Key: "$nor", Value: bson.A{d}}}, nil
}

// positive translates an expression ignoring its negation.
func (t translator) positive(e *ast.Expr, vars env, depth int) (bson.D, error) {
	if term, ok := e.Terms.(*ast.Term); ok {
		switch v := term.Value.(type) {
		case ast.Boolean:
			if v {
				return bson.D{}, nil
			}
		case ast.Ref:
			if _, err := field(term, vars); err == nil {
				// The bare attribute: partial evaluation keeps it when a
				// function is passed an attribute it no longer needs. The
				// engine defines every attribute of every resource it
				// decides (as a string or an array, never false), so the
				// condition always holds.
				return bson.D{}, nil
			}
			return t.call(v, nil, vars, depth)
		}
		return nil, untranslatable("expression %v", e)
	}
	if !e.IsCall() {
		return nil, untranslatable("expression %v", e)
	}
	op := e.Operator()
	args := e.Operands()
	switch op.String() {
	case ast.Member.Ref().String():
		return member(args[0], args[1], vars, e)
	case ast.Equality.Ref().String(), ast.Equal.Ref().String():
		return compare(args[0], args[1], "", vars, e)
	case ast.NotEqual.Ref().String():
		return compare(args[0], args[1], "$ne", vars, e)
	}
	if op.HasPrefix(ast.Ref{ast.DefaultRootDocument, ast.StringTerm("partial")}) {
		return t.call(op, args, vars, depth)
	}
	return nil, untranslatable("call %v", e)
}

// call translates a support rule (a disjunction of bodies) left by partial
// evaluation; args that stand for input.resource bind its parameters.
func (t translator) call(ref ast.Ref, args []*ast.Term, vars env, depth int) (bson.D, error) {
	if depth >= maxSupportDepth {
		return nil, untranslatable("support rules nested too deep at %v", ref)
	}
	rules := t.support[ref.String()]
	if len(rules) == 0 {
		return nil, untranslatable("reference %v", ref)
	}
	ors := make(bson.A, 0, len(rules))
	for _, r := range rules {
		if r.Else != nil || (r.Head.Value != nil && !r.Head.Value.Equal(ast.BooleanTerm(true))) {
			return nil, untranslatable("support rule %v is not a plain condition", ref)
		}
		if len(r.Head.Args) != len(args) {
			return nil, untranslatable("support rule %v called with %d arguments", ref, len(args))
		}
		inner := env{}
		for i, a := range r.Head.Args {
			v, ok := a.Value.(ast.Var)
			if !ok {
				return nil, untranslatable("support rule %v parameter %v", ref, a)
			}
			switch attr, err := attribute(args[i], vars); {
			case isResource(args[i], vars):
				inner[v] = ""
			case err == nil:
				inner[v] = attr
			default:
				return nil, untranslatable("support rule %v argument %v", ref, args[i])
			}
		}
		d, err := t.body(r.Body, inner, depth+1)
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			return bson.D{}, nil
		}
		ors = append(ors, d)
	}
	if len(ors) == 1 {
		return ors[0].(bson.D), nil
	}
	return bson.D{{Key: "$or", Value: ors}}, nil
}

// member translates "x in y".
func member(x, y *ast.Term, vars env, e *ast.Expr) (bson.D, error) {
	if f, err := field(y, vars); err == nil {
		// constant in resource array: some element equals it.
		s, ok := x.Value.(ast.String)
		if !ok {
			return nil, untranslatable("membership of a non-string in %v", e)
		}
		return bson.D{{Key: f, Value: string(s)}}, nil
	}
	f, err := field(x, vars)
	if err != nil {
		return nil, err
	}
	// resource value in a constant collection.
	list, err := constStrings(y)
	if err != nil {
		return nil, fmt.Errorf("%w in %v", err, e)
	}
	if !scalarFields[f] {
		return nil, untranslatable("array field %s compared with a collection in %v", f, e)
	}
	return bson.D{{Key: f, Value: bson.D{{Key: "$in", Value: list}}}}, nil
}

// compare translates == and != between one field and a string constant.
func compare(a, b *ast.Term, op string, vars env, e *ast.Expr) (bson.D, error) {
	f, err := field(a, vars)
	c := b
	if err != nil {
		if f, err = field(b, vars); err != nil {
			return nil, err
		}
		c = a
	}
	s, ok := c.Value.(ast.String)
	if !ok {
		return nil, untranslatable("comparison with a non-string in %v", e)
	}
	if !scalarFields[f] {
		return nil, untranslatable("array field %s compared with a value in %v", f, e)
	}
	if op == "" {
		return bson.D{{Key: f, Value: string(s)}}, nil
	}
	return bson.D{{Key: f, Value: bson.D{{Key: op, Value: string(s)}}}}, nil
}

// isResource reports whether t stands for the whole of input.resource.
func isResource(t *ast.Term, vars env) bool {
	switch v := t.Value.(type) {
	case ast.Var:
		attr, ok := vars[v]
		return ok && attr == ""
	case ast.Ref:
		return len(v) == 2 && v[0].Equal(ast.InputRootDocument) && v[1].Equal(ast.StringTerm("resource"))
	}
	return false
}

// field maps input.resource.<attr> (or <param>.<attr>, or a parameter
// standing for an attribute, in a support rule) to the stored document
// field.
func field(t *ast.Term, vars env) (string, error) {
	attr, err := attribute(t, vars)
	if err != nil {
		return "", err
	}
	f, ok := storedFields[attr]
	if !ok {
		return "", untranslatable("resource attribute %s has no stored field", attr)
	}
	return f, nil
}

// attribute names the resource attribute t stands for.
func attribute(t *ast.Term, vars env) (string, error) {
	var attr *ast.Term
	switch v := t.Value.(type) {
	case ast.Var:
		if a, ok := vars[v]; ok && a != "" {
			return a, nil
		}
	case ast.Ref:
		switch {
		case len(v) == 3 && v[0].Equal(ast.InputRootDocument) && v[1].Equal(ast.StringTerm("resource")):
			attr = v[2]
		case len(v) == 2 && isResource(v[0], vars):
			attr = v[1]
		}
	}
	if attr == nil {
		return "", untranslatable("%v is not a resource attribute", t)
	}
	s, ok := attr.Value.(ast.String)
	if !ok {
		return "", untranslatable("%v is not a resource attribute", t)
	}
	return string(s), nil
}

func constStrings(t *ast.Term) (bson.A, error) {
	out := bson.A{}
	add := func(e *ast.Term) error {
		s, ok := e.Value.(ast.String)
		if !ok {
			return untranslatable("collection holds %v, not a string", e)
		}
		out = append(out, string(s))
		return nil
	}
	var err error
	switch v := t.Value.(type) {
	case *ast.Array:
		v.Foreach(func(e *ast.Term) {
			if err == nil {
				err = add(e)
			}
		})
	case ast.Set:
		v.Foreach(func(e *ast.Term) {
			if err == nil {
				err = add(e)
			}
		})
	default:
		return nil, untranslatable("%v is not a constant collection", t)
	}
	return out, err
}

package policy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// ErrDenyAll is returned by [Engine.Filter] with a nil filter when the
// subject may read nothing of the kind searched for.
var ErrDenyAll = errors.New("policy: nothing may be read")

// ErrUntranslatable wraps every reason a filter could not be built; the
// search must then fail (closed), never run unfiltered.
var ErrUntranslatable = errors.New("policy: filter cannot be translated to a database query")

// attributeFields are the condition fields (package cond) the resource
// attributes map to; each engine stores them in its own way. A search is
// of one resource type, so the type needs no field. The patient is the one
// patient [Attributes] gives (the one the decision uses), not the search
// compartment, which may list several.
var attributeFields = map[string]string{
	"patient":     cond.AccessPatient,
	"categories":  cond.AccessCategories,
	"labels":      cond.AccessLabels,
	"author_orgs": cond.AccessOrgs,
}

// scalarFields hold one value, in Rego and in storage; only they may be
// compared with == or with a constant collection.
var scalarFields = map[string]bool{cond.AccessPatient: true}

// maxSupportDepth bounds nested support rules from partial evaluation.
const maxSupportDepth = 16

// Filter returns a condition (package cond) over the stored access
// attributes that holds for exactly the resources the subject may read in
// a search (in.Resource is ignored). Per-patient facts come as lists in in.Context
// (RelatedPatients, ObjectedPatients, KnownPatients, SelfPatients); the
// per-resource booleans must be unset. It returns nil and [ErrDenyAll] when
// nothing may be read, and an error wrapping [ErrUntranslatable] when the
// policy's conditions cannot be expressed as a query. A true condition
// means everything of the type may be read.
//
// The filter comes from the subject's plan (plan.go): what partial
// evaluation left of each open path, with the patient lists put in, so a
// search costs no policy evaluation. For a policy that cannot be
// specialised it comes from partial evaluation of the filter rule,
// remembered per policy version. Callers must not modify the returned
// condition.
func (e *Engine) Filter(ctx context.Context, in Input) (*cond.Node, error) {
	c := in.Context
	if c.Related || c.Objected || c.Self || c.KnownToCouncil || c.ProviderNamed {
		return nil, fmt.Errorf("%w: a search context takes patient lists, not per-resource facts", ErrUntranslatable)
	}
	p := e.planFor(ctx, in.Action, in.Subject)
	if p == nil && c.hasSets() {
		return nil, fmt.Errorf("%w: patients named by their facts need a plan; give the lists", ErrUntranslatable)
	}
	if p != nil {
		f, err := p.filter(&in.Context)
		if err != nil && !errors.Is(err, ErrDenyAll) {
			err = fmt.Errorf("policy %s: %w", e.revision, err)
		}
		return f, err
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
// the result to a condition. It is used for policies that cannot be
// specialised (see plan.go); the plan gives the filter otherwise.
func (e *Engine) buildFilter(ctx context.Context, in Input) (*cond.Node, error) {
	pq, err := e.partial(ctx, e.filter, in.filterValue())
	if err != nil {
		return nil, fmt.Errorf("policy %s: filter: %w", e.revision, err)
	}
	c, err := newTranslator(pq.Support, nil).queries(pq.Queries)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", e.revision, err)
	}
	return result(c)
}

// fixed is a condition that always or never holds.
func fixed(b bool) *cond.Node {
	if b {
		return cond.Always()
	}
	return cond.Never()
}

// result is the search filter for c: ErrDenyAll when it never holds.
func result(c *cond.Node) (*cond.Node, error) {
	if c.Op == cond.False {
		return nil, ErrDenyAll
	}
	return c, nil
}

// translator turns the result of partial evaluation into a condition of
// package cond, accepting the shapes the package doc lists (under
// "Accepted Rego"). The resource is unknown; the patient facts are either
// known to partial evaluation already (ctx nil) or unknown to it and given
// here (ctx), so that a plan's residual serves every search of its
// subject.
type translator struct {
	support map[string][]*ast.Rule
	ctx     *Context
}

func newTranslator(support []*ast.Module, ctx *Context) translator {
	return translator{support: supportRules(support), ctx: ctx}
}

// supportRules indexes the support rules of partial evaluation by name.
func supportRules(support []*ast.Module) map[string][]*ast.Rule {
	out := map[string][]*ast.Rule{}
	for _, m := range support {
		for _, r := range m.Rules {
			k := m.Package.Path.Extend(r.Head.Ref().GroundPrefix()).String()
			out[k] = append(out[k], r)
		}
	}
	return out
}

// binding is what a support rule's parameter stands for: the resource, one
// of its attributes, or a known value (a constant, the patient facts or
// one of them).
type binding struct {
	resource bool
	attr     string
	k        kind
	v        value
}

type env map[ast.Var]binding

func untranslatable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUntranslatable, fmt.Sprintf(format, args...))
}

// queries translates a disjunction of queries.
func (t translator) queries(qs []ast.Body) (*cond.Node, error) {
	alts := make([]*cond.Node, 0, len(qs))
	for _, q := range qs {
		c, err := t.body(q, nil, 0)
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
	}
	return cond.AnyOf(alts...), nil
}

// body translates a conjunction; an empty body always holds. Every
// expression must translate, even after one that never holds.
func (t translator) body(b ast.Body, vars env, depth int) (*cond.Node, error) {
	parts := make([]*cond.Node, 0, len(b))
	for _, e := range b {
		c, err := t.expr(e, vars, depth)
		if err != nil {
			return nil, err
		}
		parts = append(parts, c)
	}
	return cond.AllOf(parts...), nil
}

func (t translator) expr(e *ast.Expr, vars env, depth int) (*cond.Node, error) {
	if len(e.With) > 0 {
		return nil, untranslatable("with modifier in %v", e)
	}
	c, err := t.positive(e, vars, depth)
	if err != nil || !e.Negated {
		return c, err
	}
	return cond.NoneOf(c), nil
}

// positive translates an expression ignoring its negation.
func (t translator) positive(e *ast.Expr, vars env, depth int) (*cond.Node, error) {
	if term, ok := e.Terms.(*ast.Term); ok {
		if ref, isRef := term.Value.(ast.Ref); isRef && ref.HasPrefix(partialRoot) {
			return t.call(ref, nil, vars, depth)
		}
		if _, err := field(term, vars); err == nil {
			// The bare attribute: partial evaluation keeps it when a
			// function is passed an attribute it no longer needs. The
			// engine defines every attribute of every resource it decides
			// (as a string or an array, never false), so it always holds.
			return cond.Always(), nil
		}
		k, v, err := t.known(term, vars)
		if err != nil {
			return nil, untranslatable("expression %v", e)
		}
		// A term on its own holds when it is defined and not false.
		return fixed(v.ok && (k != kBool || v.b)), nil
	}
	if !e.IsCall() {
		return nil, untranslatable("expression %v", e)
	}
	op := e.Operator()
	args := e.Operands()
	switch op.String() {
	case ast.Member.Ref().String():
		return t.member(args[0], args[1], vars, e)
	case ast.Equality.Ref().String(), ast.Equal.Ref().String():
		return t.compare(args[0], args[1], false, vars, e)
	case ast.NotEqual.Ref().String():
		return t.compare(args[0], args[1], true, vars, e)
	}
	if op.HasPrefix(partialRoot) {
		return t.call(op, args, vars, depth)
	}
	return nil, untranslatable("call %v", e)
}

// call translates a support rule (a disjunction of bodies) left by partial
// evaluation, its parameters bound to the caller's arguments.
func (t translator) call(ref ast.Ref, args []*ast.Term, vars env, depth int) (*cond.Node, error) {
	if depth >= maxSupportDepth {
		return nil, untranslatable("support rules nested too deep at %v", ref)
	}
	rules := t.support[ref.String()]
	if len(rules) == 0 {
		return nil, untranslatable("reference %v", ref)
	}
	bound := make([]binding, len(args))
	for i, a := range args {
		b, err := t.bind(a, vars)
		if err != nil {
			return nil, untranslatable("support rule %v argument %v", ref, a)
		}
		bound[i] = b
	}
	alts := make([]*cond.Node, 0, len(rules))
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
			inner[v] = bound[i]
		}
		c, err := t.body(r.Body, inner, depth+1)
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
	}
	return cond.AnyOf(alts...), nil
}

// bind is what an argument of a support rule stands for.
func (t translator) bind(a *ast.Term, vars env) (binding, error) {
	if isResource(a, vars) {
		return binding{resource: true}, nil
	}
	if attr, err := attribute(a, vars); err == nil {
		return binding{attr: attr}, nil
	}
	k, v, err := t.known(a, vars)
	if err != nil {
		return binding{}, err
	}
	return binding{k: k, v: v}, nil
}

// member translates "x in y".
func (t translator) member(x, y *ast.Term, vars env, e *ast.Expr) (*cond.Node, error) {
	if f, err := field(y, vars); err == nil {
		// A known value in a resource array: some element equals it. The
		// arrays hold strings only.
		k, v, err := t.known(x, vars)
		if err != nil {
			return nil, untranslatable("membership of %v in %v", x, e)
		}
		if !v.ok || k != kString {
			return cond.Never(), nil
		}
		return cond.Is(f, v.s), nil
	}
	k, v, err := t.known(y, vars)
	if err != nil {
		return nil, untranslatable("membership in %v in %v", y, e)
	}
	if v.ok && k != kList && k != kSet {
		return nil, untranslatable("membership in a value that is not a collection of strings in %v", e)
	}
	if f, err := field(x, vars); err == nil {
		// A resource value in a known collection.
		if !scalarFields[f] {
			return nil, untranslatable("array field %s compared with a collection in %v", f, e)
		}
		if !v.ok {
			return cond.Never(), nil
		}
		if v.set != nil {
			return cond.InFactSet(f, v.set), nil
		}
		return cond.OneOf(f, v.l), nil
	}
	xk, xv, err := t.known(x, vars)
	if err != nil {
		return nil, untranslatable("membership of %v in %v", x, e)
	}
	if v.set != nil {
		return nil, untranslatable("membership of a known value in patients named by their facts in %v", e)
	}
	return fixed(xv.ok && v.ok && xk == kString && slices.Contains(v.l, xv.s)), nil
}

// compare translates == (or = between bound values) and != between one
// scalar field and a known string, or between two known values.
func (t translator) compare(a, b *ast.Term, negate bool, vars env, e *ast.Expr) (*cond.Node, error) {
	f, err := field(a, vars)
	other := b
	if err != nil {
		f, err = field(b, vars)
		other = a
	}
	if err == nil {
		k, v, err := t.known(other, vars)
		if err != nil {
			return nil, untranslatable("comparison of %v in %v", other, e)
		}
		if !scalarFields[f] {
			return nil, untranslatable("array field %s compared with a value in %v", f, e)
		}
		if !v.ok {
			return cond.Never(), nil
		}
		if k != kString {
			return fixed(negate), nil // a string field never equals a non-string
		}
		if negate {
			return cond.NoneOf(cond.Is(f, v.s)), nil
		}
		return cond.Is(f, v.s), nil
	}
	ak, av, err := t.known(a, vars)
	if err != nil {
		return nil, untranslatable("comparison in %v", e)
	}
	bk, bv, err := t.known(b, vars)
	if err != nil {
		return nil, untranslatable("comparison in %v", e)
	}
	if objectOrSet(ak) || objectOrSet(bk) {
		return nil, untranslatable("comparison of a whole object or a set in %v", e)
	}
	if !av.ok || !bv.ok {
		return cond.Never(), nil
	}
	same := ak == bk && av.s == bv.s && av.b == bv.b && slices.Equal(av.l, bv.l)
	return fixed(same != negate), nil
}

// known is the value of a term that is not about the resource: a constant,
// or the patient facts (given to the translator) or one of them.
func (t translator) known(term *ast.Term, vars env) (kind, value, error) {
	switch v := term.Value.(type) {
	case ast.String:
		return kString, value{ok: true, s: string(v)}, nil
	case ast.Boolean:
		return kBool, value{ok: true, b: bool(v)}, nil
	case *ast.Array, ast.Set:
		k, list, err := constList(term)
		if err != nil {
			return 0, value{}, err
		}
		return k, value{ok: true, l: list}, nil
	case ast.Var:
		if b, ok := vars[v]; ok && !b.resource && b.attr == "" {
			return b.k, b.v, nil
		}
	case ast.Ref:
		if t.ctx == nil {
			break
		}
		var rest ast.Ref
		switch {
		case len(v) >= 2 && v[0].Equal(ast.InputRootDocument) && v[1].Equal(ast.StringTerm("context")):
			rest = v[2:]
		default:
			head, isVar := v[0].Value.(ast.Var)
			b, ok := vars[head]
			if !isVar || !ok || b.resource || b.attr != "" || b.k != kContext {
				return 0, value{}, untranslatable("%v is not a known value", term)
			}
			rest = v[1:]
		}
		switch len(rest) {
		case 0:
			return kContext, value{ok: true}, nil
		case 1:
			if key, ok := rest[0].Value.(ast.String); ok {
				f := contextFact(string(key))
				return f.k, f.eval(&record{c: t.ctx}), nil
			}
		case 2:
			key, ok1 := rest[0].Value.(ast.String)
			sub, ok2 := rest[1].Value.(ast.String)
			if ok1 && ok2 && isShares(string(key)) {
				f := sharedList(string(key), string(sub))
				return f.k, f.eval(&record{c: t.ctx}), nil
			}
		}
	}
	return 0, value{}, untranslatable("%v is not a known value", term)
}

// isResource reports whether t stands for the whole of input.resource.
func isResource(t *ast.Term, vars env) bool {
	switch v := t.Value.(type) {
	case ast.Var:
		b, ok := vars[v]
		return ok && b.resource
	case ast.Ref:
		return len(v) == 2 && v[0].Equal(ast.InputRootDocument) && v[1].Equal(ast.StringTerm("resource"))
	}
	return false
}

// field maps input.resource.<attr> (or <param>.<attr>, or a parameter
// standing for an attribute, in a support rule) to its condition field.
func field(t *ast.Term, vars env) (string, error) {
	attr, err := attribute(t, vars)
	if err != nil {
		return "", err
	}
	f, ok := attributeFields[attr]
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
		if b, ok := vars[v]; ok && b.attr != "" {
			return b.attr, nil
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

func constStrings(t *ast.Term) ([]string, error) {
	out := []string{}
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

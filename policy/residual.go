package policy

import (
	"maps"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// This file turns what partial evaluation leaves of path(p, input.resource,
// input.context) for one subject into a Go predicate over a record and its
// patient facts. It accepts only the shapes the package doc lists (under
// "Accepted Rego"), whose meaning it reproduces exactly, and refuses
// anything else, so that a predicate never disagrees with the policy: a
// subject whose residual it refuses is decided by full evaluation instead.

// record is what a predicate looks at: one resource and its patient facts.
type record struct {
	typ string
	id  string
	r   *ResourceAttributes
	c   *Context
	// slots hold the elements "some x in <attribute>" iterates over.
	slots [maxSlots]string
}

// maxSlots bounds the iterations nested in one plan condition.
const maxSlots = 4

// kind is the static type of a compiled term.
type kind uint8

const (
	kString kind = iota + 1
	kBool
	kList
	kSet      // a constant set of strings: only for membership
	kResource // the whole of input.resource
	kContext  // the whole of input.context
)

// value is a term's value for one record; ok is false when it is undefined.
type value struct {
	ok  bool
	s   string
	b   bool
	l   []string
	set *cond.FactSet // a list named by its facts (Context's *Set), in place of l
}

// term is a compiled term with its static kind.
type term struct {
	k    kind
	eval func(*record) value
}

// predicate is a compiled condition.
type predicate func(*record) bool

func always(*record) bool { return true }
func never(*record) bool  { return false }

// residual compiles the queries and support rules of one partial
// evaluation; the result holds when any query holds.
type residual struct {
	support map[string][]*ast.Rule
	slots   *int   // slots in use by iterations
	facts   *Facts // the patient facts the conditions read
}

// scope binds the parameters of a support rule to the caller's terms.
type scope map[ast.Var]term

func newResidual(support []*ast.Module) residual {
	return residual{support: supportRules(support), slots: new(int), facts: &Facts{}}
}

// queries compiles a disjunction of queries.
func (c residual) queries(qs []ast.Body) (predicate, error) {
	ps := make([]predicate, 0, len(qs))
	for _, q := range qs {
		p, err := c.body(q, nil, 0)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return anyOf(ps), nil
}

func anyOf(ps []predicate) predicate {
	switch len(ps) {
	case 0:
		return never
	case 1:
		return ps[0]
	}
	return func(rec *record) bool {
		for _, p := range ps {
			if p(rec) {
				return true
			}
		}
		return false
	}
}

func allOf(ps []predicate) predicate {
	switch len(ps) {
	case 0:
		return always
	case 1:
		return ps[0]
	}
	return func(rec *record) bool {
		for _, p := range ps {
			if !p(rec) {
				return false
			}
		}
		return true
	}
}

// body compiles a conjunction. Iterations ("some x in <list>" leaves
// x = list[k] with fresh variables) bind x to each element in turn, and the
// body holds when the rest holds for some element.
func (c residual) body(b ast.Body, sc scope, depth int) (predicate, error) {
	inner := sc
	var loops []iteration
	var rest []*ast.Expr
	for _, e := range b {
		it, ok, err := c.iteration(e, b, sc)
		if err != nil {
			return nil, err
		}
		if !ok {
			rest = append(rest, e)
			continue
		}
		if *c.slots >= maxSlots {
			return nil, untranslatable("more than %d iterations in one condition", maxSlots)
		}
		slot := *c.slots
		*c.slots++
		it.slot = slot
		loops = append(loops, it)
		if len(loops) == 1 {
			inner = maps.Clone(sc)
			if inner == nil {
				inner = scope{}
			}
		}
		inner[it.elem] = term{kString, func(rec *record) value { return value{ok: true, s: rec.slots[slot]} }}
	}
	ps := make([]predicate, 0, len(rest))
	for _, e := range rest {
		p, err := c.expr(e, inner, depth)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	holds := allOf(ps)
	for i := len(loops) - 1; i >= 0; i-- {
		holds = loops[i].some(holds)
	}
	return holds, nil
}

// iteration is x = list[k]: x takes each element of a list in turn.
type iteration struct {
	elem ast.Var
	list term
	slot int
}

func (it iteration) some(holds predicate) predicate {
	return func(rec *record) bool {
		l := it.list.eval(rec)
		for _, x := range l.l {
			rec.slots[it.slot] = x
			if holds(rec) {
				return true
			}
		}
		return false
	}
}

// iteration recognises x = list[k] (either way round) where x and k are
// variables of this body only and list is a list of strings; k must not
// appear anywhere else in the body.
func (c residual) iteration(e *ast.Expr, b ast.Body, sc scope) (iteration, bool, error) {
	if e.Negated || len(e.With) > 0 || !e.IsEquality() {
		return iteration{}, false, nil
	}
	ops := e.Operands()
	for i := range 2 {
		x, isVar := ops[i].Value.(ast.Var)
		ref, isRef := ops[1-i].Value.(ast.Ref)
		if !isVar || !isRef || len(ref) < 2 {
			continue
		}
		k, kIsVar := ref[len(ref)-1].Value.(ast.Var)
		if !kIsVar {
			continue
		}
		if _, bound := sc[x]; bound {
			continue
		}
		if _, bound := sc[k]; bound {
			continue
		}
		if uses(b, k) != 1 {
			return iteration{}, false, untranslatable("iteration index %v used in %v", k, b)
		}
		list, err := c.ref(ref[:len(ref)-1], sc)
		if err != nil {
			return iteration{}, false, err
		}
		if list.k != kList {
			return iteration{}, false, untranslatable("iteration over something other than a list of strings in %v", e)
		}
		return iteration{elem: x, list: list}, true, nil
	}
	return iteration{}, false, nil
}

// uses counts the occurrences of v in b.
func uses(b ast.Body, v ast.Var) int {
	n := 0
	ast.WalkVars(b, func(x ast.Var) bool {
		if x.Equal(v) {
			n++
		}
		return false
	})
	return n
}

func (c residual) expr(e *ast.Expr, sc scope, depth int) (predicate, error) {
	if len(e.With) > 0 {
		return nil, untranslatable("with modifier in %v", e)
	}
	p, err := c.positive(e, sc, depth)
	if err != nil || !e.Negated {
		return p, err
	}
	return func(rec *record) bool { return !p(rec) }, nil
}

// positive compiles an expression ignoring its negation.
func (c residual) positive(e *ast.Expr, sc scope, depth int) (predicate, error) {
	if t, ok := e.Terms.(*ast.Term); ok {
		if ref, isRef := t.Value.(ast.Ref); isRef && ref.HasPrefix(partialRoot) {
			return c.call(ref, nil, sc, depth)
		}
		// A term on its own holds when it is defined and not false.
		v, err := c.term(t, sc)
		if err != nil {
			return nil, err
		}
		return func(rec *record) bool {
			x := v.eval(rec)
			return x.ok && (v.k != kBool || x.b)
		}, nil
	}
	if _, isEvery := e.Terms.(*ast.Every); isEvery {
		return nil, untranslatable("\"every\" over a record's attributes cannot be specialised (write \"not\" with \"some\" instead, see docs/policy-guide.md): %v", e)
	}
	if !e.IsCall() {
		return nil, untranslatable("expression %v", e)
	}
	op, args := e.Operator(), e.Operands()
	switch op.String() {
	case ast.Member.Ref().String():
		return c.member(args[0], args[1], sc, e)
	case ast.Equality.Ref().String(), ast.Equal.Ref().String():
		return c.equal(args[0], args[1], sc, e, false)
	case ast.NotEqual.Ref().String():
		return c.equal(args[0], args[1], sc, e, true)
	}
	if op.HasPrefix(partialRoot) {
		return c.call(op, args, sc, depth)
	}
	return nil, untranslatable("call %v", e)
}

var partialRoot = ast.Ref{ast.DefaultRootDocument, ast.StringTerm("partial")}

// call compiles a support rule (a disjunction of bodies) with its
// parameters bound to the caller's terms.
func (c residual) call(ref ast.Ref, args []*ast.Term, sc scope, depth int) (predicate, error) {
	if depth >= maxSupportDepth {
		return nil, untranslatable("support rules nested too deep at %v", ref)
	}
	rules := c.support[ref.String()]
	if len(rules) == 0 {
		return nil, untranslatable("reference %v", ref)
	}
	bound := make([]term, len(args))
	for i, a := range args {
		t, err := c.term(a, sc)
		if err != nil {
			return nil, err
		}
		bound[i] = t
	}
	ps := make([]predicate, 0, len(rules))
	for _, r := range rules {
		if r.Else != nil || (r.Head.Value != nil && !r.Head.Value.Equal(ast.BooleanTerm(true))) {
			return nil, untranslatable("support rule %v is not a plain condition", ref)
		}
		if len(r.Head.Args) != len(args) {
			return nil, untranslatable("support rule %v called with %d arguments", ref, len(args))
		}
		inner := scope{}
		for i, a := range r.Head.Args {
			v, ok := a.Value.(ast.Var)
			if !ok {
				return nil, untranslatable("support rule %v parameter %v", ref, a)
			}
			inner[v] = bound[i]
		}
		p, err := c.body(r.Body, inner, depth+1)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return anyOf(ps), nil
}

// member compiles "x in y" (internal.member_2): y a list of strings.
func (c residual) member(x, y *ast.Term, sc scope, e *ast.Expr) (predicate, error) {
	xt, err := c.term(x, sc)
	if err != nil {
		return nil, err
	}
	yt, err := c.term(y, sc)
	if err != nil {
		return nil, err
	}
	if yt.k != kList && yt.k != kSet {
		return nil, untranslatable("membership in something other than strings in %v", e)
	}
	if xt.k != kString && xt.k != kBool {
		return nil, untranslatable("membership of a collection or object in %v", e)
	}
	return func(rec *record) bool {
		a, b := xt.eval(rec), yt.eval(rec)
		// A boolean is never an element of a list of strings.
		return a.ok && b.ok && xt.k == kString && slices.Contains(b.l, a.s)
	}, nil
}

// equal compiles x = y, x == y (both compare once partial evaluation has
// bound every variable) or x != y, between strings, booleans or lists.
func (c residual) equal(x, y *ast.Term, sc scope, e *ast.Expr, negate bool) (predicate, error) {
	xt, err := c.term(x, sc)
	if err != nil {
		return nil, err
	}
	yt, err := c.term(y, sc)
	if err != nil {
		return nil, err
	}
	if objectOrSet(xt.k) || objectOrSet(yt.k) {
		return nil, untranslatable("comparison of a whole object or a set in %v", e)
	}
	return func(rec *record) bool {
		a, b := xt.eval(rec), yt.eval(rec)
		if !a.ok || !b.ok {
			return false // undefined: the expression fails either way
		}
		same := xt.k == yt.k && a.s == b.s && a.b == b.b && slices.Equal(a.l, b.l)
		return same != negate
	}, nil
}

// term compiles a constant, a parameter, or a reference into input.resource
// or input.context (or into a parameter standing for one of them).
func (c residual) term(t *ast.Term, sc scope) (term, error) {
	switch v := t.Value.(type) {
	case ast.String:
		s := string(v)
		return term{kString, func(*record) value { return value{ok: true, s: s} }}, nil
	case ast.Boolean:
		b := bool(v)
		return term{kBool, func(*record) value { return value{ok: true, b: b} }}, nil
	case *ast.Array, ast.Set:
		k, list, err := constList(t)
		if err != nil {
			return term{}, untranslatable("%v", err)
		}
		return term{k, func(*record) value { return value{ok: true, l: list} }}, nil
	case ast.Var:
		if b, ok := sc[v]; ok {
			return b, nil
		}
		return term{}, untranslatable("variable %v", v)
	case ast.Ref:
		return c.ref(v, sc)
	}
	return term{}, untranslatable("term %v", t)
}

func (c residual) ref(r ast.Ref, sc scope) (term, error) {
	var base term
	rest := r[1:]
	switch {
	case r[0].Equal(ast.InputRootDocument) && len(r) >= 2:
		switch {
		case r[1].Equal(ast.StringTerm("resource")):
			base = term{kResource, nil}
		case r[1].Equal(ast.StringTerm("context")):
			base = term{kContext, nil}
		default:
			return term{}, untranslatable("input reference %v", r)
		}
		rest = r[2:]
	default:
		v, ok := r[0].Value.(ast.Var)
		if !ok {
			return term{}, untranslatable("reference %v", r)
		}
		b, ok := sc[v]
		if !ok {
			return term{}, untranslatable("variable %v in %v", v, r)
		}
		base = b
	}
	switch len(rest) {
	case 0:
		if base.eval == nil {
			// The whole resource or context: always defined.
			return term{base.k, func(*record) value { return value{ok: true} }}, nil
		}
		return base, nil
	case 1:
		key, ok := rest[0].Value.(ast.String)
		if !ok {
			return term{}, untranslatable("reference %v", r)
		}
		switch base.k {
		case kResource:
			return resourceAttr(string(key)), nil
		case kContext:
			c.facts.note(string(key))
			return contextFact(string(key)), nil
		}
	case 2:
		key, ok1 := rest[0].Value.(ast.String)
		sub, ok2 := rest[1].Value.(ast.String)
		if ok1 && ok2 && base.k == kContext && isShares(string(key)) {
			c.facts.note(string(key))
			return sharedList(string(key), string(sub)), nil
		}
	}
	return term{}, untranslatable("reference %v", r)
}

// isShares reports whether input.context.<key> is a category -> patients
// object (Context.SharedConsent, SharedDuty).
func isShares(key string) bool { return key == "shared_consent" || key == "shared_duty" }

// sharedList is input.context.<key>.<category>: the patients shared with
// the caller in that category, undefined when none.
func sharedList(key, category string) term {
	return term{kList, func(rec *record) value {
		m := rec.c.SharedConsent
		if key == "shared_duty" {
			m = rec.c.SharedDuty
		}
		l, ok := m[category]
		return value{ok: ok, l: l}
	}}
}

// resourceAttr is input.resource.<key>, as ResourceAttributes.term builds it.
func resourceAttr(key string) term {
	str := func(f func(*record) string) term {
		return term{kString, func(rec *record) value { return value{ok: true, s: f(rec)} }}
	}
	list := func(f func(*record) []string) term {
		return term{kList, func(rec *record) value { return value{ok: true, l: f(rec)} }}
	}
	switch key {
	case "type":
		return str(func(rec *record) string { return rec.typ })
	case "id":
		return str(func(rec *record) string { return rec.id })
	case "patient":
		return str(func(rec *record) string { return rec.r.Patient })
	case "categories":
		return list(func(rec *record) []string { return rec.r.Categories })
	case "labels":
		return list(func(rec *record) []string { return rec.r.Labels })
	case "author_orgs":
		return list(func(rec *record) []string { return rec.r.AuthorOrgs })
	}
	return undefined(kString)
}

// contextFact is input.context.<key>, as Context.term builds it: the
// booleans always, the lists only when set.
func contextFact(key string) term {
	flag := func(f func(*Context) bool) term {
		return term{kBool, func(rec *record) value { return value{ok: true, b: f(rec.c)} }}
	}
	list := func(f func(*Context) []string, set func(*Context) *cond.FactSet) term {
		return term{kList, func(rec *record) value {
			if set != nil {
				if s := set(rec.c); s != nil {
					return value{ok: true, set: s}
				}
			}
			l := f(rec.c)
			return value{ok: l != nil, l: l}
		}}
	}
	switch key {
	case "related":
		return flag(func(c *Context) bool { return c.Related })
	case "objected":
		return flag(func(c *Context) bool { return c.Objected })
	case "self":
		return flag(func(c *Context) bool { return c.Self })
	case "known_to_council":
		return flag(func(c *Context) bool { return c.KnownToCouncil })
	case "provider_named":
		return flag(func(c *Context) bool { return c.ProviderNamed })
	case "related_patients":
		return list(func(c *Context) []string { return c.RelatedPatients }, func(c *Context) *cond.FactSet { return c.RelatedSet })
	case "objected_patients":
		return list(func(c *Context) []string { return c.ObjectedPatients }, func(c *Context) *cond.FactSet { return c.ObjectedSet })
	case "known_patients":
		return list(func(c *Context) []string { return c.KnownPatients }, func(c *Context) *cond.FactSet { return c.KnownSet })
	case "self_patients":
		return list(func(c *Context) []string { return c.SelfPatients }, nil)
	}
	return undefined(kBool)
}

func undefined(k kind) term {
	return term{k, func(*record) value { return value{} }}
}

// Facts names the facts about patients a caller's decisions read; the
// gateway works out only those (see [Engine.Needs]).
type Facts struct {
	Related, Objected, Self, KnownToCouncil, ProviderNamed bool
	// Shared: what a Consent shares with the caller as a named third
	// party (Context.SharedConsent, SharedDuty).
	Shared bool
}

// AllFacts is every fact the gateway knows how to work out.
var AllFacts = Facts{Related: true, Objected: true, Self: true, KnownToCouncil: true, ProviderNamed: true, Shared: true}

// Union is the facts in f or g.
func (f Facts) Union(g Facts) Facts {
	return Facts{f.Related || g.Related, f.Objected || g.Objected, f.Self || g.Self,
		f.KnownToCouncil || g.KnownToCouncil, f.ProviderNamed || g.ProviderNamed, f.Shared || g.Shared}
}

// note records that input.context.<key> is read.
func (f *Facts) note(key string) {
	switch key {
	case "related", "related_patients":
		f.Related = true
	case "objected", "objected_patients":
		f.Objected = true
	case "self", "self_patients":
		f.Self = true
	case "known_to_council", "known_patients":
		f.KnownToCouncil = true
	case "provider_named":
		f.ProviderNamed = true
	case "shared_consent", "shared_duty":
		f.Shared = true
	}
}

// objectOrSet reports kinds that compare by rules the engine does not
// reproduce (objects, and sets against arrays).
func objectOrSet(k kind) bool {
	return k == kResource || k == kContext || k == kSet
}

// constList is the strings of a constant array (kList, in order) or set
// (kSet).
func constList(t *ast.Term) (kind, []string, error) {
	list, err := constStrings(t)
	if err != nil {
		return 0, nil, err
	}
	if _, isSet := t.Value.(ast.Set); isSet {
		return kSet, list, nil
	}
	return kList, list, nil
}

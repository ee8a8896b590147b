package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Queries behind specialised plans (see decision.rego for the contract).
const (
	// pathQuery is partially evaluated per candidate path, with the
	// resource and its patient facts unknown.
	pathQuery     = "input.path in data.gateway.authz.open_paths; data.gateway.authz.path(input.path, input.resource, input.context)"
	grantQuery    = "data.gateway.authz.grant"
	pathRule      = "data.gateway.authz.path"
	openPathsRule = "data.gateway.authz.open_paths"
)

// grantLimit bounds the distinct outcomes one plan remembers; beyond it
// outcomes are evaluated every time (still correct).
const grantLimit = 1024

// A plan is the policy specialised for one subject and action: for each
// path that could allow the subject, a predicate over a record and its
// patient facts, compiled from partial evaluation of path(p, input.resource,
// input.context). Deciding a record is then running a few Go predicates and
// looking up the decision for the paths that held and the record's
// categories (grant, evaluated once per distinct outcome). Only allowed
// decisions are made this way; a record no path allows is decided by full
// evaluation, which also gives the reasons.
type plan struct {
	action  string
	subject Subject
	paths   []string    // the paths open to the subject, sorted
	holds   []predicate // holds[i] is paths[i]
	// residuals[i] is what partial evaluation left of paths[i], for
	// search filters.
	residuals []*rego.PartialQueries
	grants    sync.Map // grantKey -> grantResult
	ngrants   int
	mu        sync.Mutex
}

type grantResult struct {
	d  Decision
	ok bool // false: not granted, decide in full
}

// planResult is a remembered plan, or why none could be made (the subject
// is then decided by full evaluation).
type planResult struct {
	p   *plan
	err error
}

// specialisable reports whether the policy defines what plans are made
// from: open_paths, path(p, r, c) and grant. A policy without them (such as
// a test policy that allows everything) is always evaluated in full.
func specialisable(c *ast.Compiler) bool {
	for _, r := range []string{pathRule, grantQuery, openPathsRule} {
		if len(c.GetRulesExact(ast.MustParseRef(r))) == 0 {
			return false
		}
	}
	return true
}

// candidatePaths lists the path names the policy defines: the constant
// first argument of every path rule. A path rule whose name is not a
// constant makes plans impossible (nil, error).
func candidatePaths(c *ast.Compiler) ([]string, error) {
	ref := ast.MustParseRef(pathRule)
	var out []string
	for _, r := range c.GetRulesExact(ref) {
		if len(r.Head.Args) != 3 {
			return nil, refuse("path rule with %d arguments", len(r.Head.Args))
		}
		s, ok := r.Head.Args[0].Value.(ast.String)
		if !ok {
			return nil, refuse("path rule named by %v, not a constant", r.Head.Args[0])
		}
		out = append(out, string(s))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// planFor returns the subject's plan for the action, building it on first
// use; nil when the policy cannot be specialised for it.
func (e *Engine) planFor(ctx context.Context, action string, s Subject) *plan {
	if e.plans == nil {
		return nil
	}
	key := planKey(action, s, e.subjectFields)
	if r, ok := e.plans.get(key); ok {
		return r.p
	}
	p, err := e.buildPlan(ctx, action, s)
	if ctx.Err() != nil {
		return p // a cancelled build is not remembered
	}
	e.plans.put(key, planResult{p, err})
	return p
}

// planKey names a plan: the action and the subject fields the policy reads
// (all of them when fields is nil). Users of the same organisation, role and
// purpose share a plan unless the policy reads who they are.
func planKey(action string, s Subject, fields []string) string {
	if fields == nil {
		b, _ := json.Marshal(s)
		return action + "\x00" + string(b)
	}
	var b strings.Builder
	b.WriteString(action)
	for _, f := range fields {
		b.WriteByte(0)
		b.WriteString(s.field(f))
	}
	return b.String()
}

// field is the subject's value for an input.subject key, as term gives it.
func (s Subject) field(name string) string {
	switch name {
	case "kind":
		return s.Kind
	case "id":
		return s.ID
	case "org":
		return s.Org
	case "role":
		return s.Role
	case "purpose":
		return s.Purpose
	case "break_glass_reason":
		return s.BreakGlassReason
	case "nhs_number":
		return s.NHSNumber
	}
	return "" // not in the input: undefined whatever the subject
}

// subjectFields lists the input.subject keys the compiled policy reads, or
// nil when it reads the subject (or the whole input) as a value, or by a
// key that is not a constant: then any field may matter.
func subjectFields(modules map[string]*ast.Module) []string {
	fields := map[string]bool{}
	all := false
	subject := ast.StringTerm("subject")
	for _, m := range modules {
		ast.WalkRefs(m, func(r ast.Ref) bool {
			if !r[0].Equal(ast.InputRootDocument) {
				return false
			}
			switch {
			case len(r) < 3 && (len(r) == 1 || r[1].Equal(subject) || !r[1].IsGround()):
				all = true
			case len(r) >= 3 && r[1].Equal(subject):
				if k, ok := r[2].Value.(ast.String); ok {
					fields[string(k)] = true
				} else {
					all = true
				}
			case !r[1].IsGround():
				all = true
			}
			return false
		})
	}
	if all {
		return nil
	}
	return sortedKeys(fields)
}

func (e *Engine) buildPlan(ctx context.Context, action string, s Subject) (*plan, error) {
	if e.candidates == nil {
		return nil, e.candidatesErr
	}
	p := &plan{action: action, subject: s}
	for _, name := range e.candidates {
		in := ast.NewObject(
			item("action", ast.StringTerm(action)),
			item("subject", s.term()),
			item("path", ast.StringTerm(name)),
		)
		pq, err := e.path.Partial(ctx, rego.EvalParsedInput(in))
		if err != nil {
			return nil, fmt.Errorf("policy %s: specialise path %s: %w", e.revision, name, err)
		}
		if len(pq.Queries) == 0 {
			continue // not open to this subject
		}
		holds, err := newResidual(pq.Support).queries(pq.Queries)
		if err != nil {
			return nil, fmt.Errorf("policy %s: specialise path %s: %w", e.revision, name, err)
		}
		p.paths = append(p.paths, name)
		p.holds = append(p.holds, holds)
		p.residuals = append(p.residuals, pq)
	}
	return p, nil
}

// decide decides one record by the plan; ok is false when no path allows
// it (or grant does not), and the caller must evaluate in full.
func (e *Engine) decideByPlan(ctx context.Context, p *plan, typ, id string, r *ResourceAttributes, c *Context) (d Decision, ok bool, err error) {
	rec := record{typ: typ, id: id, r: r, c: c}
	var buf [16]string
	matched := buf[:0]
	for i, holds := range p.holds {
		if holds(&rec) {
			matched = append(matched, p.paths[i])
		}
	}
	if len(matched) == 0 {
		return Decision{}, false, nil
	}
	key := strings.Join(matched, "\x1f") + "\x1e" + strings.Join(r.Categories, "\x1f")
	if g, found := p.grants.Load(key); found {
		g := g.(grantResult)
		return g.d, g.ok, nil
	}
	g, err := e.grant(ctx, p, matched, r.Categories)
	if err != nil {
		return Decision{}, false, err
	}
	p.mu.Lock()
	if p.ngrants < grantLimit {
		p.ngrants++
		p.grants.Store(key, g)
	}
	p.mu.Unlock()
	return g.d, g.ok, nil
}

// grant evaluates the decision for a record reached by paths with
// categories cats.
func (e *Engine) grant(ctx context.Context, p *plan, paths, cats []string) (grantResult, error) {
	in := ast.NewObject(
		item("action", ast.StringTerm(p.action)),
		item("subject", p.subject.term()),
		item("paths", strs(paths)),
		item("categories", strs(cats)),
	)
	rs, err := e.grantQ.Eval(ctx, rego.EvalParsedInput(in))
	if err != nil {
		return grantResult{}, fmt.Errorf("policy %s: grant: %w", e.revision, err)
	}
	if len(rs) == 0 {
		return grantResult{}, nil // not granted: decide in full
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return grantResult{}, fmt.Errorf("policy %s: grant: malformed result", e.revision)
	}
	d, err := e.toDecision(rs[0].Expressions[0].Value)
	if err != nil {
		return grantResult{}, err
	}
	return grantResult{d: d, ok: d.Allow}, nil
}

// filter is the search filter for the plan's subject with patient facts c
// (the patient lists of a search): the records some open path allows.
func (p *plan) filter(c *Context) (bson.D, error) {
	out := condNever
	for _, pq := range p.residuals {
		f, err := newTranslator(pq.Support, c).queries(pq.Queries)
		if err != nil {
			return nil, err
		}
		out = or(out, f)
	}
	return out.filter()
}

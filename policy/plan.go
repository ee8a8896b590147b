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

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// Queries and rules behind specialised plans (see decision.rego for the
// contract). pathQuery and checkQuery are partially evaluated once per plan,
// with the record and its patient facts unknown; each query left binds
// conditionVar to the path or check it belongs to.
const (
	conditionVar  = "plan_condition"
	pathQuery     = "some p in data.gateway.authz.open_paths; data.gateway.authz.path(p, input.resource, input.context); " + conditionVar + " = p"
	checkQuery    = "some id in data.gateway.authz.record_checks; data.gateway.authz.record_fails(id, input.resource, input.context); " + conditionVar + " = id"
	grantQuery    = "data.gateway.authz.grant"
	refusalQuery  = "data.gateway.authz.refusal"
	pathRule      = "data.gateway.authz.path"
	checkRule     = "data.gateway.authz.record_fails"
	openPathsRule = "data.gateway.authz.open_paths"
	pathTypesRule = "data.gateway.authz.path_types"
	recordChecks  = "data.gateway.authz.record_checks"
	outcomeLimit  = 1024 // distinct outcomes one plan remembers; beyond it they are evaluated each time
	maxConditions = 64   // paths or checks one plan holds
)

// A plan is the policy specialised for one subject and action: for each
// path that could allow the subject and each record check that could
// refuse, a predicate over a record and its patient facts, compiled from
// partial evaluation. Deciding a record is then running a few Go
// predicates and looking up the decision for the paths that held and the
// record's categories (grant), or for the checks that failed (refusal);
// each distinct outcome is evaluated once.
type plan struct {
	action  string
	subject Subject
	paths   conditions
	// checks are specialised on the first refusal: most callers' pages
	// hold only what the search filter let through.
	checks     conditions
	checksErr  error
	checksDone bool // under mu; checks and checksErr never change once set

	outcomes  sync.Map // outcome key -> outcome
	noutcomes int
	mu        sync.Mutex
}

// conditions are the named per-record conditions of a plan that apply to
// its subject, sorted by name.
type conditions struct {
	names []string
	holds []predicate
	// residuals[i] is what partial evaluation left of names[i] (paths
	// only: search filters are made from them).
	residuals []*rego.PartialQueries
	// facts are the patient facts the conditions read.
	facts Facts
}

// which appends to buf the names of the conditions that hold for rec.
func (cs *conditions) which(rec *record, buf []string) []string {
	for i, holds := range cs.holds {
		if holds(rec) {
			buf = append(buf, cs.names[i])
		}
	}
	return buf
}

// outcome is a remembered grant or refusal; ok is false when the policy
// gave none (the record is then decided in full).
type outcome struct {
	d  Decision
	ok bool
}

// specialisable reports whether the policy defines what plans are made
// from (decision.rego). A policy without them, such as a test policy that
// allows everything, is always evaluated in full.
func specialisable(c *ast.Compiler) bool {
	for _, r := range []string{pathRule, checkRule, openPathsRule, recordChecks, grantQuery, refusalQuery} {
		if len(c.GetRulesExact(ast.MustParseRef(r))) == 0 {
			return false
		}
	}
	return true
}

// preparePlans prepares the queries plans are made with.
func (e *Engine) preparePlans(ctx context.Context, c *ast.Compiler, opts func(string) []func(*rego.Rego)) error {
	e.subjectFields = subjectFields(c.Modules)
	unknowns := rego.Unknowns([]string{"input.resource", "input.context"})
	var err error
	if e.pathQ, err = rego.New(append(opts(pathQuery), unknowns)...).PrepareForPartial(ctx); err != nil {
		return fmt.Errorf("prepare path specialisation: %w", err)
	}
	if e.checkQ, err = rego.New(append(opts(checkQuery), unknowns)...).PrepareForPartial(ctx); err != nil {
		return fmt.Errorf("prepare check specialisation: %w", err)
	}
	if e.grantQ, err = rego.New(opts(grantQuery)...).PrepareForEval(ctx); err != nil {
		return fmt.Errorf("prepare grant: %w", err)
	}
	if e.refusalQ, err = rego.New(opts(refusalQuery)...).PrepareForEval(ctx); err != nil {
		return fmt.Errorf("prepare refusal: %w", err)
	}
	rs, err := rego.New(opts(pathTypesRule)...).Eval(ctx)
	if err != nil {
		return fmt.Errorf("evaluate %s: %w", pathTypesRule, err)
	}
	if len(rs) > 0 && len(rs[0].Expressions) > 0 {
		b, err := json.Marshal(rs[0].Expressions[0].Value)
		if err == nil {
			err = json.Unmarshal(b, &e.pathTypes)
		}
		if err != nil {
			return fmt.Errorf("%s must map path names to lists of resource types: %w", pathTypesRule, err)
		}
	}
	return nil
}

// NeverFor is [Engine.Never] for resources of type typ: it also reports
// true when every path open to the subject is one the policy limits to
// other types (path_types: a path named there allows only the types it
// lists; a path not named may allow any). A wrong path_types can only
// refuse a write early that a path would have allowed, never allow one.
func (e *Engine) NeverFor(ctx context.Context, action string, s Subject, typ string) bool {
	p := e.planFor(ctx, action, s)
	if p == nil {
		return false
	}
	for _, name := range p.paths.names {
		types, limited := e.pathTypes[name]
		if !limited || slices.Contains(types, typ) {
			return false
		}
	}
	return true
}

// planFor returns the subject's plan for the action, building it on first
// use; nil when the policy cannot be specialised for it.
// Never reports whether the policy allows the subject nothing at all for
// action, whatever the resource: no path is open to it (an NHS
// organisation or a person writing, under the baseline policy). It is
// false when the engine cannot tell (a policy decided in full).
func (e *Engine) Never(ctx context.Context, action string, s Subject) bool {
	p := e.planFor(ctx, action, s)
	return p != nil && len(p.paths.names) == 0
}

func (e *Engine) planFor(ctx context.Context, action string, s Subject) *plan {
	if e.plans == nil {
		return nil
	}
	key := planKey(action, s, e.subjectFields)
	if p, ok := e.plans.get(key); ok {
		return p
	}
	// A plan that cannot be built is remembered as nil: the subject is
	// decided in full (the load check makes this rare).
	p, _ := e.buildPlan(ctx, action, s)
	if ctx.Err() != nil {
		return p // a cancelled build is not remembered
	}
	e.plans.put(key, p)
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
	values := make([]string, len(fields))
	for i, f := range fields {
		values[i] = s.field(f)
	}
	b, _ := json.Marshal(values) // unambiguous whatever the values hold
	return action + "\x00" + string(b)
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
	p := &plan{action: action, subject: s}
	var err error
	if p.paths, err = e.specialise(ctx, e.pathQ, "path", action, s); err != nil {
		return nil, err
	}
	return p, nil
}

// recordChecks are the plan's record checks, specialised on first use. An
// error that is not the context's is remembered: the plan's refusals are
// then evaluated in full.
func (e *Engine) recordChecks(ctx context.Context, p *plan) (*conditions, error) {
	p.mu.Lock()
	done := p.checksDone
	p.mu.Unlock()
	if !done {
		cs, err := e.specialise(ctx, e.checkQ, "check", p.action, p.subject)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.mu.Lock()
		if !p.checksDone {
			p.checks, p.checksErr, p.checksDone = cs, err, true
		}
		p.mu.Unlock()
	}
	return &p.checks, p.checksErr
}

// specialise partially evaluates q (pathQuery or checkQuery) for the
// subject and compiles what is left of each path or check (kind) that can
// hold for it.
func (e *Engine) specialise(ctx context.Context, q rego.PreparedPartialQuery, kind, action string, s Subject) (conditions, error) {
	in := ast.NewObject(
		item("action", ast.StringTerm(action)),
		item("subject", s.term()),
	)
	pq, err := e.partial(ctx, q, in)
	if err != nil {
		return conditions{}, fmt.Errorf("policy %s: specialise %ss: %w", e.revision, kind, err)
	}
	groups := map[string][]ast.Body{}
	for _, body := range pq.Queries {
		name, rest, err := conditionOf(body)
		if err != nil {
			return conditions{}, fmt.Errorf("policy %s: specialise %ss: %w", e.revision, kind, err)
		}
		groups[name] = append(groups[name], rest)
	}
	if len(groups) > maxConditions {
		return conditions{}, untranslatable("%d %ss hold for one caller; plans hold at most %d", len(groups), kind, maxConditions)
	}
	var cs conditions
	for _, name := range sortedKeys(groups) {
		r := newResidual(pq.Support)
		holds, err := r.queries(groups[name])
		if err != nil {
			return conditions{}, fmt.Errorf("policy %s: specialise %s %s: %w", e.revision, kind, name, err)
		}
		cs.facts = cs.facts.Union(*r.facts)
		cs.names = append(cs.names, name)
		cs.holds = append(cs.holds, holds)
		if kind == "path" {
			cs.residuals = append(cs.residuals, &rego.PartialQueries{Queries: groups[name], Support: pq.Support})
		}
	}
	return cs, nil
}

// conditionOf splits a query left by partial evaluation into the name of
// the path or check it belongs to (conditionVar = "name") and the rest.
func conditionOf(body ast.Body) (string, ast.Body, error) {
	v := ast.Var(conditionVar)
	name, found := "", false
	rest := make(ast.Body, 0, len(body))
	for _, e := range body {
		if !found && !e.Negated && len(e.With) == 0 && e.IsEquality() {
			ops := e.Operands()
			for i := range 2 {
				if x, ok := ops[i].Value.(ast.Var); ok && x.Equal(v) {
					if s, ok := ops[1-i].Value.(ast.String); ok {
						name, found = string(s), true
					}
				}
			}
			if found {
				continue
			}
		}
		rest = append(rest, e)
	}
	if !found {
		return "", nil, untranslatable("a condition not bound to a path or check name: %v", body)
	}
	return name, rest, nil
}

// Needs names the facts about patients that decide whether the subject
// may do action, and that its search filters use: those the subject's
// plan reads (every fact when the policy is decided in full). A refusal's
// reasons may also name rules on other facts; a caller that reports
// reasons decides again with every fact before it does.
func (e *Engine) Needs(ctx context.Context, action string, s Subject) Facts {
	p := e.planFor(ctx, action, s)
	if p == nil {
		return AllFacts
	}
	return p.paths.facts
}

// decideByPlan decides one record by the plan: the grant for the paths
// that hold, or else the refusal for the checks that fail. ok is false when
// the policy gives neither, and the caller must evaluate in full.
func (e *Engine) decideByPlan(ctx context.Context, p *plan, typ, id string, r *ResourceAttributes, c *Context) (Decision, bool, error) {
	rec := record{typ: typ, id: id, r: r, c: c}
	var buf [maxConditions]string
	if matched := p.paths.which(&rec, buf[:0]); len(matched) > 0 {
		key := "G" + strings.Join(matched, "\x1f") + "\x1e" + strings.Join(r.Categories, "\x1f")
		o, err := e.outcome(ctx, p, key, func() *ast.Term {
			return ast.ObjectTerm(item("paths", strs(matched)), item("categories", strs(r.Categories)))
		}, e.grantQ)
		if err != nil || o.ok {
			return o.d, o.ok, err
		}
	}
	checks, err := e.recordChecks(ctx, p)
	if err != nil {
		return Decision{}, false, ctx.Err() // unless cancelled, decide in full
	}
	failed := checks.which(&rec, buf[:0])
	key := "R" + strings.Join(failed, "\x1f")
	o, err := e.outcome(ctx, p, key, func() *ast.Term {
		return ast.ObjectTerm(item("failures", strs(failed)))
	}, e.refusalQ)
	return o.d, o.ok, err
}

// outcome is the decision of q for the plan's subject and the facts about
// a record that args gives, remembered in the plan by key.
func (e *Engine) outcome(ctx context.Context, p *plan, key string, args func() *ast.Term, q rego.PreparedEvalQuery) (outcome, error) {
	if o, found := p.outcomes.Load(key); found {
		return o.(outcome), nil
	}
	in := ast.NewObject(
		item("action", ast.StringTerm(p.action)),
		item("subject", p.subject.term()),
	)
	args().Value.(ast.Object).Foreach(func(k, v *ast.Term) { in.Insert(k, v) })
	rs, err := q.Eval(ctx, rego.EvalParsedInput(in))
	if err != nil {
		return outcome{}, fmt.Errorf("policy %s: %w", e.revision, err)
	}
	var o outcome
	switch {
	case len(rs) == 0:
		// None: decide in full.
	case len(rs) != 1 || len(rs[0].Expressions) != 1:
		return outcome{}, fmt.Errorf("policy %s: malformed outcome", e.revision)
	default:
		if o.d, err = e.toDecision(rs[0].Expressions[0].Value); err != nil {
			return outcome{}, err
		}
		o.ok = true
	}
	p.mu.Lock()
	if p.noutcomes < outcomeLimit {
		p.noutcomes++
		p.outcomes.Store(key, o)
	}
	p.mu.Unlock()
	return o, nil
}

// filter is the search filter for the plan's subject with patient facts c
// (the patient lists of a search): the records some open path allows.
func (p *plan) filter(c *Context) (*cond.Node, error) {
	alts := make([]*cond.Node, 0, len(p.paths.residuals))
	for _, pq := range p.paths.residuals {
		f, err := newTranslator(pq.Support, c).queries(pq.Queries)
		if err != nil {
			return nil, err
		}
		alts = append(alts, f)
	}
	return result(cond.AnyOf(alts...))
}

package policy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Queries the engine prepares.
const (
	decisionQuery  = "data.gateway.authz.decision"
	decisionsQuery = "data.gateway.authz.decisions"
	filterQuery    = "data.gateway.authz.filter"
	operationQuery = "data.gateway.authz.operation_decision"
)

// Engine is one immutable, prepared policy version. It is safe for
// concurrent use.
type Engine struct {
	revision  string
	decision  rego.PreparedEvalQuery
	decisions rego.PreparedEvalQuery
	filter    rego.PreparedPartialQuery
	operation rego.PreparedEvalQuery
	// probes are subjects and records the policy is checked with at load
	// time (probe.go).
	probes probeSet
	// memo and filters remember decisions and search filters; nil when
	// the policy is not deterministic.
	memo    *bounded[string, Decision]
	filters *bounded[[32]byte, filterResult]

	// Specialised plans (plan.go): the partial queries of the paths and
	// the record checks, and the outcome queries. plans
	// remembers a plan per action and subject; it is nil when the policy is
	// not deterministic or does not define what plans are made from.
	pathQ, checkQ    rego.PreparedPartialQuery
	grantQ, refusalQ rego.PreparedEvalQuery
	plans            *bounded[string, *plan]
	// partialMu serialises partial evaluations: OPA 1.22's copy
	// propagation writes into set terms that concurrent partial
	// evaluations read (a data race under -race). They are rare (once per
	// caller and policy version), so taking turns costs little.
	partialMu sync.Mutex
	// subjectFields are the input.subject keys the policy reads (nil: any).
	subjectFields []string

	// rules are the rule annotations (annotations.go); data is data.json,
	// the agreement (agreement.go); explain the queries of Explain
	// (explain.go).
	rules   *ruleBook
	data    []byte
	explain explainQueries
	// retention is the retention schedule of the policy data.
	retention *Schedule
	// pathTypes limit paths to resource types (path_types; see NeverFor).
	pathTypes map[string][]string
}

// Load reads the policy in dir, checks it and prepares it: every module
// must be formatted and compile in strict mode without network built-ins,
// the Rego tests must exist and pass, and the decision, page and filter
// queries must prepare and the filter translate for every organisation and
// role class in the agreement; and every rule id it can give as a reason
// must carry a # METADATA annotation (annotations.go). Tests are not part
// of the prepared engine.
func Load(ctx context.Context, dir string) (*Engine, error) {
	src, err := readSource(dir)
	if err != nil {
		return nil, err
	}
	return load(ctx, src)
}

func load(ctx context.Context, src *source) (*Engine, error) {
	policy, tests, err := src.parse()
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	store, err := src.store()
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	compiler := newCompiler()
	if compiler.Compile(policy); compiler.Failed() {
		return nil, fmt.Errorf("policy %s: compile: %w", src.revision, compiler.Errors)
	}
	rules, err := readRules(ctx, compiler, store, policy)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	if err := runTests(ctx, store, policy, tests); err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	e := &Engine{revision: src.revision, data: src.data, rules: rules}
	if e.retention, err = parseSchedule(src.data); err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	if deterministic(policy) {
		e.memo, e.filters = &bounded[string, Decision]{}, &bounded[[32]byte, filterResult]{}
		e.plans = &bounded[string, *plan]{limit: planLimit}
	}
	opts := func(query string) []func(*rego.Rego) {
		return []func(*rego.Rego){
			rego.Query(query),
			rego.Compiler(compiler),
			rego.Store(store),
			rego.StoreReadAST(true),
			rego.Strict(true),
		}
	}
	if e.decision, err = rego.New(opts(decisionQuery)...).PrepareForEval(ctx); err != nil {
		return nil, fmt.Errorf("policy %s: prepare decision: %w", src.revision, err)
	}
	if e.decisions, err = rego.New(opts(decisionsQuery)...).PrepareForEval(ctx); err != nil {
		return nil, fmt.Errorf("policy %s: prepare page decision: %w", src.revision, err)
	}
	if e.operation, err = rego.New(opts(operationQuery)...).PrepareForEval(ctx); err != nil {
		return nil, fmt.Errorf("policy %s: prepare operation decision: %w", src.revision, err)
	}
	if e.explain, err = prepareExplain(ctx, opts); err != nil {
		return nil, fmt.Errorf("policy %s: prepare explain: %w", src.revision, err)
	}
	partial := append(opts(filterQuery), rego.Unknowns([]string{"input.resource"}))
	if e.filter, err = rego.New(partial...).PrepareForPartial(ctx); err != nil {
		return nil, fmt.Errorf("policy %s: prepare filter: %w", src.revision, err)
	}
	if !specialisable(compiler) {
		e.plans = nil // decided in full
	}
	if e.plans != nil {
		if err := e.preparePlans(ctx, compiler, opts); err != nil {
			return nil, fmt.Errorf("policy %s: %w", src.revision, err)
		}
	}
	if e.probes, err = newProbeSet(src.data); err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	for _, s := range e.probes.subjects {
		in := Input{Action: ActionSearch, Subject: s, Context: probeContext()}
		if _, err := e.Filter(ctx, in); err != nil && !errors.Is(err, ErrDenyAll) {
			return nil, fmt.Errorf("policy %s: filter for organisation %s role %s: %w", src.revision, s.Org, s.Role, err)
		}
		// The filter rule serves when plans cannot (a clock-reading edit).
		if _, err := e.buildFilter(ctx, in); err != nil && !errors.Is(err, ErrDenyAll) {
			return nil, fmt.Errorf("policy %s: filter rule for organisation %s role %s: %w", src.revision, s.Org, s.Role, err)
		}
	}
	if err := e.checkPlans(ctx); err != nil {
		return nil, fmt.Errorf("policy %s: %w", src.revision, err)
	}
	return e, nil
}

// probeContext has every per-patient list set, so that every read path
// reaches partial evaluation when the filter is checked at load time.
func probeContext() Context {
	p := []string{"Patient/probe"}
	return Context{RelatedPatients: p, ObjectedPatients: p, KnownPatients: p, SelfPatients: p}
}

// Revision names this policy version: a hash of its modules and data.
func (e *Engine) Revision() string { return e.revision }

// Decide decides one request about one resource: by the subject's plan,
// or, for a policy decided in full, by evaluating it (remembered per input).
// Plans are made without a stored version (input.stored absent), so a
// write that changes one is decided in full.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	if p := e.planFor(ctx, in.Action, in.Subject); p != nil && in.Stored == nil {
		d, ok, err := e.decideByPlan(ctx, p, in.Resource.Type, in.Resource.ID, &in.Resource.ResourceAttributes, &in.Context)
		if err != nil || ok {
			return d, err
		}
	}
	key := decisionKey(in)
	if d, ok := e.memo.get(key); ok {
		return d, nil
	}
	d, err := e.evalDecision(ctx, in)
	if err == nil {
		e.memo.put(key, d)
	}
	return d, err
}

func (e *Engine) evalDecision(ctx context.Context, in Input) (Decision, error) {
	rs, err := e.decision.Eval(ctx, rego.EvalParsedInput(in.value()))
	if err != nil {
		return Decision{}, fmt.Errorf("policy %s: decide: %w", e.revision, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, fmt.Errorf("policy %s: decide: no decision", e.revision)
	}
	return e.toDecision(rs[0].Expressions[0].Value)
}

// DecideOperation decides an operation (in.Action "operation",
// in.Operation its name) about the Patient in.Resource, whose facts are
// in.Context. A policy that decides no such operation refuses it
// (DEFAULT-deny). Operations are rare: they are evaluated in full, never
// remembered.
func (e *Engine) DecideOperation(ctx context.Context, in Input) (Decision, error) {
	rs, err := e.operation.Eval(ctx, rego.EvalParsedInput(in.operationValue()))
	if err != nil {
		return Decision{}, fmt.Errorf("policy %s: decide operation: %w", e.revision, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{Reasons: []string{"DEFAULT-deny"}, Disclosed: []string{"DEFAULT-deny"}, Revision: e.revision}, nil
	}
	return e.toDecision(rs[0].Expressions[0].Value)
}

// DecideMany decides a page of resources: by the subject's plan, or, for
// a policy decided in full, in one evaluation. base gives the action and
// subject (base.Stored must be nil: a change is decided by Decide), resources[i] and contexts[i] one resource and its patient
// facts. contexts may be nil to use base.Context for every
// resource; otherwise it must be as long as resources.
func (e *Engine) DecideMany(ctx context.Context, base Input, resources []ResourceAttributes, contexts []Context) ([]Decision, error) {
	if base.Stored != nil {
		return nil, errors.New("policy: a page is decided without a stored version")
	}
	if contexts != nil && len(contexts) != len(resources) {
		return nil, fmt.Errorf("policy: %d contexts for %d resources", len(contexts), len(resources))
	}
	if len(resources) == 0 {
		return []Decision{}, nil
	}
	// Records the subject's plan allows are decided by it; of the rest,
	// decisions already known are taken from the memo, and the others are
	// decided in one evaluation.
	out := make([]Decision, len(resources))
	keys := make([]string, len(resources))
	var missR []ResourceAttributes
	var missC []Context
	var missAt []int
	p := e.planFor(ctx, base.Action, base.Subject)
	for i := range resources {
		r := &resources[i]
		c := &base.Context
		if contexts != nil {
			c = &contexts[i]
		}
		if p != nil {
			d, ok, err := e.decideByPlan(ctx, p, base.Resource.Type, "", r, c)
			if err != nil {
				return nil, err
			}
			if ok {
				out[i] = d
				continue
			}
		}
		keys[i] = decisionKey(Input{Action: base.Action, Subject: base.Subject, Resource: Resource{Type: base.Resource.Type, ResourceAttributes: *r}, Context: *c})
		if d, ok := e.memo.get(keys[i]); ok {
			out[i] = d
			continue
		}
		missR, missC, missAt = append(missR, *r), append(missC, *c), append(missAt, i)
	}
	if len(missR) == 0 {
		return out, nil
	}
	ds, err := e.evalMany(ctx, base, missR, missC)
	if err != nil {
		return nil, err
	}
	for j, i := range missAt {
		out[i] = ds[j]
		e.memo.put(keys[i], ds[j])
	}
	return out, nil
}

func (e *Engine) evalMany(ctx context.Context, base Input, resources []ResourceAttributes, contexts []Context) ([]Decision, error) {
	rs, err := e.decisions.Eval(ctx, rego.EvalParsedInput(pageValue(base, resources, contexts)))
	if err != nil {
		return nil, fmt.Errorf("policy %s: decide page: %w", e.revision, err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, fmt.Errorf("policy %s: decide page: no decisions", e.revision)
	}
	vs, ok := rs[0].Expressions[0].Value.([]any)
	if !ok || len(vs) != len(resources) {
		return nil, fmt.Errorf("policy %s: decide page: malformed decisions", e.revision)
	}
	out := make([]Decision, len(vs))
	for i, v := range vs {
		if out[i], err = e.toDecision(v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// toDecision reads a decision object; anything malformed is an error, and
// the caller treats an error as a denial.
func (e *Engine) toDecision(v any) (Decision, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("policy %s: decision is %T, not an object", e.revision, v)
	}
	allow, ok := m["allow"].(bool)
	if !ok {
		return Decision{}, fmt.Errorf("policy %s: decision has no boolean allow", e.revision)
	}
	d := Decision{Allow: allow, Revision: e.revision}
	var err error
	if d.Reasons, err = stringList(m, "reasons"); err != nil {
		return Decision{}, fmt.Errorf("policy %s: %w", e.revision, err)
	}
	if d.Redactions, err = stringList(m, "redactions"); err != nil {
		return Decision{}, fmt.Errorf("policy %s: %w", e.revision, err)
	}
	if d.Obligations, err = stringList(m, "obligations"); err != nil {
		return Decision{}, fmt.Errorf("policy %s: %w", e.revision, err)
	}
	if d.Disclosed, err = stringList(m, "disclosed"); err != nil {
		return Decision{}, fmt.Errorf("policy %s: %w", e.revision, err)
	}
	if !d.Allow && len(d.Disclosed) == 0 {
		d.Disclosed = []string{"DEFAULT-deny"} // the policy did not say what may be told
	}
	return d, nil
}

func stringList(m map[string]any, key string) ([]string, error) {
	raw, _ := m[key].([]any)
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		s, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("decision %s holds %T, not a string", key, r)
		}
		out = append(out, s)
	}
	return out, nil
}

// partial runs a partial evaluation, one at a time (see partialMu).
func (e *Engine) partial(ctx context.Context, q rego.PreparedPartialQuery, in ast.Value) (*rego.PartialQueries, error) {
	e.partialMu.Lock()
	defer e.partialMu.Unlock()
	return q.Partial(ctx, rego.EvalParsedInput(in))
}

// LoadFiles is [Load] for a version held as files (a stored version).
func LoadFiles(ctx context.Context, files Files) (*Engine, error) {
	src, err := newSource(files)
	if err != nil {
		return nil, err
	}
	return load(ctx, src)
}

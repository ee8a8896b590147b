package versions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
)

// Auditor records one audit entry per step.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry) (string, error)
}

// Policies gives the active engine, whose revision the audit records of
// the steps name.
type Policies interface {
	Current() *policy.Engine
}

// DefaultMinRuleCoverage is the share of each rule's lines (percent) the
// Rego tests must evaluate unless the workflow says otherwise.
const DefaultMinRuleCoverage = 50

// Operations: the audit record of each step names one.
const (
	OpSeed     = "$policy-seed"
	OpPropose  = "$policy-propose"
	OpTest     = "$policy-test"
	OpApprove  = "$policy-approve"
	OpActivate = "$policy-activate"
	OpRollback = "$policy-rollback"
	OpShadow   = "$policy-shadow"
)

// Workflow moves versions through their states, enforcing who may do what.
type Workflow struct {
	Store  Store
	Audit  Auditor
	Policy Policies
	// MinRuleCoverage is the share (percent) of each rule's lines the
	// version's Rego tests must evaluate to pass its test.
	MinRuleCoverage float64
	// Clock dates steps (default time.Now).
	Clock func() time.Time
}

func (w *Workflow) now() time.Time {
	if w.Clock != nil {
		return w.Clock().UTC()
	}
	return time.Now().UTC()
}

// Seed stores files as the first version, active, when the database holds
// no version; otherwise it does nothing. It returns the active id.
func (w *Workflow) Seed(ctx context.Context, files policy.Files) (string, error) {
	if id, err := w.Store.ActiveID(ctx); err != nil || id != "" {
		return id, err
	}
	all, err := w.Store.List(ctx)
	if err != nil {
		return "", err
	}
	if len(all) > 0 {
		return "", errors.New("the database holds policy versions but none is active: activate one with gateway policy activate")
	}
	if _, err := policy.LoadFiles(ctx, files); err != nil {
		return "", fmt.Errorf("%w: %w", ErrTestFailed, err)
	}
	v := newVersion(files)
	by := Person{Subject: "gateway-seed"}
	now := w.now()
	v.Author, v.Created, v.State, v.Activated, v.Note = by, now, Active, now.UnixMilli(), "seeded from the policy directory"
	v.History = []Event{{Time: now, Action: "seed", By: by, Note: v.Note}}
	if err := w.Store.Insert(ctx, v); err != nil && !errors.Is(err, ErrExists) {
		return "", err
	}
	return v.ID, w.record(ctx, OpSeed, by, v.ID, true)
}

// Propose stores files as a new draft, child of the active version.
func (w *Workflow) Propose(ctx context.Context, by Person, files policy.Files, note string) (*Version, error) {
	if by.Subject == "" {
		return nil, errors.New("a proposal needs its author")
	}
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	v := newVersion(files)
	parent, err := w.Store.ActiveID(ctx)
	if err != nil {
		return nil, err
	}
	now := w.now()
	v.Author, v.Created, v.Note, v.Parent, v.State = by, now, note, parent, Draft
	v.History = []Event{{Time: now, Action: "propose", By: by, Note: note}}
	if err := w.Store.Insert(ctx, v); err != nil {
		if errors.Is(err, ErrExists) {
			return nil, fmt.Errorf("%w: version %s", ErrExists, v.ID)
		}
		return nil, err
	}
	return v, w.record(ctx, OpPropose, by, v.ID, true)
}

// checkFiles refuses what could not be a policy before it is stored.
func checkFiles(files policy.Files) error {
	data, ok := files[policy.DataFile]
	if !ok || !json.Valid(data) {
		return fmt.Errorf("%w: a version needs %s holding JSON", ErrTestFailed, policy.DataFile)
	}
	if len(files) < 2 {
		return fmt.Errorf("%w: a version needs Rego modules", ErrTestFailed)
	}
	return nil
}

// Test runs the checks the gateway runs when it loads a version (format,
// strict compile, Rego tests, plans agree with full evaluation, filters
// compile) and the coverage of every rule by the tests. A version that
// passes becomes tested; one that fails stays a draft, its report saying
// why, and the error wraps ErrTestFailed.
func (w *Workflow) Test(ctx context.Context, by Person, id string) (*Version, error) {
	v, err := w.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if v.State != Draft {
		return v, fmt.Errorf("%w: version %s is %s; only a draft is tested", ErrState, id, v.State)
	}
	rep := w.check(ctx, v.Files())
	v.Report = rep
	note := "passed"
	if rep.Passed {
		v.State = Tested
	} else {
		note = "failed: " + rep.Error
	}
	v.History = append(v.History, Event{Time: w.now(), Action: "test", By: by, Note: note})
	if err := w.Store.Replace(ctx, v, Draft); err != nil {
		return nil, err
	}
	if err := w.record(ctx, OpTest, by, id, rep.Passed); err != nil {
		return nil, err
	}
	if !rep.Passed {
		return v, fmt.Errorf("%w: %s", ErrTestFailed, rep.Error)
	}
	return v, nil
}

func (w *Workflow) check(ctx context.Context, files policy.Files) *Report {
	min := w.MinRuleCoverage
	if min == 0 {
		min = DefaultMinRuleCoverage
	}
	rep := &Report{MinCoverage: min}
	if _, err := policy.LoadFiles(ctx, files); err != nil {
		rep.Error = err.Error()
		return rep
	}
	rules, overall, err := policy.Coverage(ctx, files)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	rep.Rules, rep.Coverage = rules, overall
	for _, r := range rules {
		if r.Percent < min {
			rep.Uncovered = append(rep.Uncovered, r)
		}
	}
	if len(rep.Uncovered) > 0 {
		rep.Error = fmt.Sprintf("%d rules are covered by the Rego tests less than the minimum of %.0f%% (the first: %s at %.0f%%)",
			len(rep.Uncovered), min, rep.Uncovered[0].Rule, rep.Uncovered[0].Percent)
		return rep
	}
	rep.Passed = true
	return rep
}

// Approve approves a tested version. The approver must not be its author
// (ErrSameAuthor) and the active version, whose engine is active (the one
// the request pinned), must let them approve ($policy-approve;
// ErrNotApprover). A refusal is audited too.
func (w *Workflow) Approve(ctx context.Context, active *policy.Engine, by Person, id, note string) (*Version, error) {
	v, err := w.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if v.State != Tested {
		return v, fmt.Errorf("%w: version %s is %s; only a tested version is approved", ErrState, id, v.State)
	}
	if by.Subject == v.Author.Subject {
		return v, errors.Join(ErrSameAuthor, w.record(ctx, OpApprove, by, id, false, "TWO-PERSON-approval"))
	}
	d, err := active.DecideOperation(ctx, policy.Input{Action: policy.ActionOperation, Operation: OpApprove,
		Subject: policy.Subject{Kind: policy.SubjectUser, ID: by.Subject, Org: by.Org, Role: by.Role}})
	if err != nil {
		return v, err
	}
	if !d.Allow {
		return v, errors.Join(ErrNotApprover, w.record(ctx, OpApprove, by, id, false, d.Reasons...))
	}
	v.State = Approved
	v.History = append(v.History, Event{Time: w.now(), Action: "approve", By: by, Note: note})
	if err := w.Store.Replace(ctx, v, Tested); err != nil {
		return nil, err
	}
	return v, w.record(ctx, OpApprove, by, id, true, d.Reasons...)
}

// Activate makes an approved version the active one and retires the one
// it replaces.
func (w *Workflow) Activate(ctx context.Context, by Person, id string) (*Version, error) {
	return w.activate(ctx, by, id, OpActivate, Approved)
}

// Rollback makes an earlier version active again in one step: one that
// was active before (retired) or approved and never activated.
func (w *Workflow) Rollback(ctx context.Context, by Person, id string) (*Version, error) {
	return w.activate(ctx, by, id, OpRollback, Retired, Approved)
}

func (w *Workflow) activate(ctx context.Context, by Person, id, op string, from ...string) (*Version, error) {
	v, err := w.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(from, v.State) {
		return v, fmt.Errorf("%w: version %s is %s; %s takes a version that is %v", ErrState, id, v.State, op, from)
	}
	prev, err := w.Store.ActiveID(ctx)
	if err != nil {
		return nil, err
	}
	now := w.now()
	was := v.State
	v.State, v.Activated, v.Shadowing = Active, now.UnixMilli(), 0
	v.History = append(v.History, Event{Time: now, Action: op[len("$policy-"):], By: by})
	if err := w.Store.Replace(ctx, v, was); err != nil {
		return nil, err
	}
	if prev != "" && prev != id {
		if err := w.retire(ctx, by, prev, now); err != nil {
			return nil, err
		}
	}
	return v, w.record(ctx, op, by, id, true)
}

func (w *Workflow) retire(ctx context.Context, by Person, id string, now time.Time) error {
	old, err := w.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	old.State = Retired
	old.History = append(old.History, Event{Time: now, Action: "retire", By: by})
	if err := w.Store.Replace(ctx, old, Active); err != nil && !errors.Is(err, ErrState) {
		return err // ErrState: another activation retired it first
	}
	return nil
}

// record audits one step: who, which version, allowed or refused (with
// the rule that refused).
func (w *Workflow) record(ctx context.Context, op string, by Person, id string, allowed bool, reasons ...string) error {
	if w.Audit == nil {
		return nil
	}
	status := 200
	if !allowed {
		status = 403
	}
	rev := ""
	if w.Policy != nil && w.Policy.Current() != nil {
		rev = w.Policy.Current().Revision()
	}
	_, err := w.Audit.Record(ctx, audit.Entry{
		Interaction: "operation", Operation: op, ResourceType: ResourceType, HTTPStatus: status,
		Agent:     audit.Agent{Kind: audit.KindUser, Subject: by.Subject, Org: by.Org, Role: by.Role},
		Resources: []string{ResourceType + "/" + id},
		Decision:  audit.Decision{Allowed: allowed, Reasons: reasons, Revision: rev},
	})
	if err != nil {
		return fmt.Errorf("audit the policy step: %w", err)
	}
	return nil
}

// ResourceType names versions in audit records: PolicyVersion/<id>.
const ResourceType = "PolicyVersion"

// Shadow starts (on) or stops evaluating a tested or approved version in
// shadow beside the active one: every instance then decides each audited
// decision of live traffic under it too, counting and logging where the
// two disagree, enforcing nothing (see [Shadow]). One version shadows at a
// time: starting one stops any other. Activating a version stops its
// shadowing.
func (w *Workflow) Shadow(ctx context.Context, by Person, id string, on bool) (*Version, error) {
	v, err := w.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := w.now()
	if !on {
		if v.Shadowing == 0 {
			return v, fmt.Errorf("%w: version %s is not in shadow", ErrState, id)
		}
		v.Shadowing = 0
		v.History = append(v.History, Event{Time: now, Action: "shadow-stop", By: by})
		if err := w.Store.Replace(ctx, v, v.State); err != nil {
			return nil, err
		}
		return v, w.record(ctx, OpShadow, by, id, true)
	}
	if v.State != Tested && v.State != Approved {
		return v, fmt.Errorf("%w: version %s is %s; only a tested or approved version is evaluated in shadow", ErrState, id, v.State)
	}
	if other, err := w.Store.ShadowID(ctx); err != nil {
		return nil, err
	} else if other != "" && other != id {
		if _, err := w.Shadow(ctx, by, other, false); err != nil && !errors.Is(err, ErrState) {
			return nil, err
		}
	}
	v.Shadowing = now.UnixMilli()
	v.History = append(v.History, Event{Time: now, Action: "shadow-start", By: by})
	if err := w.Store.Replace(ctx, v, v.State); err != nil {
		return nil, err
	}
	return v, w.record(ctx, OpShadow, by, id, true)
}

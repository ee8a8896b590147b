package versions

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
)

// DecisionSource reads the audited decisions of a period (an *audit.Log).
type DecisionSource interface {
	Decisions(ctx context.Context, from, to time.Time, fn func(*audit.DecisionRecord) error) error
}

// DefaultImpactPeriod is how far back an impact preview looks by default.
const DefaultImpactPeriod = 7 * 24 * time.Hour

// ImpactReport says which audited decisions a candidate version would
// decide the other way.
type ImpactReport struct {
	Candidate string    `json:"candidate"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	// Records are the audit records read; Replayed the decisions about
	// records replayed from them.
	Records  int `json:"records"`
	Replayed int `json:"replayed"`
	// Inexact are replayed decisions whose candidate reads a patient fact
	// the gateway did not work out at the time (its plan did not need
	// it): replayed with that fact false.
	Inexact int `json:"inexact"`
	// NotReplayable counts what could not be replayed.
	NotReplayable NotReplayable `json:"not_replayable"`
	// Refused (allowed then, refused now) and Allowed (refused then,
	// allowed now) are the flips, grouped.
	Refused Flips `json:"now_refused"`
	Allowed Flips `json:"now_allowed"`
}

// NotReplayable counts the audited interactions an impact preview could
// not replay, by why.
type NotReplayable struct {
	// WithoutInputs are reads, searches and histories whose record kept
	// no decision inputs: written before they were kept, or refused
	// before the policy decided about a record (a bad token, a scope).
	WithoutInputs int `json:"without_inputs"`
	// OtherInteractions are writes, operations and the rest: decided in
	// full on what the audit record does not keep (a stored version).
	OtherInteractions int `json:"other_interactions"`
	// Omitted are inputs beyond audit.MaxDecided of one record.
	Omitted int `json:"omitted_inputs"`
}

// Flips are decisions that changed one way, counted in all and by rule
// (the candidate's reasons), organisation, role, purpose and record
// category, each group with a few audit ids as examples.
type Flips struct {
	Count    int               `json:"count"`
	Rule     map[string]*Group `json:"by_rule"`
	Org      map[string]*Group `json:"by_organisation"`
	Role     map[string]*Group `json:"by_role"`
	Purpose  map[string]*Group `json:"by_purpose"`
	Category map[string]*Group `json:"by_category"`
}

// Group is one group of flips.
type Group struct {
	Count    int      `json:"count"`
	Examples []string `json:"examples"` // audit record ids
}

// maxExamples is how many audit ids a group keeps.
const maxExamples = 3

func newFlips() Flips {
	return Flips{Rule: map[string]*Group{}, Org: map[string]*Group{}, Role: map[string]*Group{},
		Purpose: map[string]*Group{}, Category: map[string]*Group{}}
}

func (f *Flips) add(auditID string, n int, s *policy.Subject, categories, reasons []string) {
	f.Count += n
	add := func(m map[string]*Group, k string) {
		g := m[k]
		if g == nil {
			g = &Group{}
			m[k] = g
		}
		g.Count += n
		if len(g.Examples) < maxExamples && !slices.Contains(g.Examples, auditID) {
			g.Examples = append(g.Examples, auditID)
		}
	}
	for _, r := range reasons {
		add(f.Rule, r)
	}
	add(f.Org, s.Org)
	add(f.Role, s.Role)
	add(f.Purpose, s.Purpose)
	for _, c := range categories {
		add(f.Category, c)
	}
}

// Impact replays the audited decisions of [from, to) under the candidate
// engine and reports the flips. Decisions are batched per caller and
// decided by the candidate's plans ([policy.Engine.DecideMany]).
func Impact(ctx context.Context, candidate *policy.Engine, src DecisionSource, from, to time.Time) (*ImpactReport, error) {
	rep := &ImpactReport{Candidate: IDOf(candidate.Revision()), From: from, To: to, Refused: newFlips(), Allowed: newFlips()}
	r := newReplayer(candidate, rep)
	err := src.Decisions(ctx, from, to, func(dr *audit.DecisionRecord) error { return r.observe(ctx, dr) })
	if err != nil {
		return nil, err
	}
	return rep, r.flush(ctx)
}

// observe counts one audit record and holds its decisions for replay.
func (r *replayer) observe(ctx context.Context, dr *audit.DecisionRecord) error {
	r.rep.Records++
	switch {
	case len(dr.Decided) > 0:
	case isRecordDecision(dr.Interaction):
		r.rep.NotReplayable.WithoutInputs++
		return nil
	default:
		r.rep.NotReplayable.OtherInteractions++
		return nil
	}
	r.rep.NotReplayable.Omitted += dr.DecidedOmitted
	return r.add(ctx, dr)
}

// isRecordDecision reports whether an interaction decides about records
// (reads, searches, histories), which a record without inputs predates.
func isRecordDecision(interaction string) bool {
	return interaction == "read" || interaction == "vread" || strings.HasPrefix(interaction, "search") || strings.HasPrefix(interaction, "history")
}

// replayer batches decisions per caller (action, subject, type).
type replayer struct {
	e       *policy.Engine
	rep     *ImpactReport
	batches map[batchKey]*batch
	pending int
	needs   map[batchKey]policy.Facts
	// onFlip, when set, hears of each decision the engine decides
	// otherwise (a shadow's disagreements).
	onFlip func(auditID string, nowAllowed bool, reasons []string)
}

type batchKey struct {
	action, typ string
	subject     policy.Subject
}

type batch struct {
	attrs []policy.ResourceAttributes
	ctxs  []policy.Context
	items []batchItem
}

type batchItem struct {
	auditID string
	allowed bool
	count   int
}

// flushAt bounds the decisions held before they are decided.
const flushAt = 50_000

func newReplayer(e *policy.Engine, rep *ImpactReport) *replayer {
	return &replayer{e: e, rep: rep, batches: map[batchKey]*batch{}, needs: map[batchKey]policy.Facts{}}
}

func subjectOf(a *audit.Agent) policy.Subject {
	return policy.Subject{Kind: a.Kind, ID: a.Subject, Org: a.Org, Role: a.Role, Purpose: a.Purpose, BreakGlassReason: a.BreakGlassReason}
}

func (r *replayer) add(ctx context.Context, dr *audit.DecisionRecord) error {
	s := subjectOf(&dr.Agent)
	for i := range dr.Decided {
		d := &dr.Decided[i]
		k := batchKey{action: d.Action, typ: d.Type, subject: s}
		need, ok := r.needs[k]
		if !ok {
			need = r.e.Needs(ctx, d.Action, s)
			r.needs[k] = need
		}
		c, exact := contextOf(d.Facts, need)
		if !exact {
			r.rep.Inexact += max(d.Count, 1)
		}
		b := r.batches[k]
		if b == nil {
			b = &batch{}
			r.batches[k] = b
		}
		b.attrs = append(b.attrs, policy.ResourceAttributes{Patient: d.Patient, Categories: d.Categories, Labels: d.Labels, AuthorOrgs: d.AuthorOrgs})
		b.ctxs = append(b.ctxs, c)
		b.items = append(b.items, batchItem{auditID: dr.ID, allowed: d.Allowed, count: max(d.Count, 1)})
		r.pending++
	}
	if r.pending >= flushAt {
		return r.flush(ctx)
	}
	return nil
}

// contextOf decodes audit.Decided's facts; exact is false when the
// candidate needs a fact that was not worked out.
func contextOf(facts string, need policy.Facts) (c policy.Context, exact bool) {
	at := func(i int) (v, known bool) {
		if i >= len(facts) || facts[i] == '?' {
			return false, false
		}
		return facts[i] == '1', true
	}
	exact = true
	for i, f := range []struct {
		v    *bool
		need bool
	}{{&c.Related, need.Related}, {&c.Objected, need.Objected}, {&c.Self, need.Self}, {&c.KnownToCouncil, need.KnownToCouncil}, {&c.ProviderNamed, need.ProviderNamed}} {
		v, known := at(i)
		*f.v = v
		if f.need && !known {
			exact = false
		}
	}
	return c, exact
}

// flush decides every held batch, a page at a time.
func (r *replayer) flush(ctx context.Context) error {
	const page = 1000
	for k, b := range r.batches {
		base := policy.Input{Action: k.action, Subject: k.subject, Resource: policy.Resource{Type: k.typ}}
		for lo := 0; lo < len(b.attrs); lo += page {
			hi := min(lo+page, len(b.attrs))
			ds, err := r.e.DecideMany(ctx, base, b.attrs[lo:hi], b.ctxs[lo:hi])
			if err != nil {
				return err
			}
			for j, d := range ds {
				it := &b.items[lo+j]
				r.rep.Replayed += it.count
				switch {
				case it.allowed && !d.Allow:
					r.rep.Refused.add(it.auditID, it.count, &k.subject, b.attrs[lo+j].Categories, d.Reasons)
				case !it.allowed && d.Allow:
					r.rep.Allowed.add(it.auditID, it.count, &k.subject, b.attrs[lo+j].Categories, d.Reasons)
				default:
					continue
				}
				if r.onFlip != nil {
					r.onFlip(it.auditID, d.Allow, d.Reasons)
				}
			}
		}
		delete(r.batches, k)
	}
	r.pending = 0
	return nil
}

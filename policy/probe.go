package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// probeSet is what a policy is tried with when it loads: subjects (one
// organisation of each kind in the agreement with each role class, for
// direct care and breaking glass, and a person reading their own record) and records built from the agreement's
// vocabulary and labels. The search filter must translate for every
// subject, and every subject's plan must build and agree with full
// evaluation over the records.
type probeSet struct {
	subjects []Subject
	records  []ResourceAttributes // categories x labels, labels varying fastest
	labels   int                  // label variants per category
}

// probeContexts are the patient facts records are tried with.
var probeContexts = []Context{
	{},
	{Related: true},
	{Related: true, Objected: true},
	{KnownToCouncil: true},
	{KnownToCouncil: true, Objected: true},
	{Self: true},
	{ProviderNamed: true},
	{Related: true, Objected: true, Self: true, KnownToCouncil: true, ProviderNamed: true},
	// A named third party: some categories on consent, some on the
	// council's legal duty, with and without an objection.
	{SharedConsent: probeShares("care-plan", "alert", "demographics")},
	{SharedConsent: probeShares("care-plan", "alert"), Objected: true},
	{SharedDuty: probeShares("safeguarding", "alert"), Objected: true},
	{SharedConsent: probeShares("alert", "medication"), SharedDuty: probeShares("safeguarding")},
}

// probeShares shares categories of the probe patient.
func probeShares(cats ...string) map[string][]string {
	m := map[string][]string{}
	for _, c := range cats {
		m[c] = []string{"Patient/probe"}
	}
	return m
}

func newProbeSet(data []byte) (probeSet, error) {
	var doc struct {
		DSA struct {
			Organisations map[string]struct {
				Kind string `json:"kind"`
			} `json:"organisations"`
			RoleClasses map[string]struct {
				Roles        []string `json:"roles"`
				SubjectKinds []string `json:"subject_kinds"`
			} `json:"role_classes"`
			Vocabulary       []string `json:"vocabulary"`
			RestrictedLabels []string `json:"restricted_labels"`
			ThirdPartyLabels []string `json:"third_party_labels"`
		} `json:"dsa"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return probeSet{}, fmt.Errorf("%s: %w", DataFile, err)
	}
	dsa := doc.DSA
	// One organisation per kind: the policy sees an organisation through
	// its kind, and its code only as a value.
	byKind := map[string]string{}
	for _, code := range sortedKeys(dsa.Organisations) {
		if _, seen := byKind[dsa.Organisations[code].Kind]; !seen {
			byKind[dsa.Organisations[code].Kind] = code
		}
	}
	ps := probeSet{subjects: []Subject{{Kind: SubjectPerson, Purpose: "PATRQT"}}}
	for _, kind := range sortedKeys(byKind) {
		for _, rc := range sortedKeys(dsa.RoleClasses) {
			if roles := dsa.RoleClasses[rc].Roles; len(roles) > 0 {
				ps.subjects = append(ps.subjects,
					Subject{Kind: SubjectUser, Org: byKind[kind], Role: roles[0], Purpose: "TREAT"},
					Subject{Kind: SubjectUser, Org: byKind[kind], Role: roles[0], Purpose: "BTG", BreakGlassReason: "probe"})
			}
			if slices.Contains(dsa.RoleClasses[rc].SubjectKinds, SubjectSystem) {
				ps.subjects = append(ps.subjects, Subject{Kind: SubjectSystem, Org: byKind[kind], Purpose: "TREAT"})
			}
		}
	}
	// Records: each category alone, none, an unknown one and a
	// safeguarding alert; each label alone or none; written by the probe
	// organisation or not (author "" is replaced by the subject's
	// organisation when checked).
	cats := [][]string{{}, {"probe-unknown-category"}, {"alert", "safeguarding"}}
	for _, c := range dsa.Vocabulary {
		cats = append(cats, []string{c})
	}
	labels := [][]string{{}}
	for _, l := range slices.Concat(dsa.RestrictedLabels, dsa.ThirdPartyLabels) {
		labels = append(labels, []string{l})
	}
	ps.labels = len(labels)
	for _, c := range cats {
		for i, l := range labels {
			authors := []string{"PROBE-OTHER"}
			if i%2 == 0 {
				authors = []string{""}
			}
			ps.records = append(ps.records, ResourceAttributes{Patient: "Patient/probe", Categories: c, Labels: l, AuthorOrgs: authors})
		}
	}
	return ps, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// probeActions are the actions plans are checked for.
var probeActions = []string{ActionRead, ActionWrite}

// checkPlans builds every probe subject's plans and checks them against
// full evaluation: every probe record must get exactly the decision full
// evaluation gives. It refuses a policy that breaks the contract in
// decision.rego. Plans are skipped (and records decided in full) for
// policies that are not deterministic.
func (e *Engine) checkPlans(ctx context.Context) error {
	if e.plans == nil {
		return nil
	}
	for _, s := range e.probes.subjects {
		for _, action := range probeActions {
			if s.BreakGlassReason != "" && action != ActionRead {
				continue // breaking glass is for reading
			}
			if err := e.checkPlan(ctx, action, s); err != nil {
				return fmt.Errorf("organisation %s role %s, %s: %w", s.Org, s.Role, action, err)
			}
		}
	}
	return nil
}

func (e *Engine) checkPlan(ctx context.Context, action string, s Subject) error {
	p, err := e.buildPlan(ctx, action, s)
	if err == nil {
		_, err = e.recordChecks(ctx, p)
	}
	if err != nil {
		return fmt.Errorf("cannot specialise the policy: %w", err)
	}
	// Every record with every context would be slow to evaluate at each
	// load; each record is tried with two, chosen so that every category
	// meets every context (record c*labels+l takes contexts c+2l and
	// c+2l+1).
	var resources []ResourceAttributes
	var contexts []Context
	for i, r := range e.probes.records {
		if r.AuthorOrgs[0] == "" {
			r.AuthorOrgs = []string{s.Org}
		}
		c, l := i/e.probes.labels, i%e.probes.labels
		for k := range 2 {
			resources = append(resources, r)
			contexts = append(contexts, probeContexts[(c+2*l+k)%len(probeContexts)])
		}
	}
	base := Input{Action: action, Subject: s, Resource: Resource{Type: "CarePlan"}}
	full, err := e.evalMany(ctx, base, resources, contexts)
	if err != nil {
		return err
	}
	for i := range resources {
		d, ok, err := e.decideByPlan(ctx, p, "CarePlan", "", &resources[i], &contexts[i])
		if err != nil {
			return err
		}
		if !ok || !reflect.DeepEqual(d, full[i]) {
			return fmt.Errorf("the specialised policy disagrees with full evaluation for a record of categories %q, labels %q, authors %q and facts %+v: %+v against %+v (keep decide in the shape decision.rego describes)",
				resources[i].Categories, resources[i].Labels, resources[i].AuthorOrgs, contexts[i], d, full[i])
		}
	}
	return nil
}

package policy

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

const (
	labelR          = ConfidentialitySystem + "|R"
	labelThirdParty = SecurityLabelSystem + "|" + LabelThirdParty
)

// fixtureDocs builds synthetic stored documents: every combination of a
// few patients, category sets, labels and authors.
func fixtureDocs() ([]string, []ResourceAttributes) {
	patients := []string{"Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4"}
	cats := [][]string{
		{CatCarePlan}, {CatCarePackage}, {CatFinancial}, {CatAlert, CatSafeguarding},
		{CatSafeguarding}, {CatOpinion}, {CatVisit}, {CatDemographics},
	}
	var ids []string
	var out []ResourceAttributes
	for i, p := range patients {
		for j, c := range cats {
			a := ResourceAttributes{Patient: p, Categories: c, Labels: []string{}, AuthorOrgs: []string{"LA001"}}
			switch (i + j) % 4 {
			case 1:
				a.Labels = []string{labelR}
			case 2:
				a.AuthorOrgs = []string{"CP001"}
			case 3:
				a.Labels = []string{labelThirdParty}
				a.AuthorOrgs = []string{"CP002", "LA001"}
			}
			ids = append(ids, fmt.Sprintf("r%02d", len(ids)))
			out = append(out, a)
		}
	}
	ids = append(ids, "dir1")
	out = append(out, ResourceAttributes{Categories: []string{CatDirectory}, Labels: []string{}, AuthorOrgs: []string{}})
	return ids, out
}

// stored is a resource as every engine stores it, for cond.Node.Eval:
// the access attributes (the patient "" for none, the lists perhaps empty,
// always present) and the search compartment, which here also names
// Patient/p1 (as a record about two people would), so that a filter
// reading the compartment instead of the policy's one patient disagrees
// with the decision.
func stored(id string, a ResourceAttributes) cond.Record {
	strs := func(l []string) []any {
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	var pat []string
	if a.Patient != "" {
		pat = append(pat, a.Patient)
		if a.Patient != "Patient/p1" {
			pat = append(pat, "Patient/p1")
		}
	}
	fields := map[string][]any{
		cond.ID:               {id},
		cond.Compartment:      strs(pat),
		cond.AccessPatient:    {a.Patient},
		cond.AccessCategories: strs(a.Categories),
		cond.AccessLabels:     strs(a.Labels),
		cond.AccessOrgs:       strs(a.AuthorOrgs),
	}
	return func(f string) ([]any, bool) {
		vs, ok := fields[f]
		return vs, ok
	}
}

// TestFilterAgreesWithDecision checks, over fixture records, that "the
// filter holds" (decided in Go, as the store's tests show each engine's
// query decides it) equals "the per-resource decision allows" for a range
// of subjects, with the plan's filter and with the filter rule's.
func TestFilterAgreesWithDecision(t *testing.T) {
	e := testEngine(t)
	ctx := t.Context()
	ids, docs := fixtureDocs()
	records := make([]cond.Record, len(docs))
	for i := range docs {
		records[i] = stored(ids[i], docs[i])
	}

	lists := Context{
		RelatedPatients:  []string{"Patient/p1", "Patient/p2"},
		ObjectedPatients: []string{"Patient/p2", "Patient/p4"},
		KnownPatients:    []string{"Patient/p1", "Patient/p3"},
	}
	selfP1 := Context{SelfPatients: []string{"Patient/p1"}}
	breakGlass := Subject{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed"}
	scenarios := []struct {
		note    string
		subject Subject
		context Context
	}{
		{"gp nurse", gpNurse, lists},
		{"trust receptionist", trustAdmin, lists},
		{"trust doctor", trustDoctor, lists},
		{"trust social worker", Subject{Kind: SubjectUser, Org: "RJ1", Role: "R8014", Purpose: "TREAT"}, lists},
		{"community support worker", Subject{Kind: SubjectUser, Org: "RYQ", Role: "R1450", Purpose: "TREAT"}, lists},
		{"break glass", breakGlass, lists},
		{"council social worker", councilSW, lists},
		{"council ig", Subject{Kind: SubjectUser, Org: "LA001", Role: "R5105", Purpose: "COC"}, lists},
		{"provider carer", providerCare, lists},
		{"researcher", researcher, lists},
		{"person", personP1, selfP1},
		{"gp nurse, no lists", gpNurse, Context{}},
	}
	var allowedSomewhere, deniedSomewhere bool
	for _, sc := range scenarios {
		t.Run(sc.note, func(t *testing.T) {
			base := Input{Action: ActionSearch, Subject: sc.subject, Resource: Resource{Type: "CarePlan"}, Context: sc.context}
			// The filter from the subject's plan, and from the filter rule
			// (used when plans cannot be).
			f, err := e.Filter(ctx, base)
			matched := find(t, ids, records, f, err)
			rf, err := e.buildFilter(ctx, base)
			if byRule := find(t, ids, records, rf, err); !slices.Equal(byRule, matched) {
				t.Errorf("the filter rule matches %v, the plan's filter %v", byRule, matched)
			}
			// The same filter with the lists named by fact sets, as the
			// embedded engine is given it: the sets looked up to those
			// lists, it matches the same records.
			sets := sc.context
			lists := map[*cond.FactSet][]string{}
			name := func(l []string) *cond.FactSet {
				s := &cond.FactSet{Kinds: []string{"kind"}}
				lists[s] = l
				return s
			}
			sets.RelatedSet, sets.ObjectedSet, sets.KnownSet = name(sc.context.RelatedPatients), name(sc.context.ObjectedPatients), name(sc.context.KnownPatients)
			sets.RelatedPatients, sets.ObjectedPatients, sets.KnownPatients = nil, nil, nil
			sf, err := e.Filter(ctx, Input{Action: ActionSearch, Subject: sc.subject, Resource: Resource{Type: "CarePlan"}, Context: sets})
			if err == nil {
				sf, err = sf.ResolveFacts(func(s *cond.FactSet) ([]string, error) { return lists[s], nil })
			}
			if bySets := find(t, ids, records, sf, err); !slices.Equal(bySets, matched) {
				t.Errorf("the filter with fact sets matches %v, with lists %v", bySets, matched)
			}
			// The decision route: per-resource booleans, no lists.
			contexts := make([]Context, len(docs))
			for i, d := range docs {
				contexts[i] = Context{
					Related:        slices.Contains(sc.context.RelatedPatients, d.Patient),
					Objected:       slices.Contains(sc.context.ObjectedPatients, d.Patient),
					KnownToCouncil: slices.Contains(sc.context.KnownPatients, d.Patient),
					Self:           slices.Contains(sc.context.SelfPatients, d.Patient),
				}
			}
			ds, err := e.DecideMany(ctx, Input{Action: ActionSearch, Subject: sc.subject, Resource: Resource{Type: "CarePlan"}}, docs, contexts)
			if err != nil {
				t.Fatal(err)
			}
			var allowed []string
			for i, d := range ds {
				if d.Allow {
					allowed = append(allowed, ids[i])
				}
			}
			slices.Sort(allowed)
			if !slices.Equal(matched, allowed) {
				t.Errorf("filter %v\nmatched %v\nallowed %v", f, matched, allowed)
			}
			if len(allowed) > 0 {
				allowedSomewhere = true
			}
			if len(allowed) < len(docs) {
				deniedSomewhere = true
			}
		})
	}
	if !allowedSomewhere || !deniedSomewhere {
		t.Error("fixtures do not exercise both outcomes")
	}
}

// find returns the sorted ids of the records filter f (with its error
// from Filter) holds for.
func find(t *testing.T, ids []string, records []cond.Record, f *cond.Node, err error) []string {
	t.Helper()
	switch {
	case errors.Is(err, ErrDenyAll):
		if f != nil {
			t.Errorf("ErrDenyAll with filter %v", f)
		}
		return nil
	case err != nil:
		t.Fatal(err)
	}
	var out []string
	for i, rec := range records {
		if f.Eval(rec) {
			out = append(out, ids[i])
		}
	}
	slices.Sort(out)
	return out
}

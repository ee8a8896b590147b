package policy

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestPlanAgreesWithFullEvaluation checks, over the fixture documents with
// every combination of patient facts, for a range of subjects and actions,
// that the decisions made by specialised plans are exactly those of
// evaluating the whole policy, and that the plans make every decision, allowed
// and refused (so that the check is not vacuous).
func TestPlanAgreesWithFullEvaluation(t *testing.T) {
	e := testEngine(t)
	_, docs := fixtureDocs()
	docs = append(docs,
		ResourceAttributes{Patient: "Patient/p1", Categories: []string{CatCarePlan, "mystery"}, Labels: []string{}, AuthorOrgs: []string{"CP001"}},
		ResourceAttributes{Patient: "Patient/p1", Categories: []string{}, Labels: []string{}, AuthorOrgs: []string{}},
		ResourceAttributes{Patient: "Patient/p1", Categories: []string{CatAudit}, Labels: []string{}, AuthorOrgs: []string{}},
		ResourceAttributes{Patient: "", Categories: []string{CatDirectory}, Labels: []string{labelR}, AuthorOrgs: []string{}},
	)
	var contexts []Context
	for bits := range 32 {
		if bits&16 != 0 && bits != 31 {
			continue // provider_named matters to writes only: alone and with everything
		}
		contexts = append(contexts, Context{Related: bits&1 != 0, Objected: bits&2 != 0, Self: bits&4 != 0, KnownToCouncil: bits&8 != 0, ProviderNamed: bits&16 != 0})
	}
	contexts = append(contexts, Context{ProviderNamed: true})
	contexts = append(contexts,
		Context{SelfPatients: []string{"Patient/p1"}},
		Context{RelatedPatients: []string{"Patient/p1", "Patient/p2"}, ObjectedPatients: []string{"Patient/p2"}},
		Context{KnownPatients: []string{"Patient/p3"}, Related: true},
	)
	var page []ResourceAttributes
	var pageContexts []Context
	for _, c := range contexts {
		for _, d := range docs {
			page = append(page, d)
			pageContexts = append(pageContexts, c)
		}
	}
	subjects := []Subject{
		gpNurse, trustAdmin, trustDoctor, councilSW, providerCare, researcher, personP1,
		{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed"},
		{Kind: SubjectUser, Org: "RJ1", Role: "R8009", Purpose: "BTG", BreakGlassReason: "collapsed"},
		{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: " "},
		{Kind: SubjectUser, Org: "RJ1", Role: "R8014", Purpose: "TREAT"},
		{Kind: SubjectUser, Org: "RJ1", Role: "R9999", Purpose: "TREAT"},
		{Kind: SubjectUser, Org: "LA001", Role: "R5105", Purpose: "COC"},
		{Kind: SubjectSystem, Org: "LA001", Purpose: "COC"},
		{Kind: "robot", Org: "RJ1", Role: "R8000", Purpose: "TREAT"},
	}
	var byPlan, allowed int
	for _, action := range []string{ActionRead, ActionSearch, ActionHistory, ActionOperation, ActionWrite, "delete"} {
		for _, s := range subjects {
			base := Input{Action: action, Subject: s, Resource: Resource{Type: "CarePlan"}}
			full, err := e.evalMany(t.Context(), base, page, pageContexts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.DecideMany(t.Context(), base, page, pageContexts)
			if err != nil {
				t.Fatal(err)
			}
			p := e.planFor(t.Context(), action, s)
			if p == nil {
				t.Fatalf("no plan for %s by %+v", action, s)
			}
			for i := range page {
				if !reflect.DeepEqual(got[i], full[i]) {
					t.Fatalf("%s by %s/%s/%s/%s, record %+v with %+v: plan %+v, full %+v", action, s.Kind, s.Org, s.Role, s.Purpose, page[i], pageContexts[i], got[i], full[i])
				}
				if full[i].Allow {
					allowed++
				}
				if _, ok, _ := e.decideByPlan(t.Context(), p, "CarePlan", "", &page[i], &pageContexts[i]); ok {
					byPlan++
				}
			}
		}
	}
	if total := len(page) * 6 * len(subjects); byPlan != total || allowed == 0 || allowed == total {
		t.Errorf("plans decided %d of %d records (%d allowed); want all of them, allowed and refused", byPlan, total, allowed)
	}
}

// TestPlanRefusals: a policy whose paths the engine cannot specialise, or
// whose decide no longer follows the contract in decision.rego, is refused
// at load, naming why.
func TestPlanRefusals(t *testing.T) {
	tests := []struct {
		note, file, old, new, want string
	}{
		{
			note: "a path condition on the patient facts the specialiser does not know",
			file: "paths.rego",
			old:  "\trelated(r, c)\n\tnot objected(r, c)\n",
			new:  "\trelated(r, c)\n\tnot objected(r, c)\n\tcount(object.keys(c)) > 0\n",
			want: "cannot specialise",
		},
		{
			note: "every over a record's categories",
			file: "decision.rego",
			old:  "known_categories(cats) if not unknown_category(cats)\n",
			new:  "known_categories(cats) if {\n\tevery cat in cats {\n\t\tcat in vocabulary\n\t}\n}\n",
			want: "\"every\" over a record's attributes cannot be specialised",
		},
		{
			note: "decide refuses what no path refuses",
			file: "decision.rego",
			old:  "\td := granted(matched(r, c), r.categories)\n",
			new:  "\td := granted(matched(r, c), r.categories)\n\tnot \"consent\" in r.categories\n",
			want: "disagrees with full evaluation",
		},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			dir := copyPolicy(t)
			editFile(t, dir, tt.file, tt.old, tt.new)
			_, err := Load(t.Context(), dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v; want an error saying %q", err, tt.want)
			}
			if tt.file == "paths.rego" && !errors.Is(err, ErrUntranslatable) {
				t.Errorf("error %v does not wrap ErrUntranslatable", err)
			}
		})
	}
}

// TestPlanKeyIgnoresFieldsThePolicyDoesNotRead: users of one organisation,
// role and purpose share a plan under the baseline policy, which never
// reads who the user is; a policy that reads the subject as a whole keys
// plans by every field.
func TestPlanKeyIgnoresFieldsThePolicyDoesNotRead(t *testing.T) {
	e := testEngine(t)
	want := []string{"break_glass_reason", "kind", "org", "purpose", "role"}
	if !reflect.DeepEqual(e.subjectFields, want) {
		t.Fatalf("subject fields %v, want %v", e.subjectFields, want)
	}
	other := trustDoctor
	other.ID = "someone-else"
	if planKey(ActionRead, trustDoctor, e.subjectFields) != planKey(ActionRead, other, e.subjectFields) {
		t.Error("two users differing only in id get different plans")
	}
	if planKey(ActionRead, trustDoctor, e.subjectFields) == planKey(ActionRead, trustAdmin, e.subjectFields) {
		t.Error("two roles share a plan")
	}
	for _, src := range []string{
		"package x\n\np if input.subject.id == \"a\"\n",
		"package x\n\ns := input.subject\n",
		"package x\n\np if input[k].id == \"a\"\n",
		"package x\n\np if input.subject[k] == \"a\"\n",
	} {
		m := ast.MustParseModule(src)
		got := subjectFields(map[string]*ast.Module{"m": m})
		if strings.Contains(src, "input.subject.id") {
			if !reflect.DeepEqual(got, []string{"id"}) {
				t.Errorf("%q: fields %v, want [id]", src, got)
			}
			continue
		}
		if got != nil {
			t.Errorf("%q: fields %v, want nil (every field)", src, got)
		}
	}
}

// TestNeeds: a caller's plan names only the patient facts its paths read,
// so the gateway looks up no more than those.
func TestNeeds(t *testing.T) {
	e := testEngine(t)
	tests := []struct {
		note    string
		action  string
		subject Subject
		want    Facts
	}{
		{"GP nurse reading", ActionRead, gpNurse, Facts{Related: true, Objected: true}},
		{"trust doctor searching", ActionSearch, trustDoctor, Facts{Related: true, Objected: true}},
		{"break glass", ActionRead, Subject{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed"}, Facts{}},
		{"council social worker", ActionRead, councilSW, Facts{KnownToCouncil: true}},
		{"provider reading its own records", ActionRead, providerCare, Facts{}},
		{"provider writing", ActionWrite, providerCare, Facts{ProviderNamed: true}},
		{"person", ActionRead, personP1, Facts{Self: true, Objected: true, Shared: true}}, // a person may be a third party a Consent names (share.rego)
		{"researcher", ActionRead, researcher, Facts{}},
	}
	for _, tt := range tests {
		if got := e.Needs(t.Context(), tt.action, tt.subject); got != tt.want {
			t.Errorf("%s: needs %+v, want %+v", tt.note, got, tt.want)
		}
	}
	e2, err := Load(t.Context(), ".")
	if err != nil {
		t.Fatal(err)
	}
	e2.plans = nil // decided in full
	if got := e2.Needs(t.Context(), ActionRead, gpNurse); got != AllFacts {
		t.Errorf("without plans: needs %+v, want every fact", got)
	}
}

// FuzzPlanAgreesWithFullEvaluation decides records built from fuzzed bits
// (categories from the vocabulary and beyond, labels, authors, patient
// facts, caller and action) by plan and by full evaluation.
func FuzzPlanAgreesWithFullEvaluation(f *testing.F) {
	f.Add(uint64(0), uint8(0), uint8(0))
	f.Add(uint64(0x1234_5678_9abc), uint8(3), uint8(7))
	f.Add(^uint64(0), uint8(255), uint8(255))
	e := testEngine(f)
	vocab := []string{CatDemographics, CatContacts, CatDirectory, CatCarePlan, CatCarePackage, CatVisit, CatMedication,
		CatIncident, CatAlert, CatSafeguarding, CatFinancial, CatOpinion, CatConsent, CatProvenance, CatAudit, CatOther, "not-a-category"}
	labels := []string{labelR, ConfidentialitySystem + "|V", labelThirdParty, "http://example.org|x"}
	orgs := []string{"Y99001", "RJ1", "SYN01", "SYNH1", "LA001", "CP001", "X99"}
	roles := []string{"R0260", "R8000", "R8009", "R1330", "R1460", "R5105", "R8014", "R9999"}
	purposes := []string{"TREAT", "COC", "BTG", "ETREAT", "HRESCH", "PATRQT", "HOPERAT"}
	actions := []string{ActionRead, ActionSearch, ActionHistory, ActionOperation, ActionWrite}
	f.Fuzz(func(t *testing.T, bits uint64, who, what uint8) {
		r := ResourceAttributes{Patient: "Patient/f", Categories: []string{}, Labels: []string{}, AuthorOrgs: []string{}}
		for i, c := range vocab {
			if bits&(1<<i) != 0 {
				r.Categories = append(r.Categories, c)
			}
		}
		for i, l := range labels {
			if bits&(1<<(20+i)) != 0 {
				r.Labels = append(r.Labels, l)
			}
		}
		for i, o := range orgs {
			if bits&(1<<(30+i)) != 0 {
				r.AuthorOrgs = append(r.AuthorOrgs, o)
			}
		}
		c := Context{Related: bits&(1<<40) != 0, Objected: bits&(1<<41) != 0, Self: bits&(1<<42) != 0,
			KnownToCouncil: bits&(1<<43) != 0, ProviderNamed: bits&(1<<44) != 0}
		s := Subject{Kind: SubjectUser, Org: orgs[int(who)%len(orgs)], Role: roles[int(who>>3)%len(roles)], Purpose: purposes[int(what)%len(purposes)]}
		if s.Purpose == "BTG" || s.Purpose == "ETREAT" {
			s.BreakGlassReason = "fuzz"
		}
		switch what >> 6 {
		case 1:
			s = Subject{Kind: SubjectPerson, Purpose: "PATRQT"}
		case 2:
			s.Kind = SubjectSystem
		}
		in := Input{Action: actions[int(what>>3)%len(actions)], Subject: s, Resource: Resource{Type: "Observation", ID: "o1", ResourceAttributes: r}, Context: c}
		full, err := e.evalDecision(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Decide(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, full) {
			t.Fatalf("%+v: plan %+v, full %+v", in, got, full)
		}
	})
}

// TestPlansUnderConcurrentUse: callers deciding at once on a fresh engine
// build and share plans, outcomes and record checks without disagreeing
// with full evaluation (run with -race to check the sharing itself).
func TestPlansUnderConcurrentUse(t *testing.T) {
	e, err := Load(t.Context(), ".")
	if err != nil {
		t.Fatal(err)
	}
	_, docs := fixtureDocs()
	contexts := make([]Context, len(docs))
	for i := range docs {
		contexts[i] = Context{Related: i%3 != 0, Objected: i%5 == 0, KnownToCouncil: i%2 == 0}
	}
	subjects := []Subject{gpNurse, trustDoctor, councilSW, providerCare}
	want := make([][]Decision, len(subjects))
	for i, s := range subjects {
		if want[i], err = e.evalMany(t.Context(), Input{Action: ActionSearch, Subject: s, Resource: Resource{Type: "CarePlan"}}, docs, contexts); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 16)
	for g := range 16 {
		go func() {
			i := g % len(subjects)
			got, err := e.DecideMany(t.Context(), Input{Action: ActionSearch, Subject: subjects[i], Resource: Resource{Type: "CarePlan"}}, docs, contexts)
			if err == nil && !reflect.DeepEqual(got, want[i]) {
				err = fmt.Errorf("subject %d: decisions differ from full evaluation", i)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

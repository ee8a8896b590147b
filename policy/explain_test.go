package policy

import (
	"slices"
	"strings"
	"testing"
)

func ruleIDsOf(x *Explanation) []string {
	ids := make([]string, len(x.Rules))
	for i, r := range x.Rules {
		ids[i] = r.ID
	}
	return ids
}

// A GP reading the care plan of a person on its list: allowed by the
// relationship rules, each explained in the words of its annotation.
func TestExplainRelationshipRead(t *testing.T) {
	e := testEngine(t)
	in := Input{Action: ActionRead, Subject: gpNurse, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Related: true}}
	x, err := e.Explain(t.Context(), in, AllFacts)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Decision.Allow || x.Revision != e.Revision() {
		t.Fatalf("decision %+v revision %s", x.Decision, x.Revision)
	}
	if got, want := ruleIDsOf(x), []string{"DSA-1-signatory", "NTK-4-need-to-know", "OBJ-5-objection", "PURPOSE-2-direct-care", "REL-3-relationship"}; !slices.Equal(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
	for _, r := range x.Rules {
		if r.Outcome != "allowed" || r.Title == "" || r.Title == r.ID || !strings.Contains(r.File, ".rego") || r.Row == 0 {
			t.Errorf("rule %+v: want allowed, with its annotation's title, file and row", r)
		}
		if r.ID == "REL-3-relationship" && (r.Title != "A care relationship is needed" || !strings.Contains(r.Description, "registered with the GP practice")) {
			t.Errorf("REL-3 explained as %q: %q", r.Title, r.Description)
		}
	}
	f := x.Facts
	if f.Relationship != FactYes || f.Objection != FactNo || f.RoleClass != "clinical" || f.OrgKind != "gp-practice" ||
		f.OrgName != "GP practice G81001" || f.PurposeMeaning != "direct care or a person's access to their own record" ||
		!slices.Contains(f.VisibleCategories, CatCarePlan) || slices.Contains(f.VisibleCategories, "financial") {
		t.Errorf("facts %+v", f)
	}
	if !strings.HasPrefix(x.Summary, "Allowed: ") {
		t.Errorf("summary %q", x.Summary)
	}
}

// The same GP when the person objected: refused by OBJ-5, which the GP
// is told (it passes every other rule), with the plain words of the rule.
func TestExplainObjectionRefusal(t *testing.T) {
	e := testEngine(t)
	in := Input{Action: ActionRead, Subject: gpNurse, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Related: true, Objected: true}}
	x, err := e.Explain(t.Context(), in, AllFacts)
	if err != nil {
		t.Fatal(err)
	}
	if x.Decision.Allow || len(x.Rules) != 1 || x.Rules[0].ID != "OBJ-5-objection" || x.Rules[0].Outcome != "refused" || !x.Rules[0].Disclosed {
		t.Fatalf("explanation %+v", x)
	}
	if x.Facts.Objection != FactYes || !strings.Contains(x.Summary, "The person's objection is respected") {
		t.Errorf("facts %+v summary %q", x.Facts, x.Summary)
	}
	// A trust with no relationship is refused by REL-3 and never told
	// the person objected: the explanation says OBJ-5 is not disclosed.
	in.Subject, in.Context = trustDoctor, Context{Objected: true}
	x, err = e.Explain(t.Context(), in, AllFacts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range x.Rules {
		if r.ID == "OBJ-5-objection" && r.Disclosed {
			t.Errorf("OBJ-5 disclosed to a trust without a relationship: %+v", x.Rules)
		}
		if r.ID == "REL-3-relationship" && !r.Disclosed {
			t.Errorf("REL-3 not disclosed: %+v", x.Rules)
		}
	}
	if !slices.Contains(ruleIDsOf(x), "REL-3-relationship") {
		t.Errorf("rules %v lack REL-3", ruleIDsOf(x))
	}
}

// Emergency access: allowed, with the obligations in plain words.
func TestExplainBreakGlass(t *testing.T) {
	e := testEngine(t)
	in := Input{Action: ActionRead, Subject: Subject{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed"},
		Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Objected: true}}
	x, err := e.Explain(t.Context(), in, Facts{Objected: true})
	if err != nil {
		t.Fatal(err)
	}
	if !x.Decision.Allow || !slices.Contains(ruleIDsOf(x), "PURPOSE-2-break-glass") {
		t.Fatalf("explanation %+v", x)
	}
	var codes []string
	for _, o := range x.Obligations {
		codes = append(codes, o.Code)
		if o.Plain == "" || strings.Contains(o.Plain, "must honour") {
			t.Errorf("obligation %+v has no plain words", o)
		}
	}
	if !slices.Equal(codes, []string{"audit-break-glass", "review-break-glass"}) {
		t.Errorf("obligations %v", codes)
	}
	if !x.Facts.BreakGlassReason || x.Facts.PurposeMeaning != "emergency (break glass) access" || x.Facts.Relationship != FactNotWorkedOut {
		t.Errorf("facts %+v", x.Facts)
	}
}

// Admin staff see a care package's summary only: the redactions are
// named in words, with why.
func TestExplainRedactions(t *testing.T) {
	e := testEngine(t)
	in := Input{Action: ActionRead, Subject: trustAdmin, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", "care-package")}, Context: Context{Related: true}}
	x, err := e.Explain(t.Context(), in, AllFacts)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Decision.Allow || len(x.Redactions) == 0 {
		t.Fatalf("explanation %+v", x)
	}
	for _, r := range x.Redactions {
		if r.Plain == "" || !strings.Contains(r.Why, "summary") {
			t.Errorf("redaction %+v", r)
		}
	}
}

// Every rule id the policy can give has an annotation; a version where
// one is missing is refused at load (and so by gateway policy check).
func TestLoadRefusesUnannotatedRule(t *testing.T) {
	e := testEngine(t)
	seen := map[string]bool{}
	for _, r := range e.Rules() {
		seen[r.ID] = true
	}
	for _, id := range []string{"REL-3-relationship", "DEFAULT-deny", "POLICY-10-manage", "POLICY-11-approve", "QUALITY-9-data-quality", "RIGHTS-10-requests", "WRITE-7-source"} {
		if !seen[id] {
			t.Errorf("%s has no annotation", id)
		}
	}
	for _, tc := range []struct{ note, file, old, new, want string }{
		{"annotation removed", "deny.rego", "# custom:\n#   id: REL-3-relationship\n", "", "REL-3-relationship"},
		{"a new reason unannotated", "quality.rego", `"reasons": ["QUALITY-9-data-quality"],
	"disclosed": [],`, `"reasons": ["QUALITY-9-data-quality", "QUALITY-9-extra"],
	"disclosed": [],`, "QUALITY-9-extra"},
		{"id annotated twice", "deny.rego", "#   id: ACTION-0-unknown\n", "#   id: DSA-1-signatory\n", "annotated already"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := copyPolicy(t)
			editFile(t, dir, tc.file, tc.old, tc.new)
			_, err := Load(t.Context(), dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want a refusal naming %s", err, tc.want)
			}
		})
	}
}

// The agreement is generated from the version's data: taking a category
// from a role class changes it.
func TestAgreementFollowsData(t *testing.T) {
	a, err := testEngine(t).Agreement()
	if err != nil {
		t.Fatal(err)
	}
	med := func(a *Agreement) []string {
		for _, c := range a.Categories {
			if c.Category == "medication" {
				return c.Classes
			}
		}
		return nil
	}
	if !slices.Contains(med(a), "care") || a.Objection.Description == "" || !slices.Contains(a.BreakGlass.Classes, "clinical") {
		t.Fatalf("agreement %+v", a)
	}
	dir := copyPolicy(t)
	editFile(t, dir, "data.json", `"R9620"
        ],
        "break_glass": false,
        "restricted": false,
        "categories": [
          "demographics",
          "contacts",
          "directory",
          "care-plan",
          "care-package",
          "visit",
          "medication",`, `"R9620"
        ],
        "break_glass": false,
        "restricted": false,
        "categories": [
          "demographics",
          "contacts",
          "directory",
          "care-plan",
          "care-package",
          "visit",`)
	e, err := Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = e.Agreement(); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(med(a), "care") {
		t.Errorf("care workers still see medication: %v", med(a))
	}
}

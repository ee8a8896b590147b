package policy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var (
	gpNurse      = Subject{Kind: SubjectUser, ID: "u1", Org: "G81001", Role: "R8001", Purpose: "TREAT"}
	trustAdmin   = Subject{Kind: SubjectUser, ID: "u2", Org: "RJ1", Role: "R8009", Purpose: "TREAT"}
	trustDoctor  = Subject{Kind: SubjectUser, ID: "u3", Org: "RJ1", Role: "R8000", Purpose: "TREAT"}
	councilSW    = Subject{Kind: SubjectUser, ID: "u4", Org: "LA001", Role: "R1330", Purpose: "COC"}
	providerCare = Subject{Kind: SubjectUser, ID: "u5", Org: "CP001", Role: "R1460", Purpose: "TREAT"}
	researcher   = Subject{Kind: SubjectUser, ID: "u6", Org: "X99", Role: "R8000", Purpose: "HRESCH"}
	personP1     = Subject{Kind: SubjectPerson, ID: "p", Purpose: "PATRQT", NHSNumber: "9990000018"}
)

func attrs(patient string, cats ...string) ResourceAttributes {
	return ResourceAttributes{Patient: patient, Categories: cats, Labels: []string{}, AuthorOrgs: []string{"LA001"}}
}

func TestDecide(t *testing.T) {
	e := testEngine(t)
	flag := attrs("Patient/p1", CatAlert, CatSafeguarding)
	tests := []struct {
		note string
		in   Input
		want Decision
	}{
		{
			note: "gp reads related care plan",
			in:   Input{Action: ActionRead, Subject: gpNurse, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Related: true}},
			want: Decision{Allow: true, Reasons: []string{"DSA-1-signatory", "NTK-4-need-to-know", "OBJ-5-objection", "PURPOSE-2-direct-care", "REL-3-relationship"}, Disclosed: []string{}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "doctor sees safeguarding flag redacted",
			in:   Input{Action: ActionRead, Subject: trustDoctor, Resource: Resource{Type: "Flag", ResourceAttributes: flag}, Context: Context{Related: true}},
			want: Decision{Allow: true, Reasons: []string{"DSA-1-signatory", "NTK-4-need-to-know", "OBJ-5-objection", "PURPOSE-2-direct-care", "REL-3-relationship"}, Disclosed: []string{}, Redactions: []string{"/code/text", "/note", "/text"}, Obligations: []string{}},
		},
		{
			note: "break glass flagged",
			in: Input{Action: ActionRead, Subject: Subject{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed"},
				Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Objected: true}},
			want: Decision{Allow: true, Reasons: []string{"DSA-1-signatory", "NTK-4-need-to-know", "PURPOSE-2-break-glass"}, Disclosed: []string{}, Redactions: []string{}, Obligations: []string{"audit-break-glass", "review-break-glass"}},
		},
		{
			note: "research refused",
			in:   Input{Action: ActionRead, Subject: researcher, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Related: true}},
			want: Decision{Allow: false, Reasons: []string{"DSA-1-signatory", "PURPOSE-2-direct-care"}, Disclosed: []string{"DSA-1-signatory", "PURPOSE-2-direct-care"}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "objection refuses nhs",
			in:   Input{Action: ActionRead, Subject: gpNurse, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Related: true, Objected: true}},
			want: Decision{Allow: false, Reasons: []string{"OBJ-5-objection"}, Disclosed: []string{"OBJ-5-objection"}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "objection not disclosed without a relationship",
			in:   Input{Action: ActionRead, Subject: trustDoctor, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Objected: true}},
			want: Decision{Allow: false, Reasons: []string{"REL-3-relationship", "OBJ-5-objection"}, Disclosed: []string{"REL-3-relationship"}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "provider write for named package",
			in:   Input{Action: ActionWrite, Subject: providerCare, Resource: Resource{Type: "Observation", ResourceAttributes: ResourceAttributes{Patient: "Patient/p1", AuthorOrgs: []string{"CP001"}}}, Context: Context{ProviderNamed: true}},
			want: Decision{Allow: true, Reasons: []string{"PURPOSE-2-direct-care", "WRITE-7-labels", "WRITE-7-provider-named", "WRITE-7-provider-own", "WRITE-7-relationship", "WRITE-7-source"}, Disclosed: []string{}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "provider writing an encounter (a relationship) claiming the council",
			in:   Input{Action: ActionWrite, Subject: providerCare, Resource: Resource{Type: "Encounter", ResourceAttributes: attrs("Patient/p1", CatVisit)}, Context: Context{ProviderNamed: true}},
			want: Decision{Allow: false, Reasons: []string{"WRITE-7-relationship", "WRITE-7-source"}, Disclosed: []string{"WRITE-7-relationship", "WRITE-7-source"}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "provider changing the council's record",
			in: Input{Action: ActionWrite, Subject: providerCare, Context: Context{ProviderNamed: true},
				Resource: Resource{Type: "Observation", ResourceAttributes: ResourceAttributes{Patient: "Patient/p1", AuthorOrgs: []string{"CP001"}}},
				Stored:   &Resource{Type: "Observation", ResourceAttributes: attrs("Patient/p1", CatVisit)}},
			want: Decision{Allow: false, Reasons: []string{"WRITE-7-provider-own"}, Disclosed: []string{"WRITE-7-provider-own"}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "provider removing a label from its own record",
			in: Input{Action: ActionWrite, Subject: providerCare, Context: Context{ProviderNamed: true},
				Resource: Resource{Type: "Observation", ResourceAttributes: ResourceAttributes{Patient: "Patient/p1", AuthorOrgs: []string{"CP001"}}},
				Stored:   &Resource{Type: "Observation", ResourceAttributes: ResourceAttributes{Patient: "Patient/p1", AuthorOrgs: []string{"CP001"}, Labels: []string{ConfidentialitySystem + "|R"}}}},
			want: Decision{Allow: false, Reasons: []string{"WRITE-7-labels"}, Disclosed: []string{"WRITE-7-labels"}, Redactions: []string{}, Obligations: []string{}},
		},
		{
			note: "person reads own record",
			in:   Input{Action: ActionRead, Subject: personP1, Resource: Resource{Type: "Flag", ResourceAttributes: flag}, Context: Context{Self: true}},
			want: Decision{Allow: true, Reasons: []string{"SELF-6"}, Disclosed: []string{}, Redactions: []string{}, Obligations: []string{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			got, err := e.Decide(t.Context(), tc.in)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Revision = e.Revision()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decide:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecideManyMatchesDecide(t *testing.T) {
	e := testEngine(t)
	resources := []ResourceAttributes{
		attrs("Patient/p1", CatCarePlan),
		attrs("Patient/p1", CatFinancial),
		attrs("Patient/p2", CatCarePackage),
		attrs("Patient/p2", CatAlert, CatSafeguarding),
		attrs("Patient/p3", CatSafeguarding),
	}
	contexts := []Context{{Related: true}, {Related: true}, {Related: true, Objected: true}, {Related: true}, {}}
	for _, s := range []Subject{gpNurse, trustAdmin, trustDoctor, councilSW, providerCare, researcher} {
		base := Input{Action: ActionSearch, Subject: s, Resource: Resource{Type: "CarePlan"}}
		many, err := e.DecideMany(t.Context(), base, resources, contexts)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resources {
			in := base
			in.Resource.ResourceAttributes = r
			in.Context = contexts[i]
			one, err := e.Decide(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(one, many[i]) {
				t.Errorf("%s/%s resource %d: DecideMany %+v, Decide %+v", s.Org, s.Role, i, many[i], one)
			}
		}
	}
	if _, err := e.DecideMany(t.Context(), Input{}, resources, contexts[:1]); err == nil {
		t.Error("DecideMany accepted mismatched contexts")
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		note string
		edit func(t *testing.T, dir string)
		want string
	}{
		{
			note: "syntax error",
			edit: func(t *testing.T, dir string) {
				editFile(t, dir, "paths.rego", "path(\"self\", r, c) if {", "path(\"self\", r, c) if {{")
			},
			want: "rego_parse_error",
		},
		{
			note: "strict mode: unused variable",
			edit: func(t *testing.T, dir string) {
				editFile(t, dir, "paths.rego", "\tperson\n\tself_purpose\n", "\tperson\n\tunused := 1\n\tself_purpose\n")
			},
			want: "assigned var unused",
		},
		{
			note: "a test fails",
			edit: func(t *testing.T, dir string) {
				editFile(t, dir, "data.json", "\"name\": \"GP practice G81001\",\n        \"kind\": \"gp-practice\"", "\"name\": \"GP practice G81001\",\n        \"kind\": \"other\"")
			},
			want: "test_dsa_nhs_signatory_allowed",
		},
		{
			note: "no tests",
			edit: func(t *testing.T, dir string) {
				tests, _ := filepath.Glob(filepath.Join(dir, "*_test.rego"))
				for _, f := range tests {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: "no tests",
		},
		{
			note: "network builtin",
			edit: func(t *testing.T, dir string) {
				editFile(t, dir, "paths.rego", "\tperson\n\tself_purpose\n", "\tperson\n\thttp.send({\"method\": \"get\", \"url\": \"http://x\"}).status_code == 200\n\tself_purpose\n")
			},
			want: "http.send",
		},
		{
			note: "not formatted",
			edit: func(t *testing.T, dir string) {
				editFile(t, dir, "paths.rego", "\tperson\n\tself_purpose\n", "\tperson\n\n\n\tself_purpose\n")
			},
			want: "not formatted",
		},
		{
			note: "filter cannot be translated",
			edit: func(t *testing.T, dir string) {
				editFile(t, dir, "paths.rego", "\tis_self(r, c)\n", "\tis_self(r, c)\n\tnot startswith(r.id, \"zz\")\n")
			},
			want: "cannot be translated",
		},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			dir := copyPolicy(t)
			tc.edit(t, dir)
			_, err := Load(t.Context(), dir)
			if err == nil {
				t.Fatal("Load accepted the policy")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestLoadRevision(t *testing.T) {
	dir := copyPolicy(t)
	a, err := Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Revision() != testEngine(t).Revision() {
		t.Errorf("same content, different revisions %s, %s", a.Revision(), testEngine(t).Revision())
	}
	editFile(t, dir, "data.json", `"relationship_window_days": 365`, `"relationship_window_days": 180`)
	b, err := Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Revision() == b.Revision() {
		t.Error("data change kept the revision")
	}
}

func TestFilterRefusesPerResourceFacts(t *testing.T) {
	_, err := testEngine(t).Filter(context.Background(), Input{Action: ActionSearch, Subject: gpNurse, Context: Context{Related: true}})
	if !errors.Is(err, ErrUntranslatable) {
		t.Errorf("Filter with per-resource facts: %v, want ErrUntranslatable", err)
	}
}

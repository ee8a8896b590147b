package socialcare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
)

// dsa is the part of the access policy's data the translator must agree
// with.
type dsa struct {
	Organisations map[string]struct {
		Kind string `json:"kind"`
	} `json:"organisations"`
	RoleClasses map[string]struct {
		Categories []string `json:"categories"`
	} `json:"role_classes"`
	Vocabulary []string `json:"vocabulary"`
}

func loadDSA(t *testing.T) dsa {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "policy", "data.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		DSA dsa `json:"dsa"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d.DSA
}

// TestLabelsAgreeWithPolicy: the policy reads the labels the translator
// writes, in the same code system.
func TestLabelsAgreeWithPolicy(t *testing.T) {
	pairs := [][2]string{
		{CSSecurity, policy.SecurityLabelSystem},
		{CSSourceOrganisation, policy.SourceOrgSystem},
		{CSRecordCategory, policy.CategorySystem},
		{LabelSafeguarding, policy.LabelSafeguarding},
		{LabelPersonalFinance, policy.LabelPersonalFinance},
		{LabelProfessionalOpinion, policy.LabelProfessionalOpinion},
		{LabelThirdParty, policy.LabelThirdParty},
		{CategoryCarePlan, policy.CatCarePlan},
		{CategoryCarePackage, policy.CatCarePackage},
		{CategoryVisit, policy.CatVisit},
		{CategoryFinancial, policy.CatFinancial},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("translator writes %q, policy reads %q", p[0], p[1])
		}
	}
}

// noPatient lists the types policy.Attributes finds no patient in:
// directory resources, and Provenance, whose R4 form names the person only
// through its targets (a known gap: the policy then shows a Provenance only
// to the organisation that wrote it and under break glass).
var noPatient = map[string]bool{"Organization": true, "Practitioner": true, "PractitionerRole": true}

// TestPolicyAttributesOfEveryFixture runs the access policy's attribute
// extraction over everything the translator makes from the fixtures: every
// resource has a patient (directory resources aside; Provenance through
// its Patient target), exactly one author
// organisation listed in the data sharing agreement, and categories from
// the vocabulary, never "other", each visible to some role class.
func TestPolicyAttributesOfEveryFixture(t *testing.T) {
	d := loadDSA(t)
	visible := map[string]bool{}
	for _, rc := range d.RoleClasses {
		for _, c := range rc.Categories {
			visible[c] = true
		}
	}
	seen := map[string]map[string]bool{} // resource type -> categories seen
	for _, path := range fixtureFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		for _, r := range translateFile(t, path) {
			a := policy.Attributes(r.Type, jsonObject(t, r))
			where := name + " " + r.Type + "/" + r.ID
			if (a.Patient == "") != noPatient[r.Type] {
				t.Errorf("%s: patient %q", where, a.Patient)
			}
			if len(a.AuthorOrgs) != 1 {
				t.Errorf("%s: author organisations %v, want exactly one", where, a.AuthorOrgs)
			} else if _, ok := d.Organisations[a.AuthorOrgs[0]]; !ok {
				t.Errorf("%s: author organisation %s is not in policy/data.json", where, a.AuthorOrgs[0])
			}
			if len(a.Categories) == 0 {
				t.Errorf("%s: no category", where)
			}
			for _, c := range a.Categories {
				switch {
				case c == policy.CatOther:
					t.Errorf("%s: category other (refused to everyone but social work)", where)
				case !slices.Contains(d.Vocabulary, c):
					t.Errorf("%s: category %q not in the vocabulary", where, c)
				case !visible[c]:
					t.Errorf("%s: category %q visible to no role class", where, c)
				}
			}
			if seen[r.Type] == nil {
				seen[r.Type] = map[string]bool{}
			}
			seen[r.Type][strings.Join(a.Categories, "+")] = true
		}
	}
	// Spot checks of the mapping docs/social-care-mapping.md documents.
	for typ, want := range map[string]string{
		"Basic":          "financial",
		"ServiceRequest": "care-package",
		"CarePlan":       "care-plan",
		"Observation":    "opinion+visit",
		"Encounter":      "care-plan",
		"Flag":           "alert+safeguarding",
	} {
		if !seen[typ][want] {
			t.Errorf("no %s with categories %s; seen %v", typ, want, seen[typ])
		}
	}
}

// TestSafeguardingFlagGeneric: the policy shows safeguarding Flags to
// staff without safeguarding detail with /text, /note and /code/text
// removed, so what remains must say no more than "safeguarding concern".
func TestSafeguardingFlagGeneric(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Decode(data, testNow)
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string
		for _, in := range rec.Incidents {
			secrets = append(secrets, in.Description, in.ActionTaken)
			secrets = append(secrets, in.PeopleInformed...)
		}
		res, err := Translate(rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Type != "Flag" {
				continue
			}
			o := jsonObject(t, r)
			if !slices.Contains(policy.Attributes(r.Type, o).Categories, policy.CatSafeguarding) {
				continue
			}
			for _, p := range []string{"/text", "/note", "/code/text"} {
				fhir.RemovePointer(o, p)
			}
			b, _ := json.Marshal(o)
			for _, s := range secrets {
				if s != "" && strings.Contains(string(b), s) {
					t.Errorf("%s: redacted safeguarding Flag still says %q", filepath.Base(path), s)
				}
			}
			code, _ := o["code"].(map[string]any)
			codings, _ := code["coding"].([]any)
			for _, c := range codings {
				if c.(map[string]any)["code"] != "safeguarding-concern" {
					t.Errorf("%s: safeguarding Flag coding %v is not the generic code", filepath.Base(path), c)
				}
			}
		}
	}
}

// jsonObject is the resource as the store and the policy see it: parsed
// from its JSON.
func jsonObject(t *testing.T, r fhir.Resource) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.Object)
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

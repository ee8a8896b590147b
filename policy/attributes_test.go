package policy

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestAttributes(t *testing.T) {
	tests := []struct {
		note string
		typ  string
		json string
		want ResourceAttributes
	}{
		{
			note: "patient is demographics about itself",
			typ:  "Patient",
			json: `{"resourceType":"Patient","id":"p1"}`,
			want: ResourceAttributes{Patient: "Patient/p1", Categories: []string{"demographics"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
		{
			note: "care plan tagged as care package, with author",
			typ:  "CarePlan",
			json: `{"resourceType":"CarePlan","subject":{"reference":"Patient/p1"},
				"meta":{"tag":[{"system":"https://socialcare-fhir.example.org/CodeSystem/record-category","code":"care-package"},
				               {"system":"https://socialcare-fhir.example.org/CodeSystem/source-organisation","code":"CP001"}]}}`,
			want: ResourceAttributes{Patient: "Patient/p1", Categories: []string{"care-package"}, Labels: []string{}, AuthorOrgs: []string{"CP001"}},
		},
		{
			note: "untagged care plan",
			typ:  "CarePlan",
			json: `{"resourceType":"CarePlan","subject":{"reference":"Patient/p1"}}`,
			want: ResourceAttributes{Patient: "Patient/p1", Categories: []string{"care-plan"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
		{
			note: "safeguarding flag keeps alert and adds safeguarding from its label",
			typ:  "Flag",
			json: `{"resourceType":"Flag","subject":{"reference":"Patient/p2"},
				"meta":{"security":[{"system":"https://socialcare-fhir.example.org/CodeSystem/security-label","code":"safeguarding"},
				                    {"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}}`,
			want: ResourceAttributes{Patient: "Patient/p2", Categories: []string{"alert", "safeguarding"},
				Labels:     []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R", "https://socialcare-fhir.example.org/CodeSystem/security-label|safeguarding"},
				AuthorOrgs: []string{}},
		},
		{
			note: "finance from category element and label, patient element",
			typ:  "Basic",
			json: `{"resourceType":"Basic","subject":{"reference":"Patient/p3"},
				"category":[{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/record-category","code":"financial"}]}],
				"meta":{"security":[{"system":"https://socialcare-fhir.example.org/CodeSystem/security-label","code":"personal-finance"}]}}`,
			want: ResourceAttributes{Patient: "Patient/p3", Categories: []string{"financial"},
				Labels: []string{"https://socialcare-fhir.example.org/CodeSystem/security-label|personal-finance"}, AuthorOrgs: []string{}},
		},
		{
			note: "episode of care uses patient",
			typ:  "EpisodeOfCare",
			json: `{"resourceType":"EpisodeOfCare","patient":{"reference":"Patient/p4"}}`,
			want: ResourceAttributes{Patient: "Patient/p4", Categories: []string{"care-package"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
		{
			note: "untagged observation is other; non-patient subject ignored",
			typ:  "Observation",
			json: `{"resourceType":"Observation","subject":{"reference":"Group/g1"}}`,
			want: ResourceAttributes{Patient: "", Categories: []string{"other"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
		{
			note: "organisation is directory",
			typ:  "Organization",
			json: `{"resourceType":"Organization","id":"o1"}`,
			want: ResourceAttributes{Patient: "", Categories: []string{"directory"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
		{
			note: "malformed meta is ignored, not fatal",
			typ:  "Flag",
			json: `{"resourceType":"Flag","meta":{"tag":"x","security":[1,{"code":5}]},"subject":"Patient/p1"}`,
			want: ResourceAttributes{Patient: "", Categories: []string{"alert"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
		{
			note: "unknown category tag kept so the policy refuses it",
			typ:  "Observation",
			json: `{"resourceType":"Observation","meta":{"tag":[{"system":"https://socialcare-fhir.example.org/CodeSystem/record-category","code":"mystery"}]}}`,
			want: ResourceAttributes{Patient: "", Categories: []string{"mystery"}, Labels: []string{}, AuthorOrgs: []string{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.json), &m); err != nil {
				t.Fatal(err)
			}
			got := Attributes(tc.typ, m)
			if !reflect.DeepEqual(tc.want, got) {
				t.Errorf("Attributes:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzAttributes(f *testing.F) {
	f.Add("Flag", []byte(`{"meta":{"security":[{"system":"s","code":"c"}]},"subject":{"reference":"Patient/1"}}`))
	f.Add("CarePlan", []byte(`{"category":[{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/record-category","code":"x"}]}]}`))
	f.Fuzz(func(t *testing.T, typ string, b []byte) {
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			return
		}
		a := Attributes(typ, m)
		if len(a.Categories) == 0 {
			t.Fatal("no category")
		}
	})
}

package validate

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzResource checks that no body makes Resource panic, and that every
// failure is a *fhir.Error with status 400 or 422.
func FuzzResource(f *testing.F) {
	files, err := filepath.Glob("testdata/valid/*.json")
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, "testdata/patient.json", "testdata/observation.json")
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `{"resourceType": "Patient", "name": [null]}`,
		`{"resourceType": "Patient", "_given": [null, {}], "given": ["a", null]}`,
		`{"resourceType": "Observation", "contained": [{"resourceType": "Medication"}]}`,
		`{"resourceType": "Patient", "$where": 1, "a.b": 2, "extension": [{"extension": [{}]}]}`,
		`{"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": 1}]}`,
		"{\"resourceType\": \"Patient\", \"id\": \"\x00\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Resource(body)
		if err == nil {
			if res == nil || res.Object == nil || res.Type == "" {
				t.Fatalf("nil result without error")
			}
			return
		}
		e := asFHIRError(t, err)
		if e.Status != 400 && e.Status != 422 {
			t.Fatalf("status %d: %v", e.Status, err)
		}
		if len(e.Issues) == 0 {
			t.Fatalf("no issues: %v", err)
		}
	})
}

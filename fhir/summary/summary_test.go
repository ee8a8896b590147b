package summary_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/summary"
	"github.com/socialcare-fhir/gateway/fhir/validate"
)

var now = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// translated is a fixture record's resources as the translator writes
// them: the Patient, and the rest.
func translated(t *testing.T, fixture string) (summary.Resource, []summary.Resource) {
	t.Helper()
	data, err := os.ReadFile("../../fixtures/socialcare/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := socialcare.Decode(data, now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := socialcare.Translate(rec)
	if err != nil {
		t.Fatal(err)
	}
	var patient summary.Resource
	var rest []summary.Resource
	for _, r := range res {
		b, err := fhir.MarshalResource(r.Object)
		if err != nil {
			t.Fatal(err)
		}
		sr := summary.Resource{Type: r.Type, ID: r.ID, JSON: b}
		if r.Type == "Patient" {
			patient = sr
		} else {
			rest = append(rest, sr)
		}
	}
	return patient, rest
}

func build(t *testing.T, in summary.Input) map[string]any {
	t.Helper()
	d, err := summary.Build(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if err := validate.Bundle(m); err != nil {
		t.Fatalf("not a valid R4 Bundle: %v", err)
	}
	return m
}

func sections(m map[string]any) []map[string]any {
	comp := m["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)
	var out []map[string]any
	for _, s := range comp["section"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// Every resource given is an entry, after the Composition; each is
// referenced by a section or is a directory resource a section names.
func TestBuildIncludesEverythingGiven(t *testing.T) {
	patient, rest := translated(t, "03-fall.json")
	var kept []summary.Resource
	for _, r := range rest {
		if r.Type != "Provenance" && r.Type != "Consent" {
			kept = append(kept, r)
		}
	}
	m := build(t, summary.Input{Patient: patient, Resources: kept, Now: now, Base: "https://example.org/fhir"})
	entries := m["entry"].([]any)
	if len(entries) != 2+len(kept) {
		t.Fatalf("%d entries for %d resources, the Patient and the Composition", len(entries), len(kept))
	}
	referenced := map[string]bool{}
	for _, s := range sections(m) {
		es, _ := s["entry"].([]any)
		for _, e := range es {
			referenced[e.(map[string]any)["reference"].(string)] = true
		}
	}
	for _, r := range kept {
		switch r.Type {
		case "Organization", "Practitioner", "PractitionerRole", "Encounter":
			continue // named in narratives; visits only within the window
		}
		if !referenced[r.Type+"/"+r.ID] {
			t.Errorf("%s/%s is in no section", r.Type, r.ID)
		}
	}
}

// With nothing to show, every section is there, empty as "unavailable":
// the same whether nothing is recorded or nothing may be shown.
func TestBuildWithNothingVisible(t *testing.T) {
	patient, _ := translated(t, "01-daily-home-care.json")
	m := build(t, summary.Input{Patient: patient, Now: now})
	secs := sections(m)
	if len(secs) < 16 {
		t.Fatalf("%d sections", len(secs))
	}
	for _, s := range secs {
		er, _ := s["emptyReason"].(map[string]any)
		if er == nil || !strings.Contains(string(must(json.Marshal(er))), `"code":"unavailable"`) || s["entry"] != nil {
			t.Errorf("section %v: want emptyReason unavailable and no entries", s["title"])
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

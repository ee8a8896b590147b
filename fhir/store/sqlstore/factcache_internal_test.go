package sqlstore

import (
	"context"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// An answer about one patient is remembered; one about a page's several
// patients is not (each page asks for another set).
func TestOnlyOnePatientsFactsAreRemembered(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(ctx) })
	for _, js := range []string{
		`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp"}]}`,
		`{"resourceType":"Patient","id":"b","generalPractitioner":[{"reference":"Organization/gp"}]}`,
	} {
		obj, err := fhir.DecodeObject([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, &fhir.Resource{Type: "Patient", ID: obj["id"].(string), Object: obj}, 0); err != nil {
			t.Fatal(err)
		}
	}
	held := func() int {
		s.facts.mu.Lock()
		defer s.facts.mu.Unlock()
		return s.facts.held
	}
	page := facts.Query{Patients: []string{"Patient/a", "Patient/b"}, Orgs: []string{"Organization/gp"}}
	if fs, err := s.Facts(ctx, page); err != nil || len(fs) != 2 {
		t.Fatalf("a page's facts: %v, %v; want two", fs, err)
	}
	if n := held(); n != 0 {
		t.Errorf("%d facts remembered after a page's lookup, want none", n)
	}
	one := facts.Query{Patients: []string{"Patient/a"}, Orgs: []string{"Organization/gp"}}
	if fs, err := s.Facts(ctx, one); err != nil || len(fs) != 1 {
		t.Fatalf("one patient's facts: %v, %v; want one", fs, err)
	}
	if n := held(); n != 1 {
		t.Errorf("%d facts remembered after one patient's lookup, want 1", n)
	}
}

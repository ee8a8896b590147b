package store

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
)

// Patients among some patients is exactly the unrestricted answer limited
// to them, also for a record in two patients' compartments.
func TestPatientsAmong(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, storetest.Server(t, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	team := func(id string, patients ...string) *fhir.Resource {
		var participants []any
		for _, p := range patients {
			participants = append(participants, map[string]any{"member": map[string]any{"reference": p}})
		}
		participants = append(participants, map[string]any{"member": map[string]any{"reference": "Organization/o1"}})
		return &fhir.Resource{Type: "CareTeam", ID: id, Object: map[string]any{
			"resourceType": "CareTeam", "id": id, "status": "active", "participant": participants}}
	}
	for _, r := range []*fhir.Resource{team("t1", "Patient/a", "Patient/b"), team("t2", "Patient/c"), team("t3", "Patient/d")} {
		if _, err := s.Update(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	q, err := search.Parse("CareTeam", url.Values{"participant": {"Organization/o1"}}, search.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.Patients(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Patient/a", "Patient/b", "Patient/c", "Patient/d"}; !slices.Equal(all, want) {
		t.Fatalf("all patients %v, want %v", all, want)
	}
	for _, among := range [][]string{{"Patient/a"}, {"Patient/b"}, {"Patient/b", "Patient/c"}, {"Patient/x"}} {
		got, err := s.Patients(ctx, q, among...)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(slices.Clone(all), func(p string) bool { return !slices.Contains(among, p) })
		if !slices.Equal(got, want) {
			t.Errorf("among %v: %v, want %v", among, got, want)
		}
	}
}

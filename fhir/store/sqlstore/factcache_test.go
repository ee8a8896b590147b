package sqlstore_test

import (
	"context"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
)

// Facts remembered by one store are not served after another store on the
// same file (another process: `gateway import` beside a running gateway)
// changes them.
func TestRememberedFactsFollowAnotherWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, dir, sqlstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	server, importer := open(), open()
	q := facts.Query{Patients: []string{"Patient/a"}, Orgs: []string{"Organization/gp", "Organization/gp2"}}
	gps := func() []string {
		t.Helper()
		fs, err := server.Facts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			out = append(out, f.Org)
		}
		return out
	}
	put := func(js string) {
		t.Helper()
		if _, err := importer.Update(ctx, contract.Resource(t, js), 0); err != nil {
			t.Fatal(err)
		}
	}
	put(`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp"}]}`)
	for range 2 { // the second answer is the remembered one
		if got := gps(); len(got) != 1 || got[0] != "Organization/gp" {
			t.Fatalf("before the move: %v, want [Organization/gp]", got)
		}
	}
	put(`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp2"}]}`)
	if got := gps(); len(got) != 1 || got[0] != "Organization/gp2" {
		t.Fatalf("after the other store moved the registration: %v, want [Organization/gp2]", got)
	}
	if _, err := importer.Delete(ctx, "Patient", "a", 0); err != nil {
		t.Fatal(err)
	}
	if got := gps(); len(got) != 0 {
		t.Fatalf("after the other store deleted the patient: %v, want none", got)
	}
}

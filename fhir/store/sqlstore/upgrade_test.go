package sqlstore_test

import (
	"context"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
)

// A database written before Organizations had ods facts (no code column)
// gains them when it is opened, so callers are still found by ODS code.
func TestOpenDerivesTheFactsAnEarlierVersionLacked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlstore.Open(ctx, dir, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, js := range []string{
		`{"resourceType":"Organization","id":"gp","identifier":[{"system":"` + facts.ODSSystem + `","value":"Y99001"}]}`,
		`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp"}]}`,
	} {
		if _, err := s.Update(ctx, contract.Resource(t, js), 0); err != nil {
			t.Fatal(err)
		}
	}
	// As the earlier version left it.
	if err := s.DB().Exec(ctx, `DROP INDEX facts_code`, `DELETE FROM facts WHERE kind = 'ods'`, `ALTER TABLE facts DROP COLUMN code`, `PRAGMA user_version = 0`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s, err = sqlstore.Open(ctx, dir, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	fs, err := s.Facts(ctx, facts.Query{ODS: "Y99001"})
	if err != nil {
		t.Fatal(err)
	}
	want := []facts.Fact{{Kind: facts.ODS, Org: "Organization/gp", Code: "Y99001"}, {Patient: "Patient/a", Kind: facts.GP, Org: "Organization/gp"}}
	if len(fs) != len(want) {
		t.Fatalf("facts %+v, want %+v", fs, want)
	}
	for _, w := range want {
		found := false
		for _, f := range fs {
			found = found || f == w
		}
		if !found {
			t.Errorf("facts %+v lack %+v", fs, w)
		}
	}
}

package socialcare

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/policy"
)

// Organisations names exactly the organisations the translated resources
// are attributed to (their source-organisation tags), the sender first.
func TestRecordOrganisationsAreTheTranslatedAuthors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Decode(data, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		res, err := Translate(rec)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var tagged []string
		for _, r := range res {
			for _, org := range policy.Attributes(r.Type, r.Object).AuthorOrgs {
				if !slices.Contains(tagged, org) {
					tagged = append(tagged, org)
				}
			}
		}
		got := rec.Organisations()
		if got[0] != rec.Source.Organisation {
			t.Errorf("%s: Organisations %v does not start with the sender %s", filepath.Base(f), got, rec.Source.Organisation)
		}
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(tagged))) {
			t.Errorf("%s: Organisations %v, translated resources attributed to %v", filepath.Base(f), got, tagged)
		}
	}
}

package synth

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/validate"
)

// TestOutputsPassValidator runs every translator golden output and every
// resource translated from the synthetic people (the fixtures, a caseload
// and the benchmark shape) through the write path's validator, R4
// invariants included.
func TestOutputsPassValidator(t *testing.T) {
	t.Run("golden", func(t *testing.T) {
		files, err := filepath.Glob("../testdata/golden/*.json")
		if err != nil || len(files) == 0 {
			t.Fatalf("no golden files (%v)", err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var objs []map[string]any
			if err := json.Unmarshal(data, &objs); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, o := range objs {
				if _, err := validate.Object(o); err != nil {
					t.Errorf("%s: %v/%v: %v", filepath.Base(f), o["resourceType"], o["id"], err)
				}
			}
		}
	})
	t.Run("fixtures", func(t *testing.T) {
		for _, fx := range Fixtures() {
			validateRecord(t, fx.Name, fx.Record, base.AddDate(1, 0, 0))
		}
	})
	t.Run("caseload", func(t *testing.T) {
		for i, rec := range caseload(t, Options{People: 60, Months: 3, Seed: 11, End: caseloadEnd}) {
			validateRecord(t, "caseload person "+string(rune('0'+i%10)), rec, caseloadEnd)
		}
	})
	t.Run("generate", func(t *testing.T) {
		err := Generate(20, 2, 3, caseloadEnd, func(rec *socialcare.Record) error {
			validateRecord(t, "generated person", rec, caseloadEnd)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// validateRecord decodes rec as the gateway's import would, translates it
// and validates every resource.
func validateRecord(t *testing.T, name string, rec *socialcare.Record, now time.Time) {
	t.Helper()
	decoded, err := socialcare.Decode(marshal(t, rec), now)
	if err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	res, err := socialcare.Translate(decoded)
	if err != nil {
		t.Fatalf("%s: Translate: %v", name, err)
	}
	for _, r := range res {
		if _, err := validate.Object(r.Object); err != nil {
			t.Errorf("%s: %s/%s: %v", name, r.Type, r.ID, err)
		}
	}
}

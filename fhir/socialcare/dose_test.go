package socialcare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestDoseQuantity(t *testing.T) {
	for _, tc := range []struct {
		dose, value, unit string
	}{
		{"Two tablets", "2", "tablets"},
		{"One tablet", "1", "tablet"},
		{"Half a tablet", "0.5", "tablet"},
		{"2.5 ml", "2.5", "ml"},
		{"500mg", "500", "mg"},
		{"a sachet", "1", "sachet"},
		{"as directed", "", ""},
		{"2", "", ""},
		{"", "", ""},
		{"-1 ml", "", ""},
	} {
		q := doseQuantity(tc.dose)
		switch {
		case tc.value == "" && q != nil:
			t.Errorf("%q: %v, want no quantity", tc.dose, q)
		case tc.value != "" && (q == nil || q["value"] != json.Number(tc.value) || q["unit"] != tc.unit):
			t.Errorf("%q: %v, want %s %s", tc.dose, q, tc.value, tc.unit)
		}
	}
}

// Every MedicationAdministration the translator writes keeps R4's mad-1:
// a dosage has a dose (or a rate).
func TestGoldenMedicationAdministrationsKeepMad1(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	seen := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var resources []map[string]any
		if err := json.Unmarshal(data, &resources); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range resources {
			if r["resourceType"] != "MedicationAdministration" {
				continue
			}
			seen++
			if d, ok := r["dosage"].(map[string]any); ok && d["dose"] == nil && d["rateQuantity"] == nil && d["rateRatio"] == nil {
				t.Errorf("%s: MedicationAdministration/%v has a dosage with neither dose nor rate (mad-1)", f, r["id"])
			}
		}
	}
	if seen == 0 {
		t.Fatal("no MedicationAdministration in the golden files")
	}
}

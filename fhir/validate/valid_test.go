package validate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

// TestValidResources checks that a minimal valid resource of every served
// type, and the realistic benchmark resources, pass and come back decoded.
func TestValidResources(t *testing.T) {
	files := map[string]string{
		"realistic Patient":     "testdata/patient.json",
		"realistic Observation": "testdata/observation.json",
	}
	for _, rt := range fhir.ResourceTypes {
		files[rt] = filepath.Join("testdata", "valid", rt+".json")
	}
	for note, file := range files {
		t.Run(note, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Resource(body)
			if err != nil {
				t.Fatalf("Resource: %v", err)
			}
			var want map[string]any
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatal(err)
			}
			if res.Type != want["resourceType"] || res.ID != want["id"] {
				t.Errorf("got type %q id %q, want %v %v", res.Type, res.ID, want["resourceType"], want["id"])
			}
			if !jsonEqual(t, res.Object, want) {
				t.Errorf("Object differs from the body")
			}

			// Object gives the same answer for the decoded map.
			res2, err := Object(want)
			if err != nil {
				t.Fatalf("Object: %v", err)
			}
			if !jsonEqual(t, res2.Object, res.Object) {
				t.Errorf("Object() result differs from Resource() result")
			}
			// Check accepts it too: as decoded (numbers as json.Number) and
			// with float64 numbers (through Object).
			if err := Check(res.Object); err != nil {
				t.Errorf("Check(decoded): %v", err)
			}
			if err := Check(want); err != nil {
				t.Errorf("Check(float64 numbers): %v", err)
			}
		})
	}
}

func TestCheckTakesGoValuesThroughObject(t *testing.T) {
	obj := map[string]any{
		"resourceType":         "Patient",
		"name":                 []map[string]any{{"family": "Example", "given": []string{"Sam"}}},
		"multipleBirthInteger": 2,
	}
	if decodedValue(obj) {
		t.Fatal("decodedValue took Go slices and an int for decoded JSON")
	}
	if err := Check(obj); err != nil {
		t.Errorf("Check: %v", err)
	}
	obj["multipleBirthInteger"] = 2.5
	if err := Check(obj); err == nil {
		t.Error("Check accepted 2.5 as an integer")
	}
	for _, v := range []any{[]any(nil), map[string]any(nil), "a\xffb", json.Number("1 "), json.Number("+1"), 1} {
		if decodedValue(v) {
			t.Errorf("decodedValue(%#v) = true", v)
		}
	}
}

func TestValidNumberIsWhatMarshalAccepts(t *testing.T) {
	// (json.Marshal writes an empty json.Number as 0; ValidNumber refuses
	// it, so Check sends it through Object, which does the same.)
	if fhir.ValidNumber("") {
		t.Error(`ValidNumber("") = true`)
	}
	for _, s := range []string{"0", "-0", "1", "10", "-12.5", "1e5", "1E+5", "2.5e-3", "-", "01", "1.", ".5", "1e", "1e+", "+1", " 1", "1 ", "0x1", "NaN", "1.2.3", "--1"} {
		_, err := json.Marshal(json.Number(s))
		if got, want := fhir.ValidNumber(s), err == nil; got != want {
			t.Errorf("ValidNumber(%q) = %v, json.Marshal accepts it: %v", s, got, want)
		}
	}
}

func TestObjectNormalisesGoValues(t *testing.T) {
	obj := map[string]any{
		"resourceType":         "Patient",
		"id":                   "p-2",
		"name":                 []map[string]any{{"family": "Example", "given": []string{"Sam"}}},
		"multipleBirthInteger": 2,
	}
	res, err := Object(obj)
	if err != nil {
		t.Fatalf("Object: %v", err)
	}
	if got := res.Object["multipleBirthInteger"]; got != json.Number("2") {
		t.Errorf("multipleBirthInteger = %#v, want json.Number(\"2\")", got)
	}
	if _, ok := res.Object["name"].([]any); !ok {
		t.Errorf("name is %T, want []any", res.Object["name"])
	}

	_, err = Object(map[string]any{"resourceType": "Patient", "bad": func() {}})
	if e := asFHIRError(t, err); e.Status != 422 {
		t.Errorf("status = %d, want 422", e.Status)
	}
	_, err = Object(nil)
	if e := asFHIRError(t, err); e.Status != 422 || e.Issues[0].Expression[0] != "resourceType" {
		t.Errorf("Object(nil) = %v, want 422 at resourceType", err)
	}
}

// jsonEqual compares two decoded JSON values after a round trip, so that
// json.Number and float64 compare by value.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	norm := func(v any) any {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

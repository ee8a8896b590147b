package socialcare

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const fixtureDir = "../../fixtures/socialcare"

// testNow is after every time in the fixtures.
var testNow = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func fixtureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) < 12 {
		t.Fatalf("want at least 12 fixtures in %s, found %d (%v)", fixtureDir, len(files), err)
	}
	return files
}

func translateFile(t testing.TB, path string) []fhir.Resource {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Decode(data, testNow)
	if err != nil {
		t.Fatalf("%s: Decode: %v", path, err)
	}
	res, err := Translate(rec)
	if err != nil {
		t.Fatalf("%s: Translate: %v", path, err)
	}
	return res
}

// asJSON round-trips resources through JSON so that they compare with a
// parsed golden file.
func asJSON(t testing.TB, res []fhir.Resource) (any, []byte) {
	t.Helper()
	objs := make([]map[string]any, len(res))
	for i, r := range res {
		objs[i] = r.Object
	}
	data, err := json.MarshalIndent(objs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var parsed any
	if err := json.Unmarshal(data, &parsed); err != nil {
		t.Fatal(err)
	}
	return parsed, append(data, '\n')
}

func TestGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			got, data := asJSON(t, translateFile(t, path))
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantData, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			var want any
			if err := json.Unmarshal(wantData, &want); err != nil {
				t.Fatalf("golden file: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				gl, _ := got.([]any)
				wl, _ := want.([]any)
				for i := 0; i < len(gl) && i < len(wl); i++ {
					if !reflect.DeepEqual(gl[i], wl[i]) {
						g, _ := json.MarshalIndent(gl[i], "", " ")
						w, _ := json.MarshalIndent(wl[i], "", " ")
						t.Fatalf("resource %d differs from %s\n got: %s\nwant: %s", i, golden, g, w)
					}
				}
				t.Fatalf("got %d resources, golden %s has %d", len(gl), golden, len(wl))
			}
		})
	}
}

func TestProducedResourcesConformToR4(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, p := range checkResources(translateFile(t, path)) {
				t.Error(p)
			}
		})
	}
}

func TestCheckResourcesCatchesProblems(t *testing.T) {
	// The checker itself must fail on bad resources, or the test above
	// proves nothing.
	res := translateFile(t, filepath.Join(fixtureDir, "03-fall.json"))
	for _, tc := range []struct {
		note   string
		break_ func(o map[string]any)
		typ    string
	}{
		{"unknown element", func(o map[string]any) { o["colour"] = "red" }, "Encounter"},
		{"bad code", func(o map[string]any) { o["status"] = "done" }, "Encounter"},
		{"missing required", func(o map[string]any) { delete(o, "class") }, "Encounter"},
		{"dangling reference", func(o map[string]any) { o["subject"] = map[string]any{"reference": "Patient/nope"} }, "Observation"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			copied := make([]fhir.Resource, len(res))
			broke := false
			for i, r := range res {
				o := make(map[string]any, len(r.Object))
				for k, v := range r.Object {
					o[k] = v
				}
				if r.Type == tc.typ && !broke {
					tc.break_(o)
					broke = true
				}
				copied[i] = fhir.Resource{Type: r.Type, ID: r.ID, Object: o}
			}
			if len(checkResources(copied)) == 0 {
				t.Error("checkResources found no problem")
			}
		})
	}
}

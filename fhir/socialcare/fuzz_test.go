package socialcare

import (
	"errors"
	"os"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

// FuzzDecodeTranslate: arbitrary input never panics, and always ends either
// in resources that pass the R4 checks or in a 400/422 *fhir.Error.
//
// The fixtures are large seeds; minimising an interesting input derived from
// one takes long, so run with a short minimisation budget:
//
//	go test -run XXX -fuzz FuzzDecodeTranslate -fuzztime 20s -fuzzminimizetime 2s ./fhir/socialcare
func FuzzDecodeTranslate(f *testing.F) {
	for _, path := range fixtureFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "{}", "null", "[]", `{"schemaVersion":"1.0","person":{"contacts":[{"roles":[1]}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Decode(data, testNow)
		if err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) || (fe.Status != 400 && fe.Status != 422) || len(fe.Issues) == 0 {
				t.Fatalf("error %v is not a 400/422 *fhir.Error with issues", err)
			}
			if rec != nil {
				t.Fatal("record returned with an error")
			}
			return
		}
		res, err := Translate(rec)
		if err != nil {
			t.Fatalf("Translate of a valid record: %v", err)
		}
		if len(res) == 0 {
			t.Fatal("a valid record produced no resources")
		}
		for _, p := range checkResources(res) {
			t.Error(p)
		}
	})
}

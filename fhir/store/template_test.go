package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// A template filled in is byte for byte what Stamp gives, and leaves the
// resource as it was.
func TestTemplateFillIsStamp(t *testing.T) {
	lu := time.Date(2026, 3, 4, 5, 6, 7, 891e6, time.UTC)
	for _, js := range []string{
		`{"resourceType":"Patient","active":true}`,
		`{"resourceType":"Patient","meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z","tag":[{"code":"x"}]},"name":[{"family":"Ng"}]}`,
		`{"resourceType":"Observation","meta":{"profile":["p"]},"status":"final","note":[{"text":"versionId lastUpdated \u0001"}]}`,
	} {
		for _, vid := range []int64{1, 12, 1234567} {
			a, err := fhir.DecodeObject([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := fhir.DecodeObject([]byte(js))
			tmpl, err := NewTemplate(a, "r1")
			if err != nil {
				t.Fatal(err)
			}
			after, _ := fhir.MarshalResource(a)
			got, err := tmpl.Fill(vid, lu)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Stamp(b, "r1", vid, lu)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Fill(%d) = %s\nStamp   = %s", vid, got, want)
			}
			b2, _ := fhir.DecodeObject([]byte(js))
			b2["id"] = "r1"
			if before, _ := fhir.MarshalResource(b2); !bytes.Equal(after, before) {
				t.Errorf("NewTemplate changed the resource: %s, was %s", after, before)
			}
		}
	}
}

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

// HashAndTemplate gives what ContentHash and NewTemplate give, and leaves
// the resource as they leave it.
func TestHashAndTemplateIsHashAndNewTemplate(t *testing.T) {
	lu := time.Date(2026, 3, 4, 5, 6, 7, 891e6, time.UTC)
	for _, js := range []string{
		`{"resourceType":"Patient","active":true}`,
		`{"resourceType":"Patient","id":"old","meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z","tag":[{"code":"x"}]},"name":[{"family":"Ng"}]}`,
		`{"resourceType":"Patient","meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z"},"gender":"female"}`,
		`{"resourceType":"Patient","meta":{},"gender":"female"}`,
		`{"resourceType":"Patient","meta":null,"gender":"female"}`,
		`{"resourceType":"Patient","meta":"odd","gender":"female"}`,
		`{"active":false,"id":"x","resourceType":"Patient","zeta":1.50,"birthDate":"1950-01-01"}`,
		`{"resourceType":"Observation","meta":{"profile":["p"],"source":"#a"},"status":"final","note":[{"text":"versionId lastUpdated \u0001 \u2028 <>&"}],"valueQuantity":{"value":12.0e1,"unit":"mg"}}`,
		`{"id":"only"}`,
	} {
		a, err := fhir.DecodeObject([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := fhir.DecodeObject([]byte(js))
		hash, tmpl, err := HashAndTemplate(a, "r1")
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		b["id"] = "r1"
		wantHash, err := ContentHash(b)
		if err != nil {
			t.Fatal(err)
		}
		if hash != wantHash {
			t.Errorf("%s: hash %s, ContentHash %s", js, hash, wantHash)
		}
		wantTmpl, err := NewTemplate(b, "r1")
		if err != nil {
			t.Fatal(err)
		}
		if after, before := mustMarshal(t, a), mustMarshal(t, b); !bytes.Equal(after, before) {
			t.Errorf("HashAndTemplate left the resource as %s, NewTemplate as %s", after, before)
		}
		for _, vid := range []int64{1, 1234567} {
			got, err := tmpl.Fill(vid, lu)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := wantTmpl.Fill(vid, lu)
			if !bytes.Equal(got, want) {
				t.Errorf("Fill(%d) = %s\nwant      %s", vid, got, want)
			}
		}
	}
}

func mustMarshal(t *testing.T, obj map[string]any) []byte {
	t.Helper()
	b, err := fhir.MarshalResource(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

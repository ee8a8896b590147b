package socialcare

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

// baseRecord returns fixture 01 as a generic JSON object to break.
func baseRecord(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "01-daily-home-care.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at walks a generic JSON value by keys and indexes.
func at(v any, path ...any) map[string]any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

func TestDecodeBadInput(t *testing.T) {
	for _, tc := range []struct {
		note  string
		mod   func(m map[string]any)
		paths []string // every one must be reported
	}{
		{"NHS number fails its check digit", func(m map[string]any) { at(m, "person")["nhsNumber"] = "9990000019" }, []string{"person.nhsNumber"}},
		{"NHS number too short", func(m map[string]any) { at(m, "person")["nhsNumber"] = "999000001" }, []string{"person.nhsNumber"}},
		{"visit ends before it starts", func(m map[string]any) { at(m, "visits", 2)["actualEnd"] = "2025-03-05T07:00:00Z" }, []string{"visits[2].actualEnd"}},
		{"medication time in the future", func(m map[string]any) { at(m, "medications", 1)["time"] = "2030-01-01T08:00:00Z" }, []string{"medications[1].time"}},
		{"negative amount", func(m map[string]any) {
			m["transactions"] = []any{map[string]any{"id": "T1", "author": at(m, "person")["author"], "recorded": "2025-03-01T10:00:00Z",
				"date": "2025-03-01", "amount": json.Number("-5.00"), "direction": "paid-out", "purpose": "Shopping"}}
		}, []string{"transactions[0].amount"}},
		{"unknown service type", func(m map[string]any) { at(m, "carePackage", 0)["serviceType"] = "Long term support: Moon base" }, []string{"carePackage[0].serviceType"}},
		{"unknown field", func(m map[string]any) { at(m, "visits", 0)["mood"] = "happy" }, []string{"visits[0].mood"}},
		{"field name in the wrong case", func(m map[string]any) { at(m, "person")["NHSNumber"] = "9990000018" }, []string{"person.NHSNumber"}},
		{"unknown top-level field", func(m map[string]any) { m["extra"] = true }, []string{"extra"}},
		{"wrong type", func(m map[string]any) { at(m, "person")["birthDate"] = json.Number("1930") }, []string{"person.birthDate"}},
		{"missing author", func(m map[string]any) { delete(at(m, "visits", 1), "author") }, []string{"visits[1].author"}},
		{"signed without time", func(m map[string]any) { delete(at(m, "visits", 1), "signedAt") }, []string{"visits[1].signedAt"}},
		{"refused dose without reason", func(m map[string]any) { at(m, "medications", 0)["outcome"] = "refused" }, []string{"medications[0].reason"}},
		{"dangling visit id", func(m map[string]any) { at(m, "medications", 0)["visitId"] = "nope" }, []string{"medications[0].visitId"}},
		{"duplicate ids", func(m map[string]any) { at(m, "visits", 1)["id"] = at(m, "visits", 0)["id"] }, []string{"visits[1].id"}},
		{"wrong schema version", func(m map[string]any) { m["schemaVersion"] = "0.9" }, []string{"schemaVersion"}},
		{"bad postcode", func(m map[string]any) { at(m, "person", "address")["postcode"] = "NOT A CODE" }, []string{"person.address.postcode"}},
		{"unknown note kind", func(m map[string]any) { at(m, "visits", 0, "notes", 0)["kind"] = "rumour" }, []string{"visits[0].notes[0].kind"}},
		{"every problem at once", func(m map[string]any) {
			at(m, "person")["nhsNumber"] = "9990000019"
			at(m, "visits", 2)["actualEnd"] = "2025-03-05T07:00:00Z"
			at(m, "medications", 1)["time"] = "2030-01-01T08:00:00Z"
			at(m, "carePackage", 0)["serviceType"] = "Nonsense"
			at(m, "visits", 0)["mood"] = "happy"
		}, []string{"person.nhsNumber", "visits[2].actualEnd", "medications[1].time", "carePackage[0].serviceType", "visits[0].mood"}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			m := baseRecord(t)
			tc.mod(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := Decode(data, testNow)
			if rec != nil {
				t.Error("a rejected record must not be returned")
			}
			var fe *fhir.Error
			if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
				t.Fatalf("err = %v; want a 422 *fhir.Error", err)
			}
			var got []string
			for _, is := range fe.Issues {
				got = append(got, is.Expression...)
				if is.Diagnostics == "" || is.Severity != "error" || is.Code == "" {
					t.Errorf("issue %+v lacks severity, code or message", is)
				}
				for _, secret := range []string{"9990000019", "Testperson", "Sampleton", "Arthur"} {
					if strings.Contains(is.Diagnostics, secret) {
						t.Errorf("message %q repeats personal data", is.Diagnostics)
					}
				}
			}
			for _, p := range tc.paths {
				if !slices.Contains(got, p) {
					t.Errorf("no issue at %s; issues: %v", p, fe.Issues)
				}
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{"", "{", `{"schemaVersion": }`, "[1,2]x", `{"a":1} {"b":2}`, "null x"} {
		_, err := Decode([]byte(body), testNow)
		var fe *fhir.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest {
			t.Errorf("Decode(%q) err = %v; want a 400 *fhir.Error", body, err)
		}
	}
}

func TestDecodeNotAnObject(t *testing.T) {
	for _, body := range []string{"[]", "42", `"text"`, "null"} {
		_, err := Decode([]byte(body), testNow)
		var fe *fhir.Error
		if !errors.As(err, &fe) || fe.Status/100 != 4 {
			t.Errorf("Decode(%q) err = %v; want a 4xx *fhir.Error", body, err)
		}
	}
}

func TestValidNHSNumber(t *testing.T) {
	for _, tc := range []struct {
		n  string
		ok bool
	}{
		{"9990000018", true}, {"9990000026", true}, {"9990000019", false},
		{"9912003814", false}, {"4123456879", false}, // UK Core examples that fail the check
		{"999000001", false}, {"99900000180", false}, {"999000001X", false}, {"999 000 0018", false},
	} {
		if got := fhir.ValidNHSNumber(tc.n); got != tc.ok {
			t.Errorf("fhir.ValidNHSNumber(%q) = %v; want %v", tc.n, got, tc.ok)
		}
	}
}

func TestTranslateIsDeterministicAndStable(t *testing.T) {
	path := filepath.Join(fixtureDir, "01-daily-home-care.json")
	first, _ := asJSON(t, translateFile(t, path))
	again, _ := asJSON(t, translateFile(t, path))
	if !jsonEqual(first, again) {
		t.Fatal("translating the same record twice gave different output")
	}
	// Change one visit note and re-send with a new sentAt: only that
	// visit's note and Provenance... change; every other resource is
	// byte-identical, and every id is kept.
	m := baseRecord(t)
	at(m, "source")["sentAt"] = "2025-12-01T00:00:00Z"
	at(m, "visits", 1, "notes", 0)["text"] = "Corrected note."
	data, _ := json.Marshal(m)
	rec, err := Decode(data, testNow)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(rec)
	if err != nil {
		t.Fatal(err)
	}
	changed, _ := asJSON(t, res)
	a, b := first.([]any), changed.([]any)
	if len(a) != len(b) {
		t.Fatalf("resource count changed from %d to %d", len(a), len(b))
	}
	diff := 0
	for i := range a {
		if a[i].(map[string]any)["id"] != b[i].(map[string]any)["id"] {
			t.Fatalf("resource %d changed id", i)
		}
		if !jsonEqual(a[i], b[i]) {
			diff++
			if b[i].(map[string]any)["valueString"] != "Corrected note." {
				t.Errorf("unexpected change in %v", b[i].(map[string]any)["resourceType"])
			}
		}
	}
	if diff != 1 {
		t.Errorf("%d resources changed; want exactly the edited note", diff)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

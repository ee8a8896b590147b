package fhir

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// sameAsMarshal fails t unless AppendJSON gives json.Marshal's bytes (or
// both fail) for v.
func sameAsMarshal(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := AppendJSON([]byte("prefix"), v)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: json.Marshal error %v, AppendJSON error %v", v, werr, gerr)
	}
	if werr != nil {
		return
	}
	if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("%#v:\n AppendJSON %s\n json.Marshal %s", v, got, want)
	}
}

func TestAppendJSONGivesMarshalsBytesForEveryByteAndEdgeRune(t *testing.T) {
	for b := 0; b < 256; b++ {
		sameAsMarshal(t, string([]byte{'a', byte(b), 'z'}))
		sameAsMarshal(t, map[string]any{string([]byte{byte(b)}): string([]byte{byte(b)})})
	}
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "<script>&</script>", "line\u2028sep\u2029para",
		"\xff\xfe broken", "trail \xe2\x82", "é ü ß 中文 🙂", "\x7f del", "tab\tnew\nline\rcr\bbs\fff",
		string(utf8.RuneError), "\ufffd", "\u0000nul",
	} {
		sameAsMarshal(t, s)
		sameAsMarshal(t, map[string]any{s: []any{s, nil, true}})
	}
	for _, v := range []any{
		nil, true, false, 0, -12, int64(1) << 60, 1.5, 1e-7, 1e21, 123456789.0, float32(0.1),
		json.Number("12.50"), json.Number("-0"), json.Number(""), json.Number("1e400"), json.Number("0x1"), json.Number("01"), json.Number("-"), json.Number("1."), json.Number(".5"), json.Number("1e"), json.Number("1e+"), json.Number("-01"), json.Number("+1"), json.Number(" 1"), json.Number("1E-07"), json.Number("-0.0e+0"),
		map[string]any(nil), map[string]any{}, []any(nil), []any{}, []string{"a"}, map[string]string{"b": "<"},
		map[string]any{"z": 1, "a": map[string]any{"y": []any{map[string]any{}, []any{}}, "b": nil}},
		struct{ A string }{"x"},
	} {
		sameAsMarshal(t, v)
	}
}

// TestAppendJSONGivesMarshalsBytesForRandomValues compares the encoders on
// random nested values of the shapes decoded resources have.
func TestAppendJSONGivesMarshalsBytesForRandomValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Z", "<", ">", "&", `"`, `\`, "\n", "\x01", "é", "\u2028", "\xc3", "🙂", " ", "0", "resourceType", "meta"}
	str := func() string {
		var b strings.Builder
		for n := r.IntN(6); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	var value func(depth int) any
	value = func(depth int) any {
		k := r.IntN(8)
		if depth > 4 {
			k = r.IntN(5)
		}
		switch k {
		case 0:
			return nil
		case 1:
			return r.IntN(2) == 0
		case 2:
			return json.Number([]string{"0", "-1", "3.25", "1e5", "12"}[r.IntN(5)])
		case 3, 4:
			return str()
		case 5, 6:
			m := map[string]any{}
			for n := r.IntN(5); n > 0; n-- {
				m[str()] = value(depth + 1)
			}
			return m
		default:
			var a []any
			for n := r.IntN(4); n > 0; n-- {
				a = append(a, value(depth+1))
			}
			return a
		}
	}
	for range 5000 {
		sameAsMarshal(t, value(0))
	}
}

// TestMarshalResourceOfFixturesIsUnchanged checks that every fixture
// resource encodes to the bytes the reflection encoder gave before
// AppendJSON: stored JSON and content hashes do not change.
func TestMarshalResourceOfFixturesIsUnchanged(t *testing.T) {
	files, err := filepath.Glob("../fixtures/*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := DecodeObject(b)
		if err != nil {
			continue // not one object (NDJSON, bundles of lines)
		}
		sameAsMarshal(t, obj)
		checked++
	}
	if checked == 0 {
		t.Fatalf("no fixture resources found under ../fixtures")
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte(`{"a":["<\u2028>",1.5,null,{"b":true}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := DecodeObject(b)
		if err != nil {
			sameAsMarshal(t, string(b))
			return
		}
		sameAsMarshal(t, obj)
	})
}

func BenchmarkMarshalResource(b *testing.B) {
	obj := map[string]any{"resourceType": "Encounter", "id": "x", "status": "finished",
		"subject": map[string]any{"reference": "Patient/123", "display": "A & B <c>"},
		"type":    []any{map[string]any{"coding": []any{map[string]any{"system": "http://snomed.info/sct", "code": "308335008", "display": "Patient encounter procedure"}}}},
		"period":  map[string]any{"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T10:30:00Z"}, "length": json.Number("30")}
	b.Run("AppendJSON", func(b *testing.B) {
		for b.Loop() {
			if _, err := MarshalResource(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
}

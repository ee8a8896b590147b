package socialcare

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// benchRecord is a person with a month of daily visits, medication
// prompts and notes.
func benchRecord(b *testing.B) []byte {
	b.Helper()
	m := map[string]any{}
	data := mustRead(b, fixtureDir+"/01-daily-home-care.json")
	if err := json.Unmarshal(data, &m); err != nil {
		b.Fatal(err)
	}
	visits := m["visits"].([]any)
	meds := m["medications"].([]any)
	v0, m0 := visits[0].(map[string]any), meds[0].(map[string]any)
	var vs, ms []any
	start := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	for d := 0; d < 30; d++ {
		t0 := start.AddDate(0, 0, d)
		v := clone(v0)
		id := "V-" + t0.Format(time.DateOnly)
		v["id"] = id
		v["plannedStart"], v["plannedEnd"] = t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
		v["actualStart"], v["actualEnd"] = t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
		v["recorded"], v["signedAt"] = t0.Add(time.Hour).Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
		vs = append(vs, v)
		md := clone(m0)
		md["id"], md["visitId"], md["time"] = "M-"+id, id, t0.Add(10*time.Minute).Format(time.RFC3339)
		md["recorded"], md["signedAt"] = t0.Add(time.Hour).Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339)
		ms = append(ms, md)
	}
	m["visits"], m["medications"] = vs, ms
	out, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func clone(m map[string]any) map[string]any {
	data, _ := json.Marshal(m)
	var c map[string]any
	_ = json.Unmarshal(data, &c)
	return c
}

func mustRead(b *testing.B, path string) []byte {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkTranslate(b *testing.B) {
	data := benchRecord(b)
	rec, err := Decode(data, testNow)
	if err != nil {
		b.Fatal(err)
	}
	res, _ := Translate(rec)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Translate(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N*len(res))/b.Elapsed().Seconds(), "resources/s")
}

func BenchmarkDecode(b *testing.B) {
	data := benchRecord(b)
	rec, err := Decode(data, testNow)
	if err != nil {
		b.Fatal(err)
	}
	res, _ := Translate(rec)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := Decode(data, testNow); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.N*len(res))/b.Elapsed().Seconds(), "resources/s")
}

// BenchmarkDecodeTranslate is the whole ingest path without storage.
func BenchmarkDecodeTranslate(b *testing.B) {
	data := benchRecord(b)
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		rec, err := Decode(data, testNow)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Translate(rec)
		if err != nil {
			b.Fatal(err)
		}
		n += len(res)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "resources/s")
}

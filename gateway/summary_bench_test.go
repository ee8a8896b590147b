package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

// benchNow is the clock of the summary benchmark: the end of the year of
// visits it stores.
var benchNow = time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC)

// yearOfVisits is fixture 01's person with a visit every day of 2025, each
// with a factual note and every third with an opinion, and a medication
// prompt at every visit (every twentieth refused).
func yearOfVisits(b *testing.B) []byte {
	data, err := os.ReadFile(filepath.Join(socialCareFixtures, "01-daily-home-care.json"))
	if err != nil {
		b.Fatal(err)
	}
	var rec socialcare.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		b.Fatal(err)
	}
	visit, med := rec.Visits[0], rec.Medications[0]
	rec.Visits, rec.Medications = nil, nil
	rec.CarePackage[0].Start = "2024-12-01"
	stamp := func(d time.Time, h, m int) string {
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, time.UTC).Format(time.RFC3339)
	}
	for d := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2025; d = d.AddDate(0, 0, 1) {
		v := visit
		v.ID = "V-YEAR-" + d.Format(time.DateOnly)
		v.Recorded, v.SignedAt = stamp(d, 9, 2), stamp(d, 9, 4)
		v.PlannedStart, v.ActualStart = stamp(d, 8, 0), stamp(d, 8, 0)
		v.PlannedEnd, v.ActualEnd = stamp(d, 9, 0), stamp(d, 9, 0)
		v.Notes = []socialcare.Note{{Kind: "fact", Text: "Helped with a wash and dressing on " + d.Format("2 Jan") + "."}}
		if d.YearDay()%3 == 0 {
			v.Notes = append(v.Notes, socialcare.Note{Kind: "opinion", Text: "Seemed tired today."})
		}
		rec.Visits = append(rec.Visits, v)
		m := med
		m.ID, m.VisitID = "M-"+v.ID, v.ID
		m.Recorded, m.SignedAt, m.Time = stamp(d, 9, 1), stamp(d, 9, 3), stamp(d, 8, 20)
		if d.YearDay()%20 == 0 {
			m.Outcome, m.Reason = "refused", "Did not want the tablet."
		}
		rec.Medications = append(rec.Medications, m)
	}
	out, err := json.Marshal(rec)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkSummary is a GP's $summary, under the baseline policy on the
// embedded engine, of a person with a year of daily visits (365
// Encounters, 487 notes, 365 medication entries), the default 14-day
// window. It reports p50 and p99.
//
//	go test -run '^$' -bench Summary -benchtime 200x ./gateway
func BenchmarkSummary(b *testing.B) {
	ctx := context.Background()
	eng, err := storage.Open(ctx, storage.Config{Kind: os.Getenv("GATEWAY_BENCH_STORE"), DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Close(ctx) })
	res, err := eng.Ingest.Record(ctx, yearOfVisits(b))
	if err != nil {
		b.Fatal(err)
	}
	h := gateway.New(gateway.Config{Auth: devVerifier(b), Policy: loadPolicy(b, "../policy"), Audit: eng.Audit, AuditReader: eng.Audit,
		Clock: func() time.Time { return benchNow }}, eng.Resources, slog.New(slog.DiscardHandler))
	cb := &callersBench{h: h}
	gp := gpToken(b, "R0260", "TREAT")
	path := "/" + res.Patient + "/$summary"
	code, body := cb.get(gp, path)
	if code != http.StatusOK || strings.Count(string(body), `"resourceType":"Encounter"`) != 14 {
		b.Fatalf("%s: %d, %d visits: %.300s", path, code, strings.Count(string(body), `"resourceType":"Encounter"`), body)
	}
	b.ReportAllocs()
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		if code, body := cb.get(gp, path); code != http.StatusOK {
			b.Fatalf("%d %s", code, body)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(body))/1024, "KiB")
}

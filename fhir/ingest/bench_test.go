package ingest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/socialcare/synth"
)

// synthRecords returns n synthetic people, each with a month of daily
// visits and medication prompts, as JSON records.
func synthRecords(b *testing.B, n int) [][]byte {
	b.Helper()
	out := make([][]byte, 0, n)
	end := time.Now().AddDate(0, 0, -1)
	err := synth.Generate(n, 1, 42, end, func(r *socialcare.Record) error {
		data, err := json.Marshal(r)
		out = append(out, data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// BenchmarkRecord is the end-to-end ingest of a new person with a month of
// visits (decode, translate, journal, store every resource) into the
// embedded database, with each journal backend; "unchanged" re-sends a
// stored person.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			b.Run("new", func(b *testing.B) {
				i := newIngester(b, backend)
				records := synthRecords(b, b.N)
				resources := 0
				b.ReportAllocs()
				b.ResetTimer()
				for n := 0; n < b.N; n++ {
					res, err := i.Record(ctx, records[n])
					if err != nil {
						b.Fatal(err)
					}
					resources += len(res.Resources)
				}
				report(b, resources)
			})
			b.Run("unchanged", func(b *testing.B) {
				i := newIngester(b, backend)
				data := synthRecords(b, 1)[0]
				if _, err := i.Record(ctx, data); err != nil {
					b.Fatal(err)
				}
				resources := 0
				b.ReportAllocs()
				b.ResetTimer()
				for n := 0; n < b.N; n++ {
					res, err := i.Record(ctx, data)
					if err != nil {
						b.Fatal(err)
					}
					if res.Outcome != Unchanged {
						b.Fatalf("re-send: %s", res.Outcome)
					}
					resources += len(res.Resources)
				}
				report(b, resources)
			})
		})
	}
}

func report(b *testing.B, resources int) {
	s := b.Elapsed().Seconds()
	if s == 0 {
		return
	}
	b.ReportMetric(float64(b.N)/s, "records/s")
	b.ReportMetric(float64(resources)/s, "resources/s")
	b.ReportMetric(float64(resources)/float64(b.N), "resources/record")
}

package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/socialcare/synth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

// The gateway as its callers use it, in-process, on the embedded engine,
// under the baseline policy: a GP practice and an NHS trust with care
// relationships, and a council social worker. The data set is
// GATEWAY_BENCH_DATA (a data directory made with gateway synth and
// gateway import; see scripts/bench/callers.sh) or, without it, about
// 10,000 resources made here. Each sub-benchmark reports p50 and p99.
// GATEWAY_BENCH_STORE=mongodb runs it on the MongoDB engine over the
// embedded FerretDB server instead (for reference only: FerretDB scans).
//
//	go test -run '^$' -bench Callers -benchtime 200x ./gateway
var (
	callersOnce sync.Once
	callersEnv  *callersBench
)

type callersBench struct {
	h        http.Handler
	tokens   map[string]string
	patients map[string][]string
}

func getCallers(b *testing.B) *callersBench {
	callersOnce.Do(func() {
		ctx := context.Background()
		dir := os.Getenv("GATEWAY_BENCH_DATA")
		made := dir == ""
		if made {
			var err error
			if dir, err = os.MkdirTemp("", "gateway-callers-"); err != nil {
				b.Fatal(err)
			}
		}
		eng, err := storage.Open(ctx, storage.Config{Kind: os.Getenv("GATEWAY_BENCH_STORE"), DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if made {
			opt := synth.Options{Months: 3, Seed: 1}
			if opt.People, err = synth.PeopleFor(10000, opt); err != nil {
				b.Fatal(err)
			}
			err := synth.Caseload(opt, func(r *socialcare.Record) error {
				data, err := json.Marshal(r)
				if err != nil {
					return err
				}
				_, err = eng.Ingest.Record(ctx, data)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		cb := &callersBench{tokens: map[string]string{}, patients: map[string][]string{}}
		cb.h = gateway.New(gateway.Config{Auth: devVerifier(b), Policy: loadPolicy(b, "../policy"), Audit: eng.Audit, AuditReader: eng.Audit},
			eng.Resources, slog.New(slog.DiscardHandler))
		for name, dc := range map[string]auth.DevClaims{
			"gp":    {Kind: auth.ShapeCIS2, Org: "Y99001", Role: "R0260", Purpose: "TREAT"},
			"trust": {Kind: auth.ShapeCIS2, Org: "RYQ", Role: "R8000", Purpose: "TREAT"},
			"sw":    {Kind: auth.ShapeCouncil, Org: "SYN01", Role: "R1330", Purpose: "TREAT"},
		} {
			cb.tokens[name] = mint(b, dc)
			code, body := cb.get(cb.tokens[name], "/Patient?_count=100&_elements=id")
			var page struct {
				Entry []struct {
					Resource struct {
						ID string `json:"id"`
					} `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(body, &page); code != 200 || err != nil || len(page.Entry) == 0 {
				b.Fatalf("%s sees no patients: %d %s", name, code, body)
			}
			for _, e := range page.Entry {
				cb.patients[name] = append(cb.patients[name], e.Resource.ID)
			}
		}
		callersEnv = cb
	})
	if callersEnv == nil {
		b.Fatal("callers setup failed")
	}
	return callersEnv
}

func (cb *callersBench) get(token, path string) (int, []byte) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	cb.h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

func BenchmarkCallers(b *testing.B) {
	cb := getCallers(b)
	since := time.Now().AddDate(0, -1, 0).Format("2006-01-02")
	shapes := []struct {
		name string
		path func(p string) string
	}{
		{"read", func(p string) string { return "/Patient/" + p }},
		{"encounters-by-patient", func(p string) string { return "/Encounter?patient=" + p + "&_count=50" }},
		{"encounters-by-patient-total", func(p string) string { return "/Encounter?patient=" + p + "&_count=50&_total=accurate" }},
		{"encounters-org-wide", func(string) string { return "/Encounter?date=ge" + since + "&_count=50" }},
	}
	for _, caller := range []string{"gp", "trust", "sw"} {
		for _, s := range shapes {
			b.Run(caller+"/"+s.name, func(b *testing.B) {
				b.ReportAllocs()
				ps := cb.patients[caller]
				var lat []time.Duration
				i := 0
				for b.Loop() {
					path := s.path(ps[i%len(ps)])
					i++
					t := time.Now()
					if code, body := cb.get(cb.tokens[caller], path); code != http.StatusOK {
						b.Fatalf("%s: %d %s", path, code, body)
					}
					lat = append(lat, time.Since(t))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			})
		}
	}
}

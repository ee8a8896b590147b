package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

// benchEnv is a gateway over the test engine (testEngine) holding 10,000
// resources: 100 patients with 99 observations each. On MongoDB it counts
// the commands the store sends to the database (see roundTrips).
type benchEnv struct {
	eng      *storage.Engine
	h        http.Handler
	token    string
	commands atomic.Int64
	counting atomic.Bool
}

var (
	benchOnce sync.Once
	bench     *benchEnv
)

const benchPatients, benchObsPerPatient = 100, 99

func getBenchEnv(b *testing.B) *benchEnv {
	benchOnce.Do(func() {
		be := &benchEnv{}
		// Shared by every benchmark of the run: not tied to the first
		// benchmark's cleanup (the process exit stops it). On MongoDB
		// without a URI, storage starts the embedded server in dir.
		dir, err := os.MkdirTemp("", "gateway-bench-")
		if err != nil {
			b.Fatal(err)
		}
		cfg := storage.Config{Kind: testEngine(b), DataDir: dir}
		if cfg.Kind == storage.MongoDB { // see countsRoundTrips
			// Count the round trips of the FHIR interaction itself; the
			// audit trail's group-committed inserts are measured
			// separately below.
			cfg.Store.Monitor = &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
				if coll, _ := e.Command.Index(0).Value().StringValueOK(); be.counting.Load() && coll != "audit" {
					be.commands.Add(1)
				}
			}}
		}
		ctx := context.Background()
		// The engine is shared too, and never closed.
		eng, err := storage.Open(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		st := eng.Resources
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := w; p < benchPatients; p += 4 {
					pid := fmt.Sprintf("bp%03d", p)
					res, _ := validate.Resource([]byte(strings.Replace(patientAda, `"resourceType":"Patient",`, `"resourceType":"Patient","id":"`+pid+`",`, 1)))
					if _, err := st.Update(ctx, res, 0); err != nil {
						errs <- err
						return
					}
					for i := range benchObsPerPatient {
						res, _ := validate.Resource([]byte(obs(pid, i)))
						if _, err := st.Create(ctx, res); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		be.eng = eng
		be.h = gateway.New(gateway.Config{Auth: devVerifier(b), Policy: loadPolicy(b, "testdata/allow-all-policy"), Audit: eng.Audit}, st, slog.New(slog.DiscardHandler))
		be.token = mint(b, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "TST01", Role: "R1330", Purpose: "TREAT"})
		bench = be
	})
	if bench == nil {
		b.Fatal("bench setup failed")
	}
	return bench
}

// run serves one request in-process and reports the status (and the body
// of a failure).
func (be *benchEnv) run(b *testing.B, method, path, body string) (int, string) {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "application/fhir+json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Authorization", "Bearer "+be.token)
	w := httptest.NewRecorder()
	be.h.ServeHTTP(w, req)
	if w.Code >= 400 {
		return w.Code, w.Body.String()
	}
	return w.Code, ""
}

// measure runs fn b.N times and reports database round trips per op
// (MongoDB only: the SQLite engine has no command counter; see
// env.roundTrips).
func (be *benchEnv) measure(b *testing.B, want int, method string, path func(i int) string, body string) {
	b.ReportAllocs()
	be.commands.Store(0)
	be.counting.Store(true)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if code, msg := be.run(b, method, path(i), body); code != want {
			b.Fatalf("%s %s: status %d %s", method, path(i), code, msg)
		}
	}
	b.StopTimer()
	be.counting.Store(false)
	if countsRoundTrips(be.eng) {
		b.ReportMetric(float64(be.commands.Load())/float64(b.N), "roundtrips/op")
	}
}

func BenchmarkReadByID(b *testing.B) {
	be := getBenchEnv(b)
	be.measure(b, 200, "GET", func(i int) string { return fmt.Sprintf("/Patient/bp%03d", i%benchPatients) }, "")
}

func BenchmarkSearchPageByPatient(b *testing.B) {
	be := getBenchEnv(b)
	be.measure(b, 200, "GET", func(i int) string { return fmt.Sprintf("/Observation?patient=bp%03d&_count=50", i%benchPatients) }, "")
}

func BenchmarkSearchPageByPatientTotal(b *testing.B) {
	be := getBenchEnv(b)
	be.measure(b, 200, "GET", func(i int) string {
		return fmt.Sprintf("/Observation?patient=bp%03d&_count=50&_total=accurate", i%benchPatients)
	}, "")
}

func BenchmarkSearchPageWithInclude(b *testing.B) {
	be := getBenchEnv(b)
	be.measure(b, 200, "GET", func(i int) string {
		return fmt.Sprintf("/Observation?patient=bp%03d&_count=50&_include=Observation:patient", i%benchPatients)
	}, "")
}

func BenchmarkCreate(b *testing.B) {
	be := getBenchEnv(b)
	be.measure(b, 201, "POST", func(int) string { return "/Observation" }, obs("bp000", 5))
}

// nopAuditor stands in for the audit trail in the benchmark that measures
// what auditing costs; it is never used outside benchmarks.
type nopAuditor struct{}

func (nopAuditor) Record(context.Context, audit.Entry) (string, error) { return "x", nil }

// BenchmarkReadAuditOverhead compares authorised reads with and without
// the audit trail, at 1 and 16 concurrent clients.
func BenchmarkReadAuditOverhead(b *testing.B) {
	be := getBenchEnv(b)
	for _, audited := range []bool{false, true} {
		h := be.h
		if !audited {
			h = gateway.New(gateway.Config{Auth: devVerifier(b), Policy: loadPolicy(b, "testdata/allow-all-policy"), Audit: nopAuditor{}}, be.eng.Resources, slog.New(slog.DiscardHandler))
		}
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("audited=%v/clients=%d", audited, clients), func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
				var n atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						req := httptest.NewRequest("GET", fmt.Sprintf("/Patient/bp%03d", i%benchPatients), nil)
						req.Header.Set("Authorization", "Bearer "+be.token)
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						if w.Code != 200 {
							b.Errorf("status %d", w.Code)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
			})
		}
	}
}

package gateway_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/socialcare/synth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

// A council social worker's system-level $export of the whole data set
// (the council knows everyone), through the whole gateway under the
// baseline policy on the embedded engine: kick-off, polling, the run
// (search with the policy's restriction, per-resource decisions, NDJSON
// written and synced a page at a time). The data set is
// GATEWAY_BENCH_DATA (see BenchmarkCallers) or, without it, made here
// with GATEWAY_BENCH_EXPORT_RESOURCES resources (default 10,000).
// Reports resources/s and the peak heap in use during the export.
//
//	GATEWAY_BENCH_EXPORT_RESOURCES=100000 go test -run '^$' -bench Export -benchtime 1x ./gateway
func BenchmarkExport(b *testing.B) {
	ctx := context.Background()
	dir := os.Getenv("GATEWAY_BENCH_DATA")
	if dir == "" {
		dir = b.TempDir()
		n := 10000
		if v := os.Getenv("GATEWAY_BENCH_EXPORT_RESOURCES"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				b.Fatal(err)
			}
		}
		makeBenchData(b, dir, n)
	}
	eng, err := storage.Open(ctx, storage.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(ctx)
	h := gateway.New(gateway.Config{Auth: devVerifier(b), Policy: loadPolicy(b, "../policy"), Audit: eng.Audit, AuditReader: eng.Audit,
		Exports: eng.Exports, ExportDir: filepath.Join(b.TempDir(), "exports")}, eng.Resources, slog.New(slog.DiscardHandler))
	defer h.Close(ctx)
	token := mint(b, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYN01", Role: "R1330", Purpose: "TREAT"})
	call := func(method, path string, headers ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	var peak atomic.Uint64
	total := 0
	var elapsed time.Duration
	for b.Loop() {
		runtime.GC()
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() { samplePeakHeap(stop, &peak) })
		start := time.Now()
		w := call(http.MethodGet, "/$export", "Accept", "application/fhir+json", "Prefer", "respond-async")
		if w.Code != http.StatusAccepted {
			b.Fatalf("kick-off: %d %s", w.Code, w.Body)
		}
		status := strings.TrimPrefix(w.Header().Get("Content-Location"), "http://example.com")
		for {
			w = call(http.MethodGet, status)
			if w.Code == http.StatusOK {
				break
			}
			if w.Code != http.StatusAccepted {
				b.Fatalf("status: %d %s", w.Code, w.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed += time.Since(start)
		close(stop)
		sampler.Wait()
		var m struct{ Output []struct{ Count int } }
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		for _, f := range m.Output {
			total += f.Count
		}
		if w = call(http.MethodDelete, status); w.Code != http.StatusAccepted {
			b.Fatalf("delete: %d %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(total)/float64(b.N), "resources/op")
	b.ReportMetric(float64(total)/elapsed.Seconds(), "resources/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
}

// samplePeakHeap keeps the largest heap in use seen until stop.
func samplePeakHeap(stop chan struct{}, peak *atomic.Uint64) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// makeBenchData stores a synthetic caseload of about n resources in dir.
func makeBenchData(b *testing.B, dir string, n int) {
	ctx := context.Background()
	eng, err := storage.Open(ctx, storage.Config{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(ctx)
	opt := synth.Options{Months: 3, Seed: 1}
	if opt.People, err = synth.PeopleFor(n, opt); err != nil {
		b.Fatal(err)
	}
	err = synth.Caseload(opt, func(r *socialcare.Record) error {
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

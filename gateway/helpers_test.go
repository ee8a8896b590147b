package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/storage"
)

// The tests and benchmarks of this package run on the storage engine
// GATEWAY_TEST_STORE names: sqlite (the default, the embedded engine) or
// mongodb (the official driver over the wire, on the embedded FerretDB
// server), e.g.
//
//	GATEWAY_TEST_STORE=mongodb go test ./gateway/
const testStoreVar = "GATEWAY_TEST_STORE"

// testEngine is the engine kind the tests run on.
func testEngine(tb testing.TB) string {
	switch k := os.Getenv(testStoreVar); k {
	case "", storage.SQLite:
		return storage.SQLite
	case storage.MongoDB:
		return storage.MongoDB
	default:
		tb.Fatalf("%s=%q: want sqlite or mongodb", testStoreVar, k)
		return ""
	}
}

// env is a gateway over a real storage engine (see testEngine) in a
// temporary directory.
type env struct {
	t   testing.TB
	srv *httptest.Server
	// eng is the engine, dir its data directory, uri its MongoDB server
	// (mongodb only); several envs may share one (see serve).
	eng *storage.Engine
	dir string
	uri string
	// gw is the gateway (nil for an engine without one, see openEngine).
	gw *gateway.Server
	// store is the engine's resource store, as the gateway sees it
	// unwrapped.
	store storage.Resources
	// token is sent with every request unless the request sets its own
	// Authorization header ("" to send none).
	token string
	// commands counts the commands the engine's MongoDB client sends,
	// other than the audit trail's; shared by the envs on one engine.
	// Only MongoDB has such a counter: read it through roundTrips.
	commands *atomic.Int64
}

// newEnv is a gateway over a new engine (testEngine) that trusts the
// development key. Unless cfg names a policy, it runs the allow-all test
// policy in testdata (real OPA, real Rego), for tests of FHIR behaviour;
// access tests use the baseline policy in policy/. Unless cfg sets an
// audit trail, the engine's is used.
func newEnv(t testing.TB, cfg gateway.Config) *env {
	t.Helper()
	return newEnvWrapped(t, cfg, nil)
}

// newEnvWrapped is newEnv with the gateway's view of the store passed
// through wrap, for tests that interleave another client's writes.
func newEnvWrapped(t testing.TB, cfg gateway.Config, wrap func(gateway.Store) gateway.Store) *env {
	t.Helper()
	return openEngine(t, "").serve(t, cfg, wrap)
}

// reopen opens the test engine again on e's database (its directory and,
// on MongoDB, its server), closed when t ends: a restarted gateway after
// e's engine was closed, or a second instance sharing e's database.
func reopen(t testing.TB, e *env) *env {
	t.Helper()
	eng, err := storage.Open(context.Background(), storage.Config{Kind: testEngine(t), DataDir: e.dir, URI: e.uri})
	if err != nil {
		t.Fatalf("open the engine again: %v", err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	return &env{t: t, eng: eng, dir: e.dir, uri: e.uri, store: eng.Resources, commands: e.commands}
}

// openEngine opens the test engine in a new temporary directory, closed
// when t ends, and returns it without a gateway (see serve). uri is the
// MongoDB server to use (mongodb only; "" starts an embedded one in the
// directory).
func openEngine(t testing.TB, uri string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), commands: new(atomic.Int64)}
	cfg := storage.Config{Kind: testEngine(t), DataDir: e.dir}
	if cfg.Kind == storage.MongoDB {
		if uri == "" {
			uri = storetest.Server(t, e.dir)
		}
		cfg.URI, e.uri = uri, uri
		cfg.Store = store.Options{Monitor: &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
			if coll, _ := ev.Command.Index(0).Value().StringValueOK(); coll != "audit" {
				e.commands.Add(1)
			}
		}}}
	} else if uri != "" {
		t.Fatalf("a MongoDB URI for the %s engine", cfg.Kind)
	}
	eng, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open the %s engine: %v", cfg.Kind, err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	e.eng, e.store = eng, eng.Resources
	return e
}

// serve returns a gateway over e's engine, sharing its audit trail and
// round-trip counter, configured by cfg (see newEnv), with the store
// passed through wrap if set. Its server stops when t ends.
func (e *env) serve(t testing.TB, cfg gateway.Config, wrap func(gateway.Store) gateway.Store) *env {
	t.Helper()
	if cfg.Auth == nil {
		cfg.Auth = devVerifier(t)
	}
	if cfg.Policy == nil {
		cfg.Policy = loadPolicy(t, "testdata/allow-all-policy")
	}
	if cfg.Audit == nil {
		cfg.Audit, cfg.AuditReader = e.eng.Audit, e.eng.Audit
	}
	if cfg.Exports == nil {
		cfg.Exports, cfg.ExportDir = e.eng.Exports, filepath.Join(e.dir, "exports")
	}
	var gst gateway.Store = e.store
	if wrap != nil {
		gst = wrap(gst)
	}
	h := gateway.New(cfg, gst, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// Background exports stop before the engine closes (cleanups run
	// last registered first).
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return &env{
		t: t, srv: srv, eng: e.eng, dir: e.dir, uri: e.uri, gw: h, store: e.store, commands: e.commands,
		token: mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "TST01", Role: "R1330", Purpose: "TREAT"}),
	}
}

// roundTrips is the number of database commands the engine's store has
// sent since the last resetRoundTrips (the audit trail's aside), and
// whether the engine counts them: only MongoDB does (its driver's command
// monitor). The SQLite engine runs statements in-process and has no such
// counter, so assertions and metrics about round trips hold on MongoDB
// only.
func (e *env) roundTrips() (int64, bool) {
	return e.commands.Load(), countsRoundTrips(e.eng)
}

// countsRoundTrips reports whether eng counts its database round trips:
// the one place that says so for tests and benchmarks.
func countsRoundTrips(eng *storage.Engine) bool { return eng.Kind == storage.MongoDB }

func (e *env) resetRoundTrips() { e.commands.Store(0) }

var (
	devKeyOnce sync.Once
	devKey     *auth.DevKey
	devKeyErr  error
)

func loadDevKey(t testing.TB) *auth.DevKey {
	devKeyOnce.Do(func() { devKey, devKeyErr = auth.LoadDevKey("../fixtures/devkeys") })
	if devKeyErr != nil {
		t.Fatal(devKeyErr)
	}
	return devKey
}

func devVerifier(t testing.TB) *auth.Verifier {
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuers: []auth.Issuer{loadDevKey(t).Issuer(testAudience)}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const testAudience = "socialcare-fhir-gateway"

func mint(t testing.TB, dc auth.DevClaims) string {
	dc.Audience = testAudience
	if dc.Subject == "" {
		dc.Subject = "test-user"
	}
	tok, err := loadDevKey(t).Mint(dc, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func loadPolicy(t testing.TB, dir string) *policy.Loader {
	l, err := policy.NewLoader(context.Background(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.Status, r.Body)
	}
	return m
}

// do sends a request; body may be a string or nil. headers are pairs.
func (e *env) do(method, path string, body string, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (e *env) mustStatus(r *response, want int) {
	e.t.Helper()
	if r.Status != want {
		e.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

// outcome checks that r is an OperationOutcome and returns its issues.
func outcome(t *testing.T, r *response) []map[string]any {
	t.Helper()
	m := r.json(t)
	if m["resourceType"] != "OperationOutcome" {
		t.Fatalf("want OperationOutcome, got %s", r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("Content-Type %q", ct)
	}
	var issues []map[string]any
	for _, i := range m["issue"].([]any) {
		issues = append(issues, i.(map[string]any))
	}
	if len(issues) == 0 {
		t.Fatal("OperationOutcome without issues")
	}
	return issues
}

func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.String()
}

const patientAda = `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990010005"}],
 "name":[{"family":"Lovelace","given":["Ada"]}],"gender":"female","birthDate":"1936-12-10"}`

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

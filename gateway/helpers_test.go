package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/policy"
)

// env is a gateway over a real embedded database.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	store *store.Store
	// token is sent with every request unless the request sets its own
	// Authorization header ("" to send none).
	token string
	// commands counts the commands the gateway's store sends, other than
	// the audit trail's.
	commands atomic.Int64
}

func newEnv(t testing.TB, cfg gateway.Config) *env {
	t.Helper()
	uri := storetest.Server(t, "")
	return newEnvAt(t, uri, cfg)
}

// newEnvAt is a gateway over the database at uri that trusts the
// development key. Unless cfg names a policy, it runs the allow-all test
// policy in testdata (real OPA, real Rego), for tests of FHIR behaviour;
// access tests use the baseline policy in policy/.
func newEnvAt(t testing.TB, uri string, cfg gateway.Config) *env {
	t.Helper()
	return newEnvWrapped(t, uri, cfg, nil)
}

// newEnvWrapped is newEnvAt with the gateway's view of the store passed
// through wrap, for tests that interleave another client's writes.
func newEnvWrapped(t testing.TB, uri string, cfg gateway.Config, wrap func(gateway.Store) gateway.Store) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t}
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if coll, _ := ev.Command.Index(0).Value().StringValueOK(); coll != "audit" {
			e.commands.Add(1)
		}
	}}
	st, err := store.Open(ctx, uri, store.Options{Monitor: mon})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(ctx) })
	if cfg.Auth == nil {
		cfg.Auth = devVerifier(t)
	}
	if cfg.Policy == nil {
		cfg.Policy = loadPolicy(t, "testdata/allow-all-policy")
	}
	if cfg.Audit == nil {
		lg, err := audit.Open(ctx, st.Database(), audit.Options{})
		if err != nil {
			t.Fatalf("open audit log: %v", err)
		}
		t.Cleanup(func() { _ = lg.Close(ctx) })
		cfg.Audit, cfg.AuditReader = lg, lg
	}
	var gst gateway.Store = st
	if wrap != nil {
		gst = wrap(st)
	}
	h := gateway.New(cfg, gst, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.srv, e.store = srv, st
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "TST01", Role: "R1330", Purpose: "TREAT"})
	return e
}

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

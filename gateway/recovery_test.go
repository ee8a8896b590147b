package gateway_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
	"github.com/socialcare-fhir/gateway/gateway"
)

// While the database is unreachable the gateway answers 503 with
// Retry-After; when it returns (here: restarted on the same data
// directory), the gateway recovers by itself and no acknowledged write is
// lost.
func TestDatabaseOutageAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	db, err := embedded.StartAt(ctx, dir, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, db.URI(), gateway.Config{RequestTimeout: 10 * time.Second})
	r := e.do("POST", "/Patient", patientAda)
	e.mustStatus(r, http.StatusCreated)
	id := r.json(t)["id"].(string)

	db.Close()
	r = e.do("GET", "/Patient/"+id, "")
	e.mustStatus(r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	outcome(t, r)
	e.mustStatus(e.do("GET", "/readyz", ""), http.StatusServiceUnavailable)
	e.mustStatus(e.do("GET", "/healthz", ""), http.StatusOK)

	db, err = embedded.StartAt(ctx, dir, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The driver reconnects on its own; wait (bounded) for it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = e.do("GET", "/Patient/"+id, "")
		if r.Status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.mustStatus(r, http.StatusOK)
	if r.json(t)["birthDate"] != "1936-12-10" {
		t.Fatalf("after restart: %s", r.Body)
	}
	e.mustStatus(e.do("GET", "/readyz", ""), http.StatusOK)
}

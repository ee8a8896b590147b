package gateway_test

import (
	"context"
	"maps"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

// While the database cannot serve a request the gateway answers 503 with
// Retry-After; when it can again, the gateway recovers by itself and no
// acknowledged write is lost. Each engine has its own kind of outage:
//
//   - mongodb: the database server stops (here the embedded FerretDB,
//     stopped under the running gateway) and is restarted on the same
//     data directory; reads, writes and /readyz are 503 meanwhile, and the
//     driver reconnects by itself.
//   - sqlite: the engine is in-process, so there is no server to lose;
//     its outage is another process holding the write lock of the
//     resource file (an operator's sqlite3 shell left in a transaction, a
//     tool writing to the data directory). Writes are 503 once the
//     request times out waiting for the lock, and leave nothing behind; reads and
//     /readyz go on (WAL: readers never wait for a writer); writes
//     succeed again once the lock is released. Then the engine is closed
//     and reopened on the same directory (a restart of the gateway):
//     every acknowledged write is there, the refused one is not, and the
//     audit trail verifies.
func TestDatabaseOutageAndRestart(t *testing.T) {
	switch testEngine(t) {
	case storage.MongoDB:
		mongoServerOutageAndRestart(t)
	case storage.SQLite:
		sqliteWriteLockOutageAndRestart(t)
	}
}

func mongoServerOutageAndRestart(t *testing.T) {
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
	e := openEngine(t, db.URI()).serve(t, gateway.Config{RequestTimeout: 10 * time.Second}, nil)
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

func sqliteWriteLockOutageAndRestart(t *testing.T) {
	ctx := context.Background()
	base := openEngine(t, "")
	e := base.serve(t, gateway.Config{RequestTimeout: 2 * time.Second}, nil)
	r := e.do("POST", "/Patient", patientAda)
	e.mustStatus(r, http.StatusCreated)
	id := r.json(t)["id"].(string)
	before := countAll(t, e)

	// Another process takes the write lock of the resource file and
	// keeps it.
	other := e.sqliteFile(sqlstore.FileName, false)
	defer other.Close()
	lock, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	const refused = "/Patient/outage-put"
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/Patient", patientAda},
		{"PUT", refused, `{"resourceType":"Patient","id":"outage-put","gender":"male"}`},
		{"DELETE", "/Patient/" + id, ""},
	} {
		r := e.do(w.method, w.path, w.body)
		e.mustStatus(r, http.StatusServiceUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", w.method, w.path)
		}
		outcome(t, r)
	}
	// Reads do not wait for the writer.
	r = e.do("GET", "/Patient/"+id, "")
	e.mustStatus(r, http.StatusOK)
	e.mustStatus(e.do("GET", "/readyz", ""), http.StatusOK)
	e.mustStatus(e.do("GET", "/healthz", ""), http.StatusOK)

	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	_ = lock.Close()
	// Nothing of the refused writes was stored, then or since.
	if after := countAll(t, e); !maps.Equal(before, after) {
		t.Fatalf("stored before the outage %v, after it %v", before, after)
	}
	e.mustStatus(e.do("GET", refused, ""), http.StatusNotFound)
	if v := e.do("GET", "/Patient/"+id, "").json(t)["meta"].(map[string]any)["versionId"]; v != "1" {
		t.Fatalf("Patient at version %v after refused writes", v)
	}
	// Writes succeed again without a restart.
	r = e.do("PUT", "/Patient/after-outage", `{"resourceType":"Patient","id":"after-outage","gender":"female"}`)
	e.mustStatus(r, http.StatusCreated)

	// Restart: close the engine and open it again on the same directory.
	if err := e.eng.Close(ctx); err != nil {
		t.Fatalf("close the engine: %v", err)
	}
	e = reopen(t, base).serve(t, gateway.Config{}, nil)
	for _, path := range []string{"/Patient/" + id, "/Patient/after-outage"} {
		e.mustStatus(e.do("GET", path, ""), http.StatusOK)
	}
	e.mustStatus(e.do("GET", refused, ""), http.StatusNotFound)
	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("the audit trail does not verify after the restart: %s", out)
	}
	e.mustStatus(e.do("GET", "/readyz", ""), http.StatusOK)
}

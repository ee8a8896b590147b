package gateway_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// Every interaction, allowed or refused, leaves exactly one audit record,
// and the chain verifies until someone edits it in the database.
func TestAuditCompletenessAndTampering(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	auditCount := e.auditEvents
	before := auditCount()
	id := e.do("POST", "/Patient", patientAda).json(t)["id"].(string)
	calls := []struct{ method, path, body string }{
		{"GET", "/Patient/" + id, ""},
		{"GET", "/Patient/" + id + "/_history/1", ""},
		{"GET", "/Patient?gender=female", ""},
		{"GET", "/Patient/" + id + "/_history", ""},
		{"GET", "/Patient/_history", ""},
		{"GET", "/Patient/nope", ""},        // 404
		{"GET", "/Patient?colour=blue", ""}, // 400
		{"DELETE", "/Patient/" + id, ""},
	}
	for _, c := range calls {
		e.do(c.method, c.path, c.body)
	}
	tok := e.token
	e.token = ""
	e.do("GET", "/Patient/"+id, "") // 401: refused attempts are recorded too
	e.token = tok
	if got, want := auditCount()-before, int64(1+len(calls)+1); got != want {
		t.Fatalf("%d audit records for %d interactions", got, want)
	}
	// A batch of two entries: the batch and each entry.
	before = auditCount()
	e.mustStatus(e.do("POST", "/", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/`+id+`"}},{"request":{"method":"GET","url":"Patient?gender=male"}}]}`), http.StatusOK)
	if got := auditCount() - before; got != 3 {
		t.Fatalf("batch of 2 made %d audit records, want 3", got)
	}
	// IG search over the trail (itself audited).
	r := e.do("GET", "/AuditEvent?patient="+id+"&_count=100", "")
	e.mustStatus(r, http.StatusOK)
	if n := len(asSlice(r.json(t)["entry"])); n == 0 {
		t.Fatalf("no AuditEvents for the patient: %s", r.Body)
	}
	// The trail is append-only through the API.
	e.mustStatus(e.do("DELETE", "/AuditEvent/x", ""), http.StatusMethodNotAllowed)
	e.mustStatus(e.do("PUT", "/AuditEvent/x", `{"resourceType":"AuditEvent"}`), http.StatusMethodNotAllowed)

	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("untouched chain does not verify: %s", out)
	}
	// Edit one record directly in the database: the verifier catches it.
	e.tamperAudit("st", 404, 200)
	if ok, out := e.verifyAudit(); ok || !strings.Contains(out, "altered: content does not match its hash") {
		t.Fatalf("tampering not detected: ok=%v %s", ok, out)
	}
}

// If the audit record cannot be written, nothing is returned.
func TestAuditFailClosed(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	id := e.do("POST", "/Patient", patientAda).json(t)["id"].(string)
	lg := e.closedAuditLog() // a trail that can no longer be written
	h := gateway.New(gateway.Config{Auth: devVerifier(t), Policy: loadPolicy(t, "testdata/allow-all-policy"), Audit: lg}, e.store, slog.New(slog.DiscardHandler))
	req, _ := http.NewRequest("GET", "/Patient/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	w := newRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "Lovelace") || w.Header().Get("ETag") != "" {
		t.Fatalf("status %d, body %s", w.Code, w.Body.String())
	}
}

package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// An access's AuditEvent names the client's network address (BALP
// agent.network), as the connection saw it: a forwarding header the client
// writes itself is not believed.
func TestAuditRecordsTheClientsNetworkAddress(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	id := e.do(http.MethodPost, "/Patient", patientAda).json(t)["id"].(string)
	e.mustStatus(e.do(http.MethodGet, "/Patient/"+id, "", "X-Forwarded-For", "203.0.113.9"), http.StatusOK)
	r := e.do(http.MethodGet, "/AuditEvent?patient="+id+"&_count=100", "")
	e.mustStatus(r, http.StatusOK)
	if strings.Contains(string(r.Body), "203.0.113.9") {
		t.Errorf("the audit trail believed a forwarding header: %.300s", r.Body)
	}
	found := false
	for _, en := range asSlice(r.json(t)["entry"]) {
		ev := en.(map[string]any)["resource"].(map[string]any)
		for _, a := range asSlice(ev["agent"]) {
			if n, ok := a.(map[string]any)["network"].(map[string]any); ok && n["address"] == "127.0.0.1" && n["type"] == "2" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no AuditEvent of the patient names the client's address 127.0.0.1: %.500s", r.Body)
	}
}

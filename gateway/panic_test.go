package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/gateway"
)

// panicking is a store whose reads panic, as a bug in a handler would.
type panicking struct{ gateway.Store }

func (panicking) Read(context.Context, string, string) (*store.Version, error) {
	panic("a bug, with personal data: Ada Lovelace 9990000018")
}

// A panic while answering is a 500 OperationOutcome that reveals nothing,
// sent only once its audit record is written, like any other answer.
func TestPanicIsA500WithItsAuditRecord(t *testing.T) {
	e := newEnvWrapped(t, gateway.Config{}, func(real gateway.Store) gateway.Store { return panicking{real} })
	before := e.auditEvents()
	r := e.do(http.MethodGet, "/Patient/p1", "")
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("GET that panics: %d %q; want 500", r.Status, r.Body)
	}
	body := r.json(t)
	if body["resourceType"] != "OperationOutcome" {
		t.Fatalf("GET that panics: %s; want an OperationOutcome", r.Body)
	}
	if strings.Contains(string(r.Body), "Ada") || strings.Contains(string(r.Body), "999") {
		t.Errorf("the 500 reveals the panic: %s", r.Body)
	}
	if got := e.auditEvents() - before; got != 1 {
		t.Errorf("%d audit records for the request that panicked, want 1", got)
	}
}

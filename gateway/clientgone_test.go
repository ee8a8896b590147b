package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/gateway"
)

// waiting is a store whose reads wait for the request to end.
type waiting struct {
	gateway.Store
	entered chan struct{}
}

func (w waiting) Read(ctx context.Context, _, _ string) (*store.Version, error) {
	close(w.entered)
	<-ctx.Done()
	return nil, ctx.Err()
}

// A client that goes away before its answer is audited as such (499), not
// as a failure of the gateway (500).
func TestClientGoneIsAuditedAs499(t *testing.T) {
	entered := make(chan struct{})
	e := newEnvWrapped(t, gateway.Config{}, func(real gateway.Store) gateway.Store { return waiting{real, entered} })
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/Patient/p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	<-entered
	cancel() // the client leaves
	<-done
	e.srv.Close() // waits for the handler, and so for its audit record
	if n := e.auditEventsWithStatus(gateway.StatusClientClosedRequest); n != 1 {
		t.Errorf("%d audit records with status 499, want 1 (500s: %d)", n, e.auditEventsWithStatus(http.StatusInternalServerError))
	}
}

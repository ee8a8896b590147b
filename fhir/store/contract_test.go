package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

// The MongoDB engine keeps the store contract, over the wire protocol on
// the embedded FerretDB server.
func TestContract(t *testing.T) {
	contract.Contract(t, openMongo)
}

type mongoEngine struct {
	*store.Store
	srv *embedded.Server
}

func (m mongoEngine) Close(ctx context.Context) error {
	err := m.Store.Close(ctx)
	m.srv.Close()
	return err
}

func openMongo(tb testing.TB, dir string, clock func() time.Time) contract.Engine {
	tb.Helper()
	srv, err := embedded.Start(context.Background(), dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := store.Open(context.Background(), srv.URI(), store.Options{Clock: clock})
	if err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	return mongoEngine{s, srv}
}

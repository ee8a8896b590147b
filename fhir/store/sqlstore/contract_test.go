package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
)

// The SQLite engine keeps the store contract.
func TestContract(t *testing.T) {
	contract.Contract(t, openSQLite)
}

func openSQLite(tb testing.TB, dir string, clock func() time.Time) contract.Engine {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), dir, sqlstore.Options{Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

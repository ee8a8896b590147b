package ingest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
)

// countingStore is the SQLite resource store, recording which of its
// methods the Ingester calls; every call goes to the store.
type countingStore struct {
	*sqlstore.Store
	mu      sync.Mutex
	updates int        // Update calls
	batches [][]string // each UpdateAll's resources, "Type/id"
}

func (c *countingStore) Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (store.WriteResult, error) {
	c.mu.Lock()
	c.updates++
	c.mu.Unlock()
	return c.Store.Update(ctx, res, ifMatch)
}

func (c *countingStore) UpdateAll(ctx context.Context, res []*fhir.Resource) ([]store.WriteResult, error) {
	refs := make([]string, len(res))
	for n, r := range res {
		refs[n] = r.Type + "/" + r.ID
	}
	c.mu.Lock()
	c.batches = append(c.batches, refs)
	c.mu.Unlock()
	return c.Store.UpdateAll(ctx, res)
}

// PrepareAll's write counts as an UpdateAll when it runs.
func (c *countingStore) PrepareAll(res []*fhir.Resource, workers int) (func(context.Context) ([]store.WriteResult, error), int, error) {
	write, size, err := c.Store.PrepareAll(res, workers)
	if err != nil {
		return nil, 0, err
	}
	refs := make([]string, len(res))
	for n, r := range res {
		refs[n] = r.Type + "/" + r.ID
	}
	return func(ctx context.Context) ([]store.WriteResult, error) {
		c.mu.Lock()
		c.batches = append(c.batches, refs)
		c.mu.Unlock()
		return write(ctx)
	}, size, nil
}

var (
	_ PreparingStore = (*sqlstore.Store)(nil)
	_ PreparingStore = (*countingStore)(nil)
)

func refs(rs []fhir.Resource) []string {
	out := make([]string, len(rs))
	for n, r := range rs {
		out[n] = r.Type + "/" + r.ID
	}
	return out
}

func newCounting(t *testing.T) (*Ingester, *countingStore) {
	t.Helper()
	e := newEnv(t, onSQLite)
	cs := &countingStore{Store: e.resources(t).(*sqlstore.Store)}
	i := e.ingesterOver(t, cs)
	if _, err := i.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	return i, cs
}

// With a BatchStore a record is stored with one UpdateAll of all its
// resources, in order, and no Update; the test hook sees 0 and then all.
func TestBatchStoreStoresARecordInOneCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	i, cs := newCounting(t)
	data := fixture(t, "10-money-handled.json")
	want := translate(t, data)
	var seen []int
	i.afterApply = func(n int) error { seen = append(seen, n); return nil }

	res, err := i.Record(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{0, len(want)}) {
		t.Errorf("hook saw %v, want [0 %d]", seen, len(want))
	}
	if len(cs.batches) != 1 || !slices.Equal(cs.batches[0], refs(want)) || cs.updates != 0 {
		t.Fatalf("store got %d Update calls and UpdateAll calls %v; want one UpdateAll of %v", cs.updates, cs.batches, refs(want))
	}
	if res.Outcome != Created || res.Counts != (Counts{Created: len(want)}) || len(res.Resources) != len(want) {
		t.Fatalf("result %s %+v with %d resources, want all %d created", res.Outcome, res.Counts, len(res.Resources), len(want))
	}
	checkStored(t, cs.Store, want, 1)
	if _, err := i.Record(ctx, data); err != nil {
		t.Fatal(err)
	}
	if len(cs.batches) != 2 || cs.updates != 0 {
		t.Errorf("after a re-send: %d Update calls, %d UpdateAll calls; want 0, 2", cs.updates, len(cs.batches))
	}
}

// A record whose request is cancelled before its UpdateAll (which then
// fails, storing nothing) is finished anyway, with a second UpdateAll.
func TestBatchStoreCancelledRecordIsFinished(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	i, cs := newCounting(t)
	cctx, cancel := context.WithCancel(ctx)
	i.afterApply = func(n int) error {
		if n == 0 {
			cancel()
		}
		return nil
	}
	data := fixture(t, "03-fall.json")
	res, err := i.Record(cctx, data)
	if err != nil {
		t.Fatalf("cancelled record: %v", err)
	}
	if len(cs.batches) != 2 || res.Outcome != Created {
		t.Errorf("%d UpdateAll calls, outcome %s; want 2 (the retry), created", len(cs.batches), res.Outcome)
	}
	checkStored(t, cs.Store, translate(t, data), 1)
	if n := journals(t, i, statePending); n != 0 {
		t.Errorf("%d journals pending", n)
	}
}

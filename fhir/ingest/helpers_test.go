package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

const fixtureDir = "../../fixtures/socialcare"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openStore(t testing.TB, uri string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), uri, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// Backends: the two engines an Ingester runs on, as the gateway sets
// them up. Every test runs on each (see eachBackend).
const (
	// onMongoDB: New, resources in the MongoDB engine (an embedded
	// server), the journal in the same database.
	onMongoDB = "mongodb"
	// onSQLite: NewSQLite, resources in the SQLite engine (sqlstore, a
	// BatchStore: each record is one transaction), the journal in a file
	// of its own.
	onSQLite = "sqlite"
)

var backends = []string{onMongoDB, onSQLite}

// eachBackend runs fn as a parallel subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// env is the databases of one test: the resources in a MongoDB server
// (uri) or in the SQLite engine's file in dir, and the journal in the
// MongoDB database or in dir's journal file.
type env struct {
	backend string
	uri     string // MongoDB: the resources, and the journal on onMongoDB
	dir     string // on onSQLite: the journal, and the resources unless uri is set
}

// serverStart serialises starting embedded MongoDB servers: FerretDB's
// constructor sets a package variable, a data race when parallel tests
// start servers at the same moment.
var serverStart sync.Mutex

// startServer is storetest.Server, one start at a time.
func startServer(t testing.TB, dir string) string {
	t.Helper()
	serverStart.Lock()
	defer serverStart.Unlock()
	return storetest.Server(t, dir)
}

// newEnv is an env over fresh databases.
func newEnv(t testing.TB, backend string) *env {
	t.Helper()
	switch backend {
	case onMongoDB:
		return &env{backend: backend, uri: startServer(t, "")}
	case onSQLite:
		return &env{backend: backend, dir: t.TempDir()}
	}
	t.Fatalf("unknown backend %q", backend)
	return nil
}

// newEnvMongoAt is an env whose resources are in the MongoDB server at
// uri on either backend (onSQLite then keeps only the journal in SQLite):
// for the tests of a resource store that goes away, which only a server
// can.
func newEnvMongoAt(t testing.TB, backend, uri string) *env {
	t.Helper()
	e := &env{backend: backend, uri: uri}
	if backend == onSQLite {
		e.dir = t.TempDir()
	}
	return e
}

// resources connects to the env's resource store anew.
func (e *env) resources(t testing.TB) ResourceStore {
	t.Helper()
	if e.uri != "" {
		return openStore(t, e.uri)
	}
	st, err := sqlstore.Open(context.Background(), e.dir, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open the SQLite resource store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// ingester connects to the env's databases anew, as a restarted gateway
// would, and runs Recover.
func (e *env) ingester(t testing.TB) *Ingester {
	t.Helper()
	i := e.ingesterOver(t, e.resources(t))
	if _, err := i.Recover(context.Background()); err != nil {
		t.Fatalf("recover: %v", err)
	}
	return i
}

// ingesterOver is an Ingester of the env's backend writing resources
// through st, without Recover.
func (e *env) ingesterOver(t testing.TB, st ResourceStore) *Ingester {
	t.Helper()
	var i *Ingester
	switch e.backend {
	case onMongoDB:
		i = New(st.(*store.Store), nil)
	case onSQLite:
		db, err := sqlitedb.Open(filepath.Join(e.dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		i = NewSQLite(st, db, nil)
	default:
		t.Fatalf("unknown backend %q", e.backend)
	}
	t.Cleanup(func() { _ = i.Close(context.Background()) })
	return i
}

// newIngester is an Ingester over fresh databases.
func newIngester(t testing.TB, backend string) *Ingester {
	t.Helper()
	return newEnv(t, backend).ingester(t)
}

// oneByOne is the SQLite engine seen through Update alone, so that a
// record is written a resource at a time and made whole by its journal,
// as on the MongoDB engine: the path a pending journal copied from
// MongoDB (gateway copy) takes on SQLite.
type oneByOne struct{ s *sqlstore.Store }

func (o oneByOne) Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (store.WriteResult, error) {
	return o.s.Update(ctx, res, ifMatch)
}

// journaled is ingester with every record journaled before it is stored,
// on either backend (the SQLite engine through oneByOne).
func (e *env) journaled(t testing.TB) *Ingester {
	t.Helper()
	if e.backend != onSQLite {
		return e.ingester(t)
	}
	i := e.ingesterOver(t, oneByOne{e.resources(t).(*sqlstore.Store)})
	if _, err := i.Recover(context.Background()); err != nil {
		t.Fatalf("recover: %v", err)
	}
	return i
}

// journaled is newIngester through env.journaled.
func journaled(t testing.TB, backend string) *Ingester {
	t.Helper()
	return newEnv(t, backend).journaled(t)
}

// readable is what the tests read back from either resource store.
type readable interface {
	Read(ctx context.Context, resourceType, id string) (*store.Version, error)
	History(ctx context.Context, resourceType, id string, opt store.HistoryOptions) ([]*store.Version, bool, error)
	Versions(ctx context.Context, resourceType string, fn func(*store.Version) error) error
}

var (
	_ readable = (*store.Store)(nil)
	_ readable = (*sqlstore.Store)(nil)
)

// resourcesOf is the resource store i writes to.
func resourcesOf(t testing.TB, i *Ingester) readable {
	t.Helper()
	st := i.st
	switch c := st.(type) {
	case *countingStore:
		st = c.Store
	case oneByOne:
		st = c.s
	}
	r, ok := st.(readable)
	if !ok {
		t.Fatalf("cannot read back from a %T", i.st)
	}
	return r
}

// versions counts the stored versions of a type, of every resource.
func versions(t testing.TB, i *Ingester, resourceType string) int {
	t.Helper()
	n := 0
	if err := resourcesOf(t, i).Versions(context.Background(), resourceType, func(*store.Version) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// translate is what the translator makes of a record, for comparison with
// what was stored.
func translate(t testing.TB, data []byte) []fhir.Resource {
	t.Helper()
	rec, err := socialcare.Decode(data, time.Now())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	res, err := socialcare.Translate(rec)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkStored asserts that every resource is stored with exactly the
// translated content, at version want, with history of that length.
func checkStored(t *testing.T, st readable, want []fhir.Resource, version int64) {
	t.Helper()
	ctx := context.Background()
	for _, r := range want {
		v, err := st.Read(ctx, r.Type, r.ID)
		if err != nil {
			t.Fatalf("read %s/%s: %v", r.Type, r.ID, err)
		}
		if v.VersionID != version {
			t.Errorf("%s/%s at version %d, want %d", r.Type, r.ID, v.VersionID, version)
		}
		got := map[string]any{}
		if err := json.Unmarshal(v.JSON, &got); err != nil {
			t.Fatal(err)
		}
		stripStamp(got)
		exp := canonical(t, r.Object)
		stripStamp(exp)
		if g, e := mustJSON(t, got), mustJSON(t, exp); g != e {
			t.Errorf("%s/%s stored content differs from the translation:\n got %s\nwant %s", r.Type, r.ID, g, e)
		}
		hist, _, err := st.History(ctx, r.Type, r.ID, store.HistoryOptions{Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(hist)) != version {
			t.Errorf("%s/%s has %d versions, want %d", r.Type, r.ID, len(hist), version)
		}
	}
}

// stripStamp removes what the store sets: meta.versionId and
// meta.lastUpdated.
func stripStamp(obj map[string]any) {
	if m, ok := obj["meta"].(map[string]any); ok {
		delete(m, "versionId")
		delete(m, "lastUpdated")
		if len(m) == 0 {
			delete(obj, "meta")
		}
	}
}

// canonical round-trips obj through JSON, so numbers compare alike; meta
// (apart from versionId and lastUpdated, which the store sets) stays.
func canonical(t testing.TB, obj map[string]any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, obj)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// journals counts journals by state, in whichever backend i keeps them.
func journals(t testing.TB, i *Ingester, state string) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	var err error
	switch s := i.state.(type) {
	case *mongoState:
		n, err = s.journal.CountDocuments(ctx, bson.D{{Key: "state", Value: state}})
	case *sqliteState:
		if err = s.setup(ctx); err == nil {
			err = s.db.R.QueryRowContext(ctx, "SELECT count(*) FROM ingest_journal WHERE state = ?", state).Scan(&n)
		}
	default:
		t.Fatalf("journals in a %T", i.state)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

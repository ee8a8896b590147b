package audit

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// testBackend is one storage engine the tests run on, a real database,
// with direct access to it for tampering as someone with write access to
// the database would.
type testBackend struct {
	name   string
	mongo  *mongo.Database // for "mongo"
	sqlite *sqlitedb.DB    // for "sqlite"
}

var backendNames = []string{"mongo", "sqlite"}

// newBackend gives a fresh database of the engine name: the embedded
// MongoDB-compatible server over the wire, or a SQLite file in a temporary
// directory.
func newBackend(t testing.TB, name string) *testBackend {
	t.Helper()
	switch name {
	case "mongo":
		return &testBackend{name: name, mongo: storetest.Database(t, "audit_test")}
	case "sqlite":
		return &testBackend{name: name, sqlite: openSQLiteFile(t, filepath.Join(t.TempDir(), "audit.db"))}
	}
	t.Fatalf("unknown backend %q", name)
	return nil
}

// forEachBackend runs fn as a subtest on each engine, each with a fresh
// database.
func forEachBackend(t *testing.T, fn func(t *testing.T, b *testBackend)) {
	for _, name := range backendNames {
		t.Run(name, func(t *testing.T) { fn(t, newBackend(t, name)) })
	}
}

// openSQLiteFile opens a SQLite file, closed when the test ends.
func openSQLiteFile(t testing.TB, path string) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openErr opens a log on the backend's database.
func (b *testBackend) openErr(opt Options) (*Log, error) {
	if b.sqlite != nil {
		return OpenSQLite(context.Background(), b.sqlite, opt)
	}
	return Open(context.Background(), b.mongo, opt)
}

// open opens a log on the backend's database (the same one on every call)
// and closes it when the test ends.
func (b *testBackend) open(t testing.TB, opt Options) *Log {
	t.Helper()
	l, err := b.openErr(opt)
	if err != nil {
		t.Fatalf("open on %s: %v", b.name, err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

func (b *testBackend) verify(ctx context.Context, name string, progress func(int64)) (*Problem, int64, error) {
	if b.sqlite != nil {
		return VerifySQLite(ctx, b.sqlite, name, progress)
	}
	return Verify(ctx, b.mongo, name, progress)
}

func (b *testBackend) runVerify(ctx context.Context, name string, w io.Writer, anchors ...Anchor) (bool, error) {
	if b.sqlite != nil {
		return RunVerifySQLite(ctx, b.sqlite, name, w, anchors...)
	}
	return RunVerify(ctx, b.mongo, name, w, anchors...)
}

// mustVerify verifies the chain and fails the test on any problem.
func (b *testBackend) mustVerify(t testing.TB, name string) int64 {
	t.Helper()
	p, n, err := b.verify(context.Background(), name, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p != nil {
		t.Fatalf("Verify found a problem after %d records: %s", n, p)
	}
	return n
}

// names are the trail's SQLite tables.
func (b *testBackend) names(t testing.TB, name string) sqliteNames {
	t.Helper()
	n, err := sqliteNamesFor(name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// count counts the stored records, directly in the database.
func (b *testBackend) count(t testing.TB, name string) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	var err error
	if b.sqlite != nil {
		err = b.sqlite.R.QueryRowContext(ctx, `SELECT count(*) FROM `+b.names(t, name).tbl).Scan(&n)
	} else {
		n, err = b.mongo.Collection(name).CountDocuments(ctx, bson.D{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sql runs statements on the SQLite file after dropping the triggers that
// make the trail append-only, as someone with write access could.
func (b *testBackend) sql(t testing.TB, name string, stmt string, args ...any) int64 {
	t.Helper()
	for _, trg := range []string{"_append_only", "_patients_append_only", "_reviews_append_only"} {
		if _, err := b.sqlite.W.Exec(`DROP TRIGGER IF EXISTS "` + name + trg + `"`); err != nil {
			t.Fatal(err)
		}
	}
	res, err := b.sqlite.W.Exec(stmt, args...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	n, _ := res.RowsAffected()
	return n
}

// set changes one stored field of the record at seq, by its stored name
// (the BSON and JSON names are the same; "hash" is the stored hash).
func (b *testBackend) set(t testing.TB, name string, seq int64, field string, value any) {
	t.Helper()
	if b.sqlite != nil {
		n := b.names(t, name)
		var changed int64
		if field == "hash" {
			changed = b.sql(t, name, `UPDATE `+n.tbl+` SET hash = ? WHERE seq = ?`, value, seq)
		} else {
			v, err := json.Marshal(value)
			if err != nil {
				t.Fatal(err)
			}
			changed = b.sql(t, name, `UPDATE `+n.tbl+` SET doc = json_set(doc, '$.r.' || ?, json(?)) WHERE seq = ?`, field, string(v), seq)
		}
		if changed != 1 {
			t.Fatalf("tamper with seq %d: %d rows changed", seq, changed)
		}
		return
	}
	res, err := b.mongo.Collection(name).UpdateOne(context.Background(), bson.D{{Key: "seq", Value: seq}},
		bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: value}}}})
	if err != nil || res.ModifiedCount != 1 {
		t.Fatalf("tamper with seq %d: %v (modified %v)", seq, err, res)
	}
}

// rewrite replaces the record at seq by change(record) with a hash that
// matches its new content, as a forger who knows the format would.
func (b *testBackend) rewrite(t testing.TB, l *Log, name string, seq int64, change func(r *record)) {
	t.Helper()
	recs, err := l.recs.find(context.Background(), filter{atSeq: seq}, false, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("read seq %d: %v", seq, err)
	}
	r := recs[0]
	change(&r)
	if r.Hash, err = r.computeHash(); err != nil {
		t.Fatal(err)
	}
	if b.sqlite != nil {
		doc, err := r.canonical()
		if err != nil {
			t.Fatal(err)
		}
		b.sql(t, name, `UPDATE `+b.names(t, name).tbl+` SET doc = ?, hash = ? WHERE seq = ?`, string(doc), r.Hash, seq)
		return
	}
	if _, err := b.mongo.Collection(name).ReplaceOne(context.Background(), bson.D{{Key: "seq", Value: seq}}, &r); err != nil {
		t.Fatal(err)
	}
}

// insertRaw stores records as they are, in the trail's own layout.
func (b *testBackend) insertRaw(t testing.TB, name string, recs ...*record) {
	t.Helper()
	var err error
	if b.sqlite != nil {
		err = (&sqliteRecords{db: b.sqlite, n: b.names(t, name)}).insert(context.Background(), recs)
	} else {
		err = mongoRecords{b.mongo.Collection(name)}.insert(context.Background(), recs)
	}
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
}

// deleteSeqs removes the records with lo <= seq <= hi, directly.
func (b *testBackend) deleteSeqs(t testing.TB, name string, lo, hi int64) {
	t.Helper()
	if b.sqlite != nil {
		b.sql(t, name, `DELETE FROM `+b.names(t, name).tbl+` WHERE seq BETWEEN ? AND ?`, lo, hi)
		return
	}
	_, err := b.mongo.Collection(name).DeleteMany(context.Background(),
		bson.D{{Key: "seq", Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lte", Value: hi}}}})
	if err != nil {
		t.Fatal(err)
	}
}

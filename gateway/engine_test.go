package gateway_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, for looking into the engine's files

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/sqlitedb"
	"github.com/socialcare-fhir/gateway/storage"
)

// The helpers here look into the engine's database directly, the way an
// operator (or an intruder) with access to it could, each in the engine's
// own terms: MongoDB collections, or the SQLite engine's files in the data
// directory (see package storage).

// sqliteFile opens the SQLite engine's database file name in e's data
// directory on connections of its own (read-only if readOnly), for the
// caller to close.
func (e *env) sqliteFile(name string, readOnly bool) *sql.DB {
	e.t.Helper()
	if e.eng.Kind != storage.SQLite {
		e.t.Fatalf("sqliteFile on the %s engine", e.eng.Kind)
	}
	q := url.Values{"_pragma": {"busy_timeout(10000)"}}
	if readOnly {
		q.Set("mode", "ro")
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, name)+"?"+q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	return db
}

// auditEvents counts the event records of the audit trail (checkpoints
// aside).
func (e *env) auditEvents() int64 { return e.auditEventsWithStatus(0) }

// verifyAudit runs the audit chain's verifier (as "gateway audit verify"
// does) and returns whether the chain verified and the verifier's report.
func (e *env) verifyAudit() (bool, string) {
	e.t.Helper()
	var out bytes.Buffer
	ok, err := e.eng.VerifyAudit(context.Background(), &out)
	if err != nil {
		e.t.Fatalf("verify the audit trail: %v\n%s", err, out.String())
	}
	return ok, out.String()
}

// tamperAudit edits one audit event record directly in the database,
// changing its field (the stored name: "st", "org", ...) from one value to
// another, as someone with write access to the database could. On MongoDB
// it updates the document; on SQLite, whose trail refuses UPDATE with a
// trigger (checked first), it drops the trigger, rewrites the record's
// canonical JSON (json_set, leaving it in canonical form) and puts the
// trigger back, all in one transaction.
func (e *env) tamperAudit(field string, from, to any) {
	e.t.Helper()
	ctx := context.Background()
	if e.eng.Kind == storage.MongoDB {
		res, err := e.eng.Mongo.Database().Collection("audit").UpdateOne(ctx,
			bson.D{{Key: "kind", Value: "event"}, {Key: field, Value: from}},
			bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: to}}}})
		if err != nil || res.ModifiedCount != 1 {
			e.t.Fatalf("tamper: %v %+v", err, res)
		}
		return
	}
	db := e.sqliteFile(storage.AuditFile, false)
	defer db.Close()
	path := "$.r." + field
	var seq int64
	if err := db.QueryRowContext(ctx, `SELECT seq FROM audit WHERE kind = 'event' AND json_extract(doc, ?) = ? ORDER BY seq LIMIT 1`, path, from).Scan(&seq); err != nil {
		e.t.Fatalf("tamper: no audit event with %s = %v: %v", field, from, err)
	}
	const update = `UPDATE audit SET doc = json_set(doc, ?, ?) WHERE seq = ?`
	if _, err := db.ExecContext(ctx, update, path, to, seq); err == nil || !strings.Contains(err.Error(), "append-only") {
		e.t.Fatalf("an UPDATE of the SQLite audit table was not refused as append-only: %v", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	const trigger = "audit_append_only"
	var create string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?`, trigger).Scan(&create); err != nil {
		e.t.Fatalf("the audit table's append-only trigger: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TRIGGER "`+trigger+`"`); err != nil {
		e.t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, update, path, to, seq)
	if err != nil {
		e.t.Fatalf("tamper: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		e.t.Fatalf("tamper: %d audit records changed, want 1", n)
	}
	if _, err := tx.ExecContext(ctx, create); err != nil {
		e.t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
}

// closedAuditLog is an audit trail on e's database that has been closed:
// one that can no longer be written.
func (e *env) closedAuditLog() *audit.Log {
	e.t.Helper()
	ctx := context.Background()
	var lg *audit.Log
	var err error
	if e.eng.Kind == storage.SQLite {
		db, oerr := sqlitedb.Open(filepath.Join(e.dir, storage.AuditFile))
		if oerr != nil {
			e.t.Fatal(oerr)
		}
		defer db.Close()
		lg, err = audit.OpenSQLite(ctx, db, audit.Options{})
	} else {
		lg, err = audit.Open(ctx, e.eng.Mongo.Database(), audit.Options{})
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if err := lg.Close(ctx); err != nil {
		e.t.Fatal(err)
	}
	return lg
}

// countAll counts what every collection or table of the engine holds,
// except the audit trail (which records refused attempts, as it must): on
// MongoDB the documents of each collection, on SQLite the rows of each
// table of the resource and ingest databases (the audit trail has a file
// of its own), SQLite's own bookkeeping tables aside.
func countAll(t testing.TB, e *env) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	if e.eng.Kind == storage.SQLite {
		for _, file := range []string{sqlstore.FileName, storage.IngestFile} {
			if err := countTables(ctx, e.sqliteFile(file, true), file+"/", out); err != nil {
				t.Fatalf("count the tables of %s: %v", file, err)
			}
		}
		return out
	}
	db := e.eng.Mongo.Database()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "audit") {
			continue
		}
		c, err := db.Collection(n).CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// countTables adds the row count of each table of db to out, under its name
// after prefix, and closes db.
func countTables(ctx context.Context, db *sql.DB, prefix string, out map[string]int64) error {
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, n := range names {
		var c int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM %q`, n)).Scan(&c); err != nil {
			return err
		}
		out[prefix+n] = c
	}
	return nil
}

// auditEventsWithStatus counts the event records of the audit trail with
// HTTP status st (0: every one).
func (e *env) auditEventsWithStatus(st int) int64 {
	e.t.Helper()
	ctx := context.Background()
	var n int64
	var err error
	if e.eng.Kind == storage.SQLite {
		db := e.sqliteFile(storage.AuditFile, true)
		defer db.Close()
		err = db.QueryRowContext(ctx, `SELECT count(*) FROM audit WHERE kind = 'event' AND (? = 0 OR json_extract(doc, '$.r.st') = ?)`, st, st).Scan(&n)
	} else {
		filter := bson.D{{Key: "kind", Value: "event"}}
		if st != 0 {
			filter = append(filter, bson.E{Key: "st", Value: st})
		}
		n, err = e.eng.Mongo.Database().Collection("audit").CountDocuments(ctx, filter)
	}
	if err != nil {
		e.t.Fatalf("count audit records: %v", err)
	}
	return n
}

// auditQueries are the queries the audit trail's search records hold.
func (e *env) auditQueries() []string {
	e.t.Helper()
	ctx := context.Background()
	var out []string
	if e.eng.Kind == storage.SQLite {
		db := e.sqliteFile(storage.AuditFile, true)
		defer db.Close()
		rows, err := db.QueryContext(ctx, `SELECT json_extract(doc, '$.r.q') FROM audit WHERE kind = 'event' AND json_extract(doc, '$.r.q') IS NOT NULL`)
		if err != nil {
			e.t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var q string
			if err := rows.Scan(&q); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, q)
		}
		return out
	}
	cur, err := e.eng.Mongo.Database().Collection("audit").Find(ctx, bson.D{{Key: "kind", Value: "event"}, {Key: "q", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	var docs []struct {
		Q string `bson:"q"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		e.t.Fatal(err)
	}
	for _, d := range docs {
		out = append(out, d.Q)
	}
	return out
}

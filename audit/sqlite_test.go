package audit

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// waitFor returns once cond holds. It polls a state the test drives, so
// it does not depend on how fast anything runs.
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// Records survive closing and reopening the file; the head is found again
// and the chain continues from it.
func TestSQLiteRecordsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.db")
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenSQLite(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, mustRecord(t, l, readEntry(i, "Patient/p1")))
	}
	before, err := l.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	b := &testBackend{name: "sqlite", sqlite: openSQLiteFile(t, path)}
	l = b.open(t, Options{})
	if after, err := l.Head(ctx); err != nil || after != before {
		t.Fatalf("Head after reopening = %v, %v; want %v", after, err, before)
	}
	for i := range 3 {
		mustRecord(t, l, readEntry(10+i, "Patient/p1"))
	}
	if n := b.mustVerify(t, "audit"); n != 8 {
		t.Fatalf("chain holds %d records after reopening, want 8", n)
	}
	if _, err := l.AuditEvent(ctx, ids[0]); err != nil {
		t.Fatalf("AuditEvent of a record written before reopening: %v", err)
	}
	if got, err := l.WhoAccessed(ctx, "Patient/p1", 0); err != nil || len(got) != 8 {
		t.Fatalf("WhoAccessed = %d accesses, %v; want 8", len(got), err)
	}
}

// Callers that queue while a batch is being written share the next
// batch, which is one transaction. The writer connection is held by the
// test, so the batches are decided by what is queued, not by timing.
func TestSQLiteGroupCommitIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{WriteTimeout: time.Minute})
	recs := l.recs.(*sqliteRecords)
	hold := holdWriters(t, b.sqlite) // the write transaction
	const callers = 32
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	record := func(i int) {
		wg.Go(func() {
			if _, err := l.Record(ctx, readEntry(i, "Patient/p1")); err != nil {
				errs <- err
			}
		})
	}
	record(0)
	// The writer has taken record 0 and waits for the transaction...
	waitFor(func() bool { return b.sqlite.Waiting() >= 1 })
	for i := 1; i < callers; i++ {
		record(i)
	}
	// ...while the others queue up behind it.
	waitFor(func() bool { return len(l.queue) == callers-1 })
	hold()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Record: %v", err)
	}
	if got := recs.batches.Load(); got != 2 {
		t.Fatalf("%d transactions for %d records; want 2 (the first record, then all that queued)", got, callers)
	}
	if n := b.mustVerify(t, "audit"); n != callers {
		t.Fatalf("chain holds %d records, want %d", n, callers)
	}
}

// Records announced with Expect are written together: the writer holds
// the batch open while any is still to come (MaxDelay is an hour here, so
// nothing is decided by timing), and writes it as soon as the last has
// come or been called off.
func TestExpectedRecordsShareOneBatch(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{MaxDelay: time.Hour, WriteTimeout: time.Minute})
	recs := l.recs.(*sqliteRecords)
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	ctxs := make([]context.Context, callers)
	dones := make([]func(), callers)
	for i := range callers {
		ctxs[i], dones[i] = l.Expect(ctx)
	}
	// One request ends without a record: only its done says so.
	dones[callers-1]()
	// One at a time, each once the writer has taken the one before.
	for i := range callers - 1 {
		wg.Go(func() {
			defer dones[i]()
			if _, err := l.Record(ctxs[i], readEntry(i, "Patient/p1")); err != nil {
				errs <- err
			}
		})
		waitFor(func() bool { return l.coming.Load() == int64(callers-2-i) && len(l.queue) == 0 })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Record: %v", err)
	}
	if got := recs.batches.Load(); got != 1 {
		t.Fatalf("%d transactions for %d expected records; want 1", got, callers-1)
	}
	// Nothing is expected now: a record is written at once, alone.
	mustRecord(t, l, readEntry(100, "Patient/p1"))
	if got := recs.batches.Load(); got != 2 {
		t.Fatalf("%d transactions after an unexpected record; want 2", got)
	}
	if n := b.mustVerify(t, "audit"); n != callers {
		t.Fatalf("chain holds %d records, want %d", n, callers)
	}
}

// A batch is stored whole or not at all.
func TestSQLiteBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{})
	first := mustRecord(t, l, readEntry(0, "Patient/p1"))
	recs := l.recs.(*sqliteRecords)
	h, err := recs.head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var batch []*record
	for i, id := range []string{"new-1", "new-2", first} { // the last clashes on id
		r := &record{ID: id, Seq: h.seq + 1 + int64(i), Prev: h.hash, Kind: kindEvent, T: base, Patients: []string{"Patient/p9"}}
		r.Hash, _ = r.computeHash()
		batch = append(batch, r)
	}
	if err := recs.insert(ctx, batch); !isConflict(err) {
		t.Fatalf("insert with a clashing id: %v; want a unique-key conflict", err)
	}
	if n := b.count(t, "audit"); n != 1 {
		t.Fatalf("%d records stored, want only the first one", n)
	}
	if got, err := recs.find(ctx, filter{patient: "Patient/p9"}, true, 10); err != nil || len(got) != 0 {
		t.Fatalf("patient rows of the failed batch: %d, %v; want none", len(got), err)
	}
	mustRecord(t, l, readEntry(1, "Patient/p1"))
	b.mustVerify(t, "audit")
}

// While the database cannot be written, Record fails closed; once it can,
// the chain continues unbroken.
func TestSQLiteFailClosedWhileBusyAndRecovers(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{WriteTimeout: 50 * time.Millisecond})
	for i := range 3 {
		mustRecord(t, l, readEntry(i, "Patient/p1"))
	}
	hold := holdWriters(t, b.sqlite)
	id, err := l.Record(ctx, readEntry(10, "Patient/p1"))
	if !errors.Is(err, fhir.ErrUnavailable) || id != "" {
		t.Fatalf("Record while the writer is held = %q, %v; want no id and fhir.ErrUnavailable", id, err)
	}
	hold()
	mustRecord(t, l, readEntry(20, "Patient/p1"))
	if n := b.mustVerify(t, "audit"); n != 4 {
		t.Fatalf("chain holds %d records, want the 3 before and 1 after", n)
	}
}

func TestSQLiteFailClosedWhenDatabaseClosed(t *testing.T) {
	ctx := context.Background()
	db := openSQLiteFile(t, filepath.Join(t.TempDir(), "audit.db"))
	l, err := OpenSQLite(ctx, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close(ctx) }()
	mustRecord(t, l, readEntry(0, "Patient/p1"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	id, err := l.Record(ctx, readEntry(1, "Patient/p1"))
	if !errors.Is(err, fhir.ErrUnavailable) || id != "" {
		t.Fatalf("Record after the file was closed = %q, %v; want no id and fhir.ErrUnavailable", id, err)
	}
}

// The database itself refuses to change a record, a patient row or a
// review; Purge may still delete.
func TestSQLiteRefusesUpdates(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{})
	id := mustRecord(t, l, breakGlassEntry(0, true))
	if err := l.RecordReview(ctx, Review{AuditID: id, Reviewer: "u-ig", Justified: true, Note: "ok"}); err != nil {
		t.Fatal(err)
	}
	n := b.names(t, "audit")
	// A review from before reviews were audit records.
	if _, err := b.sqlite.W.ExecContext(ctx, `INSERT INTO `+n.revs+` (audit_id, reviewer, justified, note, t) VALUES ('old', 'u-ig', 1, 'ok', 0)`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE ` + n.tbl + ` SET hash = 'x'`,
		`UPDATE ` + n.tbl + ` SET doc = json_set(doc, '$.r.org', 'X99')`,
		`UPDATE ` + n.pats + ` SET own = 1`,
		`UPDATE ` + n.revs + ` SET justified = 0`,
	} {
		if _, err := b.sqlite.W.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v; want it refused as append-only", stmt, err)
		}
	}
	b.mustVerify(t, "audit")
}

func TestOpenSQLiteRefusesBadTableName(t *testing.T) {
	b := newBackend(t, "sqlite")
	for _, name := range []string{`audit"; DROP TABLE x; --`, "1audit", "au dit", strings.Repeat("a", 49)} {
		if l, err := b.openErr(Options{Collection: name}); err == nil {
			_ = l.Close(context.Background())
			t.Errorf("OpenSQLite accepted table name %q", name)
		}
	}
}

// A file without the trail's tables holds an empty chain; Verify creates
// nothing.
func TestVerifySQLiteWithoutTables(t *testing.T) {
	ctx := context.Background()
	db := openSQLiteFile(t, filepath.Join(t.TempDir(), "audit.db"))
	p, n, err := VerifySQLite(ctx, db, "audit", nil)
	if err != nil || p != nil || n != 0 {
		t.Fatalf("VerifySQLite on an empty file = %v, %d, %v; want an empty chain", p, n, err)
	}
	// An anchor still shows the chain is gone.
	var out strings.Builder
	ok, err := RunVerifySQLite(ctx, db, "audit", &out, Anchor{Seq: 3, Hash: strings.Repeat("ab", 32)})
	if err != nil || ok || !strings.Contains(out.String(), "truncated") {
		t.Fatalf("RunVerifySQLite with an anchor on an empty file = %v, %v:\n%s", ok, err, out.String())
	}
	var tables int
	if err := db.R.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("Verify created %d schema objects (%v)", tables, err)
	}
}

// Every query the package sends is answered from an index: the plan of
// each shape names one, and none reads the table in full. Walks in seq
// order (no filter) read the primary key from one end and stop at the
// limit.
func TestSQLiteQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{})
	population(t, l)
	s := l.recs.(*sqliteRecords)
	yes, no := true, false
	from, to := base.Add(time.Minute), base.Add(time.Hour)
	search := func(q Query) filter {
		f, err := q.filter()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		note string
		f    filter
		desc bool
		// walk: a seq-ordered walk of the primary key is expected (it
		// stops at the page size); sorts: the matches' seqs are sorted.
		walk, sorts bool
	}{
		{note: "search, no filter", f: search(Query{}), desc: true, walk: true},
		{note: "search, next page", f: search(Query{Cursor: "5"}), desc: true, walk: true},
		{note: "search, allowed", f: search(Query{Allowed: &yes}), desc: true, walk: true},
		{note: "search, not break glass", f: search(Query{BreakGlass: &no}), desc: true, walk: true},
		{note: "search by patient", f: search(Query{Patient: "Patient/p1"}), desc: true},
		{note: "search by patient, next page", f: search(Query{Patient: "Patient/p1", Cursor: "5"}), desc: true},
		{note: "search by subject", f: search(Query{Subject: "u-gp"}), desc: true},
		{note: "search by subject, next page", f: search(Query{Subject: "u-gp", Cursor: "5"}), desc: true},
		{note: "search by organisation", f: search(Query{Org: "RJ1"}), desc: true},
		{note: "search by purpose", f: search(Query{Purpose: "TREAT"}), desc: true},
		{note: "search refused", f: search(Query{Allowed: &no}), desc: true},
		{note: "search break glass", f: search(Query{BreakGlass: &yes}), desc: true},
		{note: "search by date range", f: search(Query{From: from, To: to}), desc: true, sorts: true},
		{note: "search from a date", f: search(Query{From: from}), desc: true, sorts: true},
		{note: "search to a date, next page", f: search(Query{To: to, Cursor: "5"}), desc: true, sorts: true},
		{note: "search combined", f: search(Query{Patient: "Patient/p1", Allowed: &yes, Purpose: "TREAT", From: from}), desc: true},
		{note: "search subject and dates", f: search(Query{Subject: "u-gp", From: from, To: to}), desc: true},
		{note: "who accessed", f: filter{kind: kindEvent, patient: "Patient/p1", notOwn: true}, desc: true},
		{note: "pending break glass", f: filter{kind: kindEvent, breakGlass: &yes, allowed: &yes, after: 3}},
		{note: "event by id", f: filter{kind: kindEvent, ids: []string{"x"}}},
		{note: "search by reviewed entity", f: search(Query{Entity: "AuditEvent/x"}), desc: true},
		{note: "reviews of a page", f: filter{kind: kindEvent, reviewOf: []string{"x", "y", "z"}}, sorts: true}, // at most a page
		{note: "stored ids", f: filter{ids: []string{"x", "y", "z"}}, sorts: true},                              // at most a batch
		{note: "record at seq", f: filter{atSeq: 3}},
		{note: "first record within retention", f: filter{from: from}, walk: true},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			q, args := s.findQuery(tc.f, tc.desc, 51)
			rows, err := s.db.R.QueryContext(ctx, q, args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			_ = rows.Close()
			plan := explain(t, s.db, q, args...)
			for _, line := range plan {
				switch {
				case strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, " USING ") && !tc.walk:
					t.Errorf("full scan in the plan of %s:\n%s", q, strings.Join(plan, "\n"))
				case strings.Contains(line, "TEMP B-TREE") && !tc.sorts:
					t.Errorf("sort in the plan of %s:\n%s", q, strings.Join(plan, "\n"))
				}
			}
			if !tc.walk && !strings.Contains(strings.Join(plan, "\n"), "USING") {
				t.Errorf("no index in the plan of %s:\n%s", q, strings.Join(plan, "\n"))
			}
		})
	}
}

// explain returns the details of q's query plan.
func explain(t *testing.T, db *sqlitedb.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.R.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return plan
}

// holdWriters runs a write transaction that waits, so no other write can
// start, until the returned function ends it.
func holdWriters(t *testing.T, db *sqlitedb.DB) func() {
	t.Helper()
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.Tx(context.Background(), func(*sql.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	return func() {
		close(release)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// A record announced and not recorded for expectFor MaxDelays (a long
// request still running) is no longer waited for, so later records are
// written at once; one that comes later still is written as any other.
func TestLongRequestIsNotWaitedFor(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, "sqlite")
	l := b.open(t, Options{MaxDelay: 5 * time.Millisecond})
	recs := l.recs.(*sqliteRecords)
	long, done := l.Expect(ctx)
	defer done()
	if got := l.coming.Load(); got != 1 {
		t.Fatalf("%d records expected, want 1", got)
	}
	// Not timing: the count must come down at some point, well before
	// the deadline on any machine, and never does when nothing expires.
	deadline := time.Now().Add(30 * time.Second)
	for l.coming.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a record announced 30 s ago is still waited for")
		}
		time.Sleep(time.Millisecond)
	}
	before := recs.batches.Load()
	mustRecord(t, l, readEntry(1, "Patient/p1"))
	if _, err := l.Record(long, readEntry(2, "Patient/p1")); err != nil {
		t.Fatalf("the long request's record: %v", err)
	}
	done()
	if got := l.coming.Load(); got != 0 {
		t.Fatalf("%d records expected after the long request ended, want 0", got)
	}
	if got := recs.batches.Load() - before; got != 2 {
		t.Fatalf("%d transactions for two records one after the other, want 2", got)
	}
	b.mustVerify(t, "audit")
}

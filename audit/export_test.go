package audit

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// copySource fills l with a trail that has everything a copy must carry: a
// checkpoint left by a purge, ordinary, refused, own and break-glass
// accesses, and a review (with its own audit record). It returns the
// reviewed record's id.
func copySource(t *testing.T, l *Log) string {
	t.Helper()
	ctx := context.Background()
	for i := range 3 {
		e := readEntry(i, "Patient/p1")
		e.Time = base.Add(-96 * time.Hour)
		mustRecord(t, l, e)
	}
	if n, err := l.Purge(ctx, base); err != nil || n != 3 {
		t.Fatalf("Purge = %d, %v; want 3", n, err)
	}
	population(t, l)
	reviewed := mustRecord(t, l, breakGlassEntry(20, true))
	mustRecord(t, l, breakGlassEntry(21, true))
	if err := l.RecordReview(ctx, Review{AuditID: reviewed, Reviewer: "u-ig", Justified: true, Note: "emergency admission confirmed", Time: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return reviewed
}

// sameViews fails the test unless a and b answer every read alike.
func sameViews(t *testing.T, a, b *Log, reviewed string) {
	t.Helper()
	ctx := context.Background()
	all := func(l *Log) any {
		var events []map[string]any
		q := Query{Count: 3}
		for {
			page, next, err := l.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, page...)
			if next == "" {
				return roundTrip(t, events)
			}
			q.Cursor = next
		}
	}
	if ea, eb := all(a), all(b); !reflect.DeepEqual(ea, eb) {
		t.Errorf("Search differs:\n%v\n%v", ea, eb)
	}
	for _, p := range []string{"Patient/p1", "Patient/p2"} {
		wa, erra := a.WhoAccessed(ctx, p, 0)
		wb, errb := b.WhoAccessed(ctx, p, 0)
		if erra != nil || errb != nil || !reflect.DeepEqual(wa, wb) {
			t.Errorf("WhoAccessed(%s) differs: %v, %v\n%+v\n%+v", p, erra, errb, wa, wb)
		}
	}
	pa, erra := a.PendingBreakGlass(ctx, 0)
	pb, errb := b.PendingBreakGlass(ctx, 0)
	if erra != nil || errb != nil || len(pa) != 2 || !reflect.DeepEqual(roundTrip(t, pa), roundTrip(t, pb)) {
		t.Errorf("PendingBreakGlass differs (%d and %d events): %v, %v", len(pa), len(pb), erra, errb)
	}
	ra, oka, erra := a.Reviewed(ctx, reviewed)
	rb, okb, errb := b.Reviewed(ctx, reviewed)
	if erra != nil || errb != nil || !oka || !okb || ra != rb {
		t.Errorf("Reviewed differs: %+v %v %v / %+v %v %v", ra, oka, erra, rb, okb, errb)
	}
	ha, erra := a.Head(ctx)
	hb, errb := b.Head(ctx)
	if erra != nil || errb != nil || ha != hb {
		t.Errorf("Head differs: %v %v / %v %v", ha, erra, hb, errb)
	}
}

// A trail copied from MongoDB to SQLite and back keeps its chain: every
// record keeps its seq, hash and id, the copy verifies against the
// source's head, reads answer alike, and new records link on.
func TestCopyMongoToSQLiteAndBack(t *testing.T) {
	ctx := context.Background()
	mongoDB := newBackend(t, "mongo")
	src := mongoDB.open(t, Options{Retention: 24 * time.Hour, Source: "gw.example"})
	reviewed := copySource(t, src)
	srcHead, err := src.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := mongoDB.count(t, "audit")

	sqlite := newBackend(t, "sqlite")
	// Small batches, so that the copy takes several.
	dst := sqlite.open(t, Options{MaxBatch: 4, Source: "gw.example"})
	if n, err := dst.ImportRecords(ctx, src.ExportRecords); err != nil || n != total {
		t.Fatalf("ImportRecords = %d, %v; want %d", n, err, total)
	}
	// The review is an audit record, copied with the others: the old
	// reviews store is empty.
	if n, err := dst.ImportReviews(ctx, src.ExportReviews); err != nil || n != 0 {
		t.Fatalf("ImportReviews = %d, %v; want 0", n, err)
	}
	if batches := dst.recs.(*sqliteRecords).batches.Load(); batches < 3 {
		t.Errorf("the copy took %d transactions; want one per 4 records", batches)
	}
	var out strings.Builder
	if ok, err := RunVerifySQLite(ctx, sqlite.sqlite, "audit", &out, srcHead); err != nil || !ok {
		t.Fatalf("the copy does not verify against the source's head: %v, %v\n%s", ok, err, out.String())
	}
	sameViews(t, src, dst, reviewed)

	// Copying again into the now non-empty trail is refused.
	if n, err := dst.ImportRecords(ctx, src.ExportRecords); !errors.Is(err, ErrNotEmpty) || n != 0 {
		t.Fatalf("second ImportRecords = %d, %v; want ErrNotEmpty", n, err)
	}
	// The chain continues from the last imported record.
	mustRecord(t, dst, readEntry(30, "Patient/p1"))
	if n := sqlite.mustVerify(t, "audit"); n != total+1 {
		t.Fatalf("the copy holds %d records after one more, want %d", n, total+1)
	}

	// And back to MongoDB.
	back := mongoDB.open(t, Options{Collection: "audit_back", Source: "gw.example"})
	if n, err := back.ImportRecords(ctx, dst.ExportRecords); err != nil || n != total+1 {
		t.Fatalf("ImportRecords back = %d, %v; want %d", n, err, total+1)
	}
	if n, err := back.ImportReviews(ctx, dst.ExportReviews); err != nil || n != 0 {
		t.Fatalf("ImportReviews back = %d, %v; want 0", n, err)
	}
	dstHead, err := dst.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if ok, err := RunVerify(ctx, mongoDB.mongo, "audit_back", &out, dstHead, srcHead); err != nil || !ok {
		t.Fatalf("the copy back does not verify: %v, %v\n%s", ok, err, out.String())
	}
	sameViews(t, dst, back, reviewed)
}

// A copy is no way to launder a trail: a record altered in the source is
// copied as it is and fails verification in the copy too, and a record the
// copy could not represent stops the export.
func TestCopyKeepsTamperingVisible(t *testing.T) {
	ctx := context.Background()
	mongoDB := newBackend(t, "mongo")
	src := mongoDB.open(t, Options{})
	for i := range 6 {
		mustRecord(t, src, readEntry(i, "Patient/p1"))
	}
	mongoDB.set(t, "audit", 3, "org", "X99")
	want, _, err := mongoDB.verify(ctx, "audit", nil)
	if err != nil || want == nil {
		t.Fatalf("Verify of the altered source = %v, %v", want, err)
	}
	sqlite := newBackend(t, "sqlite")
	dst := sqlite.open(t, Options{})
	if n, err := dst.ImportRecords(ctx, src.ExportRecords); err != nil || n != 6 {
		t.Fatalf("ImportRecords = %d, %v", n, err)
	}
	got, _, err := sqlite.verify(ctx, "audit", nil)
	if err != nil || got == nil || *got != *want {
		t.Fatalf("Verify of the copy = %v, %v; want %v as in the source", got, err, want)
	}

	// A field no record has cannot be carried over.
	odd := mongoDB.open(t, Options{Collection: "odd"})
	for i := range 3 {
		mustRecord(t, odd, readEntry(i, "Patient/p1"))
	}
	mongoDB.set(t, "odd", 2, "note", "x")
	var seen []int64
	err = odd.ExportRecords(ctx, func(r RawRecord) error { seen = append(seen, r.Seq()); return nil })
	if err == nil || !strings.Contains(err.Error(), "seq 2") || !reflect.DeepEqual(seen, []int64{1}) {
		t.Fatalf("ExportRecords of a record with an unknown field = %v after %v; want an error at seq 2", err, seen)
	}

	// Nor can a SQLite patient index that disagrees with its record.
	sqlite.sql(t, "audit", `DELETE FROM `+sqlite.names(t, "audit").pats+` WHERE seq = 5`)
	if err := dst.ExportRecords(ctx, func(RawRecord) error { return nil }); err == nil || !strings.Contains(err.Error(), "seq 5") {
		t.Fatalf("ExportRecords with a damaged patient index = %v; want an error at seq 5", err)
	}
}

// ImportRecords keeps seqs rising, and an error from the importer reaches
// the caller as it is.
func TestImportRecordsChecksOrder(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		raw := func(seqs ...int64) func(context.Context, func(RawRecord) error) error {
			return func(_ context.Context, fn func(RawRecord) error) error {
				for _, s := range seqs {
					r := record{ID: "r" + string(rune('a'+s)), Seq: s, Prev: genesis, Kind: kindEvent, T: base}
					r.Hash, _ = r.computeHash()
					if err := fn(RawRecord{r}); err != nil {
						return err
					}
				}
				return nil
			}
		}
		if _, err := l.ImportRecords(ctx, raw(2, 1)); err == nil || !strings.Contains(err.Error(), "does not follow") {
			t.Fatalf("ImportRecords out of order: %v", err)
		}
		if n := b.count(t, "audit"); n != 0 {
			t.Fatalf("%d records stored from a batch out of order", n)
		}
		stop := errors.New("source failed")
		failing := func(ctx context.Context, fn func(RawRecord) error) error {
			if err := raw(5)(ctx, fn); err != nil {
				return err
			}
			return stop
		}
		if n, err := l.ImportRecords(ctx, failing); !errors.Is(err, stop) || n != 0 {
			t.Fatalf("ImportRecords from a failing source = %d, %v; want its error", n, err)
		}
	})
}

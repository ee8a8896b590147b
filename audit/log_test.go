package audit

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

func TestRecordConcurrentCallersAllDurable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		const n = 300
		ids := make([]string, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				id, err := l.Record(context.Background(), readEntry(i, "Patient/p1"))
				if err != nil {
					errs <- err
					return
				}
				ids[i] = id
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Record: %v", err)
		}
		seen := map[string]bool{}
		for i, id := range ids {
			if id == "" || seen[id] {
				t.Fatalf("caller %d got id %q (empty or shared)", i, id)
			}
			seen[id] = true
			// Each caller's id is its own record.
			recs, err := l.recs.find(context.Background(), filter{ids: []string{id}}, false, 1)
			if err != nil || len(recs) != 1 {
				t.Fatalf("record %d not stored: %v", i, err)
			}
			if want := readEntry(i, "").RequestID; recs[0].RequestID != want {
				t.Fatalf("id of caller %d holds request %q, want %q", i, recs[0].RequestID, want)
			}
		}
		if count := b.count(t, "audit"); count != n {
			t.Fatalf("stored %d records, want %d", count, n)
		}
		if got := b.mustVerify(t, "audit"); got != n {
			t.Fatalf("Verify checked %d records, want %d", got, n)
		}
	})
}

func TestGroupCommitSharesInserts(t *testing.T) {
	db, inserts := monitoredDB(t)
	l := openOn(t, db, Options{})
	const callers, each = 32, 20
	before := inserts.n.Load()
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				if _, err := l.Record(context.Background(), readEntry(c*each+i, "Patient/p1")); err != nil {
					t.Errorf("Record: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := inserts.n.Load() - before
	records := int64(callers * each)
	t.Logf("%d records in %d InsertMany commands (%.1f records each)", records, got, float64(records)/float64(got))
	if got == 0 || got*4 > records {
		t.Fatalf("%d InsertMany commands for %d records: want at most a quarter as many commands as records", got, records)
	}
	mustVerify(t, db, "audit")
}

func TestRecordRejectsInvalidEntries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		tests := []struct {
			note string
			e    Entry
		}{
			{"unknown interaction", Entry{Interaction: "peek"}},
			{"operation without name", Entry{Interaction: "operation"}},
			{"bad outcome", Entry{Interaction: "read", Outcome: "3"}},
			{"bad agent kind", Entry{Interaction: "read", Agent: Agent{Kind: "robot"}}},
		}
		for _, tc := range tests {
			t.Run(tc.note, func(t *testing.T) {
				id, err := l.Record(context.Background(), tc.e)
				if !errors.Is(err, ErrInvalidEntry) || errors.Is(err, fhir.ErrUnavailable) || id != "" {
					t.Fatalf("Record = %q, %v; want ErrInvalidEntry only", id, err)
				}
			})
		}
	})
}

func TestDefaultOutcome(t *testing.T) {
	tests := []struct {
		allowed bool
		status  int
		want    string
	}{
		{true, 200, "0"}, {true, 0, "0"}, {true, 404, "4"}, {true, 503, "8"}, {false, 403, "8"},
	}
	for _, tc := range tests {
		if got := defaultOutcome(tc.allowed, tc.status); got != tc.want {
			t.Errorf("defaultOutcome(%v, %d) = %q, want %q", tc.allowed, tc.status, got, tc.want)
		}
	}
}

func TestFailClosedWhenClientDisconnected(t *testing.T) {
	db, _ := monitoredDB(t)
	l := openOn(t, db, Options{WriteTimeout: 2 * time.Second})
	mustRecord(t, l, readEntry(1, "Patient/p1"))
	if err := db.Client().Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	id, err := l.Record(context.Background(), readEntry(2, "Patient/p1"))
	if !errors.Is(err, fhir.ErrUnavailable) || id != "" {
		t.Fatalf("Record after disconnect = %q, %v; want no id and fhir.ErrUnavailable", id, err)
	}
}

func TestFailClosedWhenServerStopsAndRecovers(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv, err := embedded.Start(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.URI())
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()).SetServerSelectionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	db := client.Database("audit_test")
	l := openOn(t, db, Options{WriteTimeout: 3 * time.Second})
	for i := range 3 {
		mustRecord(t, l, readEntry(i, "Patient/p1"))
	}

	srv.Close()
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			id, err := l.Record(ctx, readEntry(10+i, "Patient/p1"))
			if !errors.Is(err, fhir.ErrUnavailable) || id != "" {
				t.Errorf("Record while the server is down = %q, %v; want no id and fhir.ErrUnavailable", id, err)
			}
		})
	}
	wg.Wait()

	srv, err = embedded.StartAt(ctx, dir, u.Host, nil)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(srv.Close)
	var id string
	deadline := time.Now().Add(10 * time.Second)
	for {
		if id, err = l.Record(ctx, readEntry(20, "Patient/p1")); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Record after restart: %v", err)
	}
	if id == "" {
		t.Fatal("no id after restart")
	}
	n := mustVerify(t, db, "audit")
	if n != 4 {
		t.Fatalf("chain holds %d records, want the 3 written before the outage and 1 after", n)
	}
}

func TestRecordAfterClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err := l.Record(context.Background(), readEntry(1, "Patient/p1"))
		if !errors.Is(err, ErrClosed) || !errors.Is(err, fhir.ErrUnavailable) {
			t.Fatalf("Record after Close: %v; want ErrClosed and fhir.ErrUnavailable", err)
		}
	})
}

func TestTwoWritersShareOneChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l1 := b.open(t, Options{})
		l2 := b.open(t, Options{})
		for i := range 10 {
			l := l1
			if i%2 == 1 {
				l = l2
			}
			// Each log's head is stale after the other wrote: the unique
			// seq makes it re-read the head and retry.
			mustRecord(t, l, readEntry(i, "Patient/p1"))
		}
		if n := b.mustVerify(t, "audit"); n != 10 {
			t.Fatalf("chain holds %d records, want 10", n)
		}
	})
}

func TestOpenRefusesRetentionBelowFloor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		tests := []struct {
			note           string
			retention, min time.Duration
			wantErr        bool
		}{
			{"below floor", 24 * time.Hour, 48 * time.Hour, true},
			{"negative", -time.Hour, 0, true},
			{"at floor", 48 * time.Hour, 48 * time.Hour, false},
			{"keep for ever", 0, 48 * time.Hour, false},
		}
		for _, tc := range tests {
			t.Run(tc.note, func(t *testing.T) {
				l, err := b.openErr(Options{Retention: tc.retention, MinRetention: tc.min})
				if l != nil {
					_ = l.Close(context.Background())
				}
				if got := errors.Is(err, ErrRetentionTooShort); got != tc.wantErr {
					t.Fatalf("Open: %v; want ErrRetentionTooShort %v", err, tc.wantErr)
				}
			})
		}
	})
}

// The canonical form the writer joins from a record's split form is byte
// for byte the one encoded whole, for records of every kind and content,
// so the hash does not depend on which was used.
func TestChainedFormIsTheCanonicalForm(t *testing.T) {
	odd := readEntry(3, "Patient/p\u00e9")
	odd.Query = `name="O'Brien" <&> ` + "\u2028,\"seq\":0,\"prev\":\"\","
	odd.Agent.BreakGlassReason = "unconscious\n\"A&E\""
	entries := []Entry{readEntry(1, "Patient/p1"), breakGlassEntry(2, true), breakGlassEntry(4, false), odd}
	var recs []*record
	for _, e := range entries {
		if err := e.normalise(base); err != nil {
			t.Fatal(err)
		}
		r, err := newRecord(&e)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	review, err := newRecord(&entries[0])
	if err != nil {
		t.Fatal(err)
	}
	review.setReview(Review{AuditID: recs[1].ID, Justified: true, Note: "seen"})
	recs = append(recs, review, &record{ID: "cp", Kind: kindCheckpoint, T: base, PurgedSeq: 9, PurgedHash: genesis, PurgedCount: 9})
	for i, r := range recs {
		if err := r.prepare(); err != nil {
			t.Fatalf("record %d: prepare: %v", i, err)
		}
		for _, chain := range []struct {
			seq  int64
			prev string
		}{{1, genesis}, {1234567890123, strings.Repeat("0f", 32)}} {
			r.Seq, r.Prev = chain.seq, chain.prev
			joined, err := r.chainedForm()
			if err != nil {
				t.Fatal(err)
			}
			whole, err := r.canonical()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(joined, whole) {
				t.Fatalf("record %d, seq %d: joined form\n%s\nwant\n%s", i, chain.seq, joined, whole)
			}
		}
		r.Seq, r.Prev = 0, ""
	}
	// A prev that is not a hash is encoded, never spliced in raw.
	r := recs[0]
	r.Seq, r.Prev = 2, `a"b`
	joined, _ := r.chainedForm()
	if whole, _ := r.canonical(); !bytes.Equal(joined, whole) {
		t.Fatalf("with an odd prev: %s, want %s", joined, whole)
	}
	if err := r.prepare(); err == nil {
		t.Fatal("prepare of a chained record succeeded")
	}
}

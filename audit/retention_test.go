package audit

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPurgeKeepsChainVerifiable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{Retention: 24 * time.Hour, MinRetention: time.Hour})
		ctx := context.Background()
		now := base.Add(72 * time.Hour)
		for i := range 5 { // 5 records two days old ...
			e := readEntry(i, "Patient/p1")
			e.Time = now.Add(-48*time.Hour + time.Duration(i)*time.Minute)
			mustRecord(t, l, e)
		}
		for i := range 3 { // ... then 3 from the last hour
			e := readEntry(10+i, "Patient/p1")
			e.Time = now.Add(-time.Hour + time.Duration(i)*time.Minute)
			mustRecord(t, l, e)
		}

		early, err := ParseAnchor("2:" + strings.Repeat("0", 64)) // any hash: it is purged
		if err != nil {
			t.Fatal(err)
		}
		n, err := l.Purge(ctx, now)
		if err != nil || n != 5 {
			t.Fatalf("Purge = %d, %v; want 5", n, err)
		}
		if got := b.mustVerify(t, "audit"); got != 4 {
			t.Fatalf("Verify checked %d records, want 3 kept and the checkpoint", got)
		}
		// The purged records are gone from the searches too.
		if got, err := l.WhoAccessed(ctx, "Patient/p1", 0); err != nil || len(got) != 3 {
			t.Fatalf("WhoAccessed after Purge = %d accesses, %v; want the 3 kept", len(got), err)
		}
		// An anchor in the purged range cannot be checked, and is no failure.
		var out bytes.Buffer
		if ok, err := b.runVerify(ctx, "audit", &out, early); err != nil || !ok || !strings.Contains(out.String(), "anchor 2: purged by retention") {
			t.Fatalf("RunVerify with a purged anchor = %v, %v:\n%s", ok, err, out.String())
		}
		if n, err := l.Purge(ctx, now); err != nil || n != 0 {
			t.Fatalf("second Purge = %d, %v; want nothing to do", n, err)
		}
		mustRecord(t, l, readEntry(20, "Patient/p1"))
		b.mustVerify(t, "audit")

		// Much later everything is past retention, the checkpoint included;
		// a new checkpoint carries the chain.
		n, err = l.Purge(ctx, now.Add(30*24*time.Hour))
		if err != nil || n != 5 {
			t.Fatalf("Purge of everything = %d, %v; want 5", n, err)
		}
		if got := b.mustVerify(t, "audit"); got != 1 {
			t.Fatalf("Verify checked %d records, want only the new checkpoint", got)
		}
		mustRecord(t, l, readEntry(21, "Patient/p1"))
		if got := b.mustVerify(t, "audit"); got != 2 {
			t.Fatalf("Verify checked %d records, want 2", got)
		}
	})
}

func TestVerifyAfterInterruptedPurge(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{Retention: 24 * time.Hour})
		ctx := context.Background()
		now := base.Add(72 * time.Hour)
		for i := range 4 {
			e := readEntry(i, "Patient/p1")
			e.Time = now.Add(-48 * time.Hour)
			mustRecord(t, l, e)
		}
		e := readEntry(9, "Patient/p1")
		e.Time = now
		mustRecord(t, l, e)
		// Simulate a purge that wrote its checkpoint and deleted only seq 1
		// and 2 before it stopped: run it, then put seq 3 and 4 back.
		var kept []*record
		for seq := int64(3); seq <= 4; seq++ {
			recs, err := l.recs.find(ctx, filter{atSeq: seq}, false, 1)
			if err != nil || len(recs) != 1 {
				t.Fatalf("read seq %d: %v", seq, err)
			}
			kept = append(kept, &recs[0])
		}
		if n, err := l.Purge(ctx, now); err != nil || n != 4 {
			t.Fatalf("Purge = %d, %v", n, err)
		}
		b.insertRaw(t, "audit", kept...)
		if got := b.mustVerify(t, "audit"); got != 4 {
			t.Fatalf("Verify checked %d records, want 2 leftovers, 1 kept and the checkpoint", got)
		}
		// Tampering with a leftover is still seen.
		b.set(t, "audit", 4, "org", "X99")
		if p, _, err := b.verify(ctx, "audit", nil); err != nil || p == nil || p.Seq != 4 || p.Kind != ProblemAltered {
			t.Fatalf("Verify = %v, %v; want altered at seq 4", p, err)
		}
		// The next purge finishes the job.
		if n, err := l.Purge(ctx, now); err != nil || n != 2 {
			t.Fatalf("Purge = %d, %v; want the 2 leftovers removed", n, err)
		}
		if got := b.mustVerify(t, "audit"); got != 2 {
			t.Fatalf("Verify checked %d records, want 1 kept and the checkpoint", got)
		}
	})
}

func TestPurgeWithoutRetentionKeepsEverything(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		mustRecord(t, l, readEntry(0, "Patient/p1"))
		if n, err := l.Purge(context.Background(), base.Add(100*365*24*time.Hour)); err != nil || n != 0 {
			t.Fatalf("Purge = %d, %v; want nothing removed", n, err)
		}
	})
}

// The audit of a person whose records are still stored is kept past the
// retention: the purge stops before the first record naming them, and
// takes it once their records are gone.
func TestPurgeKeepsTheAuditOfRecordsStillKept(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{Retention: 24 * time.Hour, MinRetention: time.Hour})
		ctx := context.Background()
		now := base.Add(72 * time.Hour)
		for i, p := range []string{"Patient/gone", "Patient/gone", "Patient/kept", "Patient/gone", "Patient/kept"} {
			e := readEntry(i, p)
			e.Time = now.Add(-48*time.Hour + time.Duration(i)*time.Minute)
			mustRecord(t, l, e)
		}
		stored := map[string]bool{"Patient/kept": true}
		var asked []string
		kept := func(_ context.Context, ps []string) (map[string]bool, error) {
			asked = append(asked, ps...)
			out := map[string]bool{}
			for _, p := range ps {
				out[p] = stored[p]
			}
			return out, nil
		}
		n, err := l.PurgeKeeping(ctx, now, kept)
		if err != nil || n != 2 {
			t.Fatalf("PurgeKeeping = %d, %v; want the 2 records before the first naming a person still kept", n, err)
		}
		if !slices.Contains(asked, "Patient/kept") || !slices.Contains(asked, "Patient/gone") {
			t.Errorf("asked about %v, want both people named", asked)
		}
		b.mustVerify(t, "audit")
		if got, err := l.WhoAccessed(ctx, "Patient/kept", 0); err != nil || len(got) != 2 {
			t.Fatalf("the kept person's accesses after the purge: %d, %v; want both", len(got), err)
		}
		// Their records disposed of, the rest goes.
		delete(stored, "Patient/kept")
		if n, err := l.PurgeKeeping(ctx, now, kept); err != nil || n != 3 {
			t.Fatalf("PurgeKeeping after the disposal = %d, %v; want the other 3", n, err)
		}
		b.mustVerify(t, "audit")
	})
}

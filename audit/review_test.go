package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

func breakGlassEntry(i int, allowed bool) Entry {
	e := readEntry(i, "Patient/p1")
	e.Agent = Agent{Kind: KindUser, Subject: "u-rj1", Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "unconscious in A&E"}
	e.Decision.Allowed = allowed
	return e
}

func TestBreakGlassReview(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		ctx := context.Background()
		var bg []string
		for i := range 3 {
			bg = append(bg, mustRecord(t, l, breakGlassEntry(i, true)))
		}
		mustRecord(t, l, breakGlassEntry(3, false)) // refused: nothing was seen
		plain := mustRecord(t, l, readEntry(4, "Patient/p1"))

		pending := func() []string {
			t.Helper()
			evs, err := l.PendingBreakGlass(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, ev := range evs {
				ids = append(ids, ev["id"].(string))
			}
			return ids
		}
		if got := pending(); !equal(got, bg) {
			t.Fatalf("pending = %v, want %v (oldest first)", got, bg)
		}

		review := Review{AuditID: bg[1], Reviewer: "u-ig", Justified: true, Note: "emergency admission confirmed", Org: "LA001", Role: "R8015"}
		if err := l.RecordReview(ctx, review); err != nil {
			t.Fatalf("RecordReview: %v", err)
		}
		if got := pending(); !equal(got, []string{bg[0], bg[2]}) {
			t.Fatalf("pending after review = %v, want %v", got, []string{bg[0], bg[2]})
		}
		stored, ok, err := l.Reviewed(ctx, bg[1])
		if err != nil || !ok || !stored.Justified || stored.Note != review.Note || stored.Reviewer != "u-ig" {
			t.Fatalf("Reviewed = %+v, %v, %v", stored, ok, err)
		}

		tests := []struct {
			note string
			r    Review
			want error
		}{
			{"second review", Review{AuditID: bg[1], Reviewer: "u-ig2", Note: "not justified"}, ErrAlreadyReviewed},
			{"not break glass", Review{AuditID: plain, Reviewer: "u-ig", Note: "x"}, ErrNotBreakGlass},
			{"unknown record", Review{AuditID: "nope", Reviewer: "u-ig", Note: "x"}, fhir.ErrNotFound},
			{"no note", Review{AuditID: bg[0], Reviewer: "u-ig"}, ErrInvalidReview},
		}
		for _, tc := range tests {
			t.Run(tc.note, func(t *testing.T) {
				if err := l.RecordReview(ctx, tc.r); !errors.Is(err, tc.want) {
					t.Fatalf("RecordReview: %v, want %v", err, tc.want)
				}
			})
		}
		if stored, _, _ := l.Reviewed(ctx, bg[1]); stored.Reviewer != "u-ig" || !stored.Justified {
			t.Fatalf("the first review was changed: %+v", stored)
		}

		// The review and the refused second attempt are themselves audited.
		evs, _, err := l.Search(ctx, Query{Subject: "u-ig2"})
		if err != nil || len(evs) != 1 || evs[0]["outcome"] != "4" {
			t.Fatalf("audit of the refused second review = %v, %v", evs, err)
		}
		evs, _, err = l.Search(ctx, Query{Subject: "u-ig"})
		if err != nil || len(evs) != 1 || evs[0]["outcome"] != "0" {
			t.Fatalf("audit of the review = %v, %v", evs, err)
		}
		b.mustVerify(t, "audit")
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// reviewOn finds the verdict on the AuditEvent entity of a review's
// AuditEvent.
func reviewOn(ev map[string]any, id string) (verdict, note string) {
	for _, e := range ev["entity"].([]any) {
		em := e.(map[string]any)
		if what, _ := em["what"].(map[string]any); what["reference"] != "AuditEvent/"+id {
			continue
		}
		details, _ := em["detail"].([]any)
		for _, d := range details {
			dm := d.(map[string]any)
			switch dm["type"] {
			case "review-verdict":
				verdict = dm["valueString"].(string)
			case "review-note":
				note = dm["valueString"].(string)
			}
		}
	}
	return verdict, note
}

// A review is an audit record in the chain: read back by the record it
// reviews, and changing its verdict in the database breaks verification.
func TestReviewIsInTheChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		ctx := context.Background()
		bg := mustRecord(t, l, breakGlassEntry(0, true))
		mustRecord(t, l, readEntry(1, "Patient/p1"))
		if err := l.RecordReview(ctx, Review{AuditID: bg, Reviewer: "u-ig", Justified: true, Note: "ED attendance confirmed", Org: "SYN01", Role: "R5105"}); err != nil {
			t.Fatal(err)
		}
		evs, _, err := l.Search(ctx, Query{Entity: "AuditEvent/" + bg})
		if err != nil || len(evs) != 1 {
			t.Fatalf("Search by the reviewed entity = %d events, %v; want the review", len(evs), err)
		}
		if v, note := reviewOn(evs[0], bg); v != "justified" || note != "ED attendance confirmed" {
			t.Fatalf("the review's AuditEvent carries verdict %q note %q: %v", v, note, evs[0])
		}
		if _, _, err := l.Search(ctx, Query{Entity: "CarePlan/x"}); !errors.Is(err, ErrBadEntity) {
			t.Fatalf("Search by a non-AuditEvent entity: %v, want ErrBadEntity", err)
		}
		b.mustVerify(t, "audit")
		b.set(t, "audit", 3, "vdt", "not-justified")
		if p, _, err := b.verify(ctx, "audit", nil); err != nil || p == nil || p.Seq != 3 || p.Kind != ProblemAltered {
			t.Fatalf("Verify after the verdict was changed: %v, %v; want seq 3 altered", p, err)
		}
	})
}

// Reviews kept in the old reviews store, before reviews were audit
// records, move into the chain when the log is opened, once.
func TestOldReviewsMoveIntoTheChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		ctx := context.Background()
		l := b.open(t, Options{})
		bg := mustRecord(t, l, breakGlassEntry(0, true))
		other := mustRecord(t, l, breakGlassEntry(1, true))
		made := base.Add(time.Hour)
		old := func(_ context.Context, fn func(Review) error) error {
			return fn(Review{AuditID: bg, Reviewer: "u-ig", Justified: false, Note: "no emergency", Time: made})
		}
		// As a copy from a trail of an older gateway would write it.
		if n, err := l.ImportReviews(ctx, old); err != nil || n != 1 {
			t.Fatalf("ImportReviews = %d, %v", n, err)
		}
		if n, err := l.ImportReviews(ctx, old); !errors.Is(err, ErrAlreadyReviewed) || n != 0 {
			t.Fatalf("second ImportReviews = %d, %v; want ErrAlreadyReviewed", n, err)
		}
		_ = l.Close(ctx)

		l = b.open(t, Options{})
		r, ok, err := l.Reviewed(ctx, bg)
		if err != nil || !ok || r.Justified || r.Note != "no emergency" || r.Reviewer != "u-ig" || !r.Time.Equal(made) {
			t.Fatalf("Reviewed after the move = %+v, %v, %v", r, ok, err)
		}
		pending, err := l.PendingBreakGlass(ctx, 0)
		if err != nil || len(pending) != 1 || pending[0]["id"] != other {
			t.Fatalf("pending after the move = %v, %v; want only %s", pending, err, other)
		}
		if err := l.RecordReview(ctx, Review{AuditID: bg, Reviewer: "u-ig2", Justified: true, Note: "again"}); !errors.Is(err, ErrAlreadyReviewed) {
			t.Fatalf("a second review of a moved one: %v", err)
		}
		n := b.mustVerify(t, "audit")
		_ = l.Close(ctx)
		b.open(t, Options{})
		if again := b.mustVerify(t, "audit"); again != n {
			t.Fatalf("reopening moved the reviews again: %d records, then %d", n, again)
		}
	})
}

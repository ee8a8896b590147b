package audit

import (
	"context"
	"errors"
	"testing"

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

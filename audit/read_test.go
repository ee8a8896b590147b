package audit

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// population records a mix of accesses, request ids r0 to r6 one minute
// apart.
func population(t *testing.T, l *Log) {
	t.Helper()
	nurse := readEntry(0, "Patient/p1") // r0: GP nurse reads p1's care plan
	doctorBTG := readEntry(1, "Patient/p1")
	doctorBTG.RequestID = "r1" // trust doctor, break glass, p1
	doctorBTG.Agent = Agent{Kind: KindUser, Subject: "u-rj1", Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "unconscious in A&E"}
	doctorBTG.Decision.Obligations = []string{"audit-break-glass", "review-break-glass"}
	ownRead := readEntry(2, "Patient/p1")
	ownRead.RequestID = "r2" // the person reads their own record
	ownRead.Agent = Agent{Kind: KindPerson, Subject: "nhs-login-1", Purpose: "PATRQT", Patient: "Patient/p1"}
	refused := readEntry(3, "Patient/p1")
	refused.RequestID = "r3" // a researcher is refused
	refused.Agent = Agent{Kind: KindUser, Subject: "u-x", Org: "X99", Role: "R8000", Purpose: "TREAT"}
	refused.Decision = Decision{Allowed: false, Reasons: []string{"DSA-1-signatory"}, Revision: "rev-1"}
	refused.Resources, refused.HTTPStatus = nil, 403
	other := readEntry(4, "Patient/p2")
	other.RequestID = "r4" // the nurse reads p2
	search := readEntry(5, "Patient/p1")
	search.RequestID = "r5" // a council system searches visits of p1 and p2
	search.Interaction, search.ResourceType, search.Query = "search-type", "Encounter", "patient=p1,p2&_count=10"
	search.Agent = Agent{Kind: KindSystem, Subject: "cm", Org: "LA001", Purpose: "COC", ClientID: "cm"}
	search.Patients = []string{"Patient/p1", "Patient/p2"}
	search.Resources = []string{"Encounter/e1", "Encounter/e2"}
	search.Categories = []string{"visit"}
	ownNoRef := readEntry(6, "Patient/p1")
	ownNoRef.RequestID = "r6" // the person again, token without a Patient reference
	ownNoRef.Agent = Agent{Kind: KindPerson, Subject: "nhs-login-1", Purpose: "PATRQT"}
	for _, e := range []Entry{nurse, doctorBTG, ownRead, refused, other, search, ownNoRef} {
		if e.RequestID == "req-0" {
			e.RequestID = "r0"
		}
		mustRecord(t, l, e)
	}
}

func TestWhoAccessed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		population(t, l)
		ctx := context.Background()
		got, err := l.WhoAccessed(ctx, "Patient/p1", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []Access{
			{Time: base.Add(5 * time.Minute), Org: "LA001", Purpose: "COC", Categories: []string{"visit"}, Interaction: "search-type", Resources: []string{"Encounter/e1", "Encounter/e2"}, Allowed: true},
			{Time: base.Add(3 * time.Minute), Org: "X99", Role: "R8000", Purpose: "TREAT", Categories: []string{"care-plan"}, Interaction: "read"},
			{Time: base.Add(1 * time.Minute), Org: "RJ1", Role: "R8000", Purpose: "BTG", Categories: []string{"care-plan"}, Interaction: "read", Resources: []string{"CarePlan/cp-1"}, Allowed: true, BreakGlass: true},
			{Time: base, Org: "G81001", Role: "R8001", Purpose: "TREAT", Categories: []string{"care-plan"}, Interaction: "read", Resources: []string{"CarePlan/cp-0"}, Allowed: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("WhoAccessed(p1) =\n%+v\nwant\n%+v", got, want)
		}
		got, err = l.WhoAccessed(ctx, "Patient/p2", 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Org != "LA001" {
			t.Fatalf("WhoAccessed(p2, limit 1) = %+v; want the council search only", got)
		}
		got, err = l.WhoAccessed(ctx, "Patient/nobody", 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("WhoAccessed(nobody) = %+v, %v; want none", got, err)
		}
	})
}

func TestSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		population(t, l)
		tests := []struct {
			note string
			q    Query
			want []string // request ids, newest first
		}{
			{"all", Query{}, []string{"r6", "r5", "r4", "r3", "r2", "r1", "r0"}},
			{"patient", Query{Patient: "Patient/p2"}, []string{"r5", "r4"}},
			{"subject", Query{Subject: "u-gp"}, []string{"r4", "r0"}},
			{"org", Query{Org: "RJ1"}, []string{"r1"}},
			{"purpose", Query{Purpose: "PATRQT"}, []string{"r6", "r2"}},
			{"refused", Query{Allowed: ptr(false)}, []string{"r3"}},
			{"break glass", Query{BreakGlass: ptr(true)}, []string{"r1"}},
			{"date range", Query{From: base.Add(2 * time.Minute), To: base.Add(5 * time.Minute)}, []string{"r4", "r3", "r2"}},
			{"combined", Query{Patient: "Patient/p1", Allowed: ptr(true), Purpose: "TREAT"}, []string{"r0"}},
		}
		for _, tc := range tests {
			t.Run(tc.note, func(t *testing.T) {
				events, next, err := l.Search(context.Background(), tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if next != "" {
					t.Fatalf("next = %q on a single page", next)
				}
				if got := requestIDs(t, events); !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Search = %v, want %v", got, tc.want)
				}
			})
		}
	})
}

func TestSearchPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		population(t, l)
		var got []string
		q := Query{Count: 3}
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("paging does not end")
			}
			events, next, err := l.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, requestIDs(t, events)...)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		if want := []string{"r6", "r5", "r4", "r3", "r2", "r1", "r0"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("pages = %v, want %v", got, want)
		}
		if _, _, err := l.Search(context.Background(), Query{Cursor: "abc"}); !errors.Is(err, ErrBadCursor) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

// requestIDs extracts the X-Request-Id entity of each AuditEvent.
func requestIDs(t *testing.T, events []map[string]any) []string {
	t.Helper()
	var ids []string
	for _, ev := range roundTrip(t, events).([]any) {
		for _, e := range ev.(map[string]any)["entity"].([]any) {
			ent := e.(map[string]any)
			if ent["type"].(map[string]any)["code"] == "XrequestId" {
				ids = append(ids, ent["what"].(map[string]any)["identifier"].(map[string]any)["value"].(string))
			}
		}
	}
	return ids
}

package audit

import (
	"reflect"
	"testing"
	"time"
)

// Decision inputs are part of the hashed record on both engines, come
// back as written, and a record without them (an older one) still
// verifies beside them.
func TestDecisionInputsKeptAndVerified(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		ctx := t.Context()
		l := b.open(t, Options{})
		dec := []Decided{
			{Action: "search", Type: "CarePlan", Patient: "Patient/p1", Categories: []string{"care-plan"}, AuthorOrgs: []string{"SYN01"}, Facts: "1?0?0", Allowed: true, Count: 3},
			{Action: "search", Type: "CarePlan", Patient: "Patient/p2", Categories: []string{"care-plan"}, Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}, Facts: "0?0?0", Count: 1},
		}
		older := mustRecord(t, l, Entry{Interaction: "read", Decision: Decision{Allowed: true}})
		withInputs := mustRecord(t, l, Entry{Interaction: "search-type", Agent: Agent{Kind: KindUser, Subject: "u1", Org: "Y99001", Role: "R0260", Purpose: "TREAT"},
			Decision: Decision{Allowed: true, Revision: "sha256:0123456789abcdef"}, Decided: dec, DecidedOmitted: 2})
		if n := b.mustVerify(t, "audit"); n != 2 {
			t.Fatalf("verified %d records, want 2", n)
		}
		var got []*DecisionRecord
		err := l.Decisions(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), func(r *DecisionRecord) error {
			got = append(got, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != older || got[1].ID != withInputs || got[0].Decided != nil {
			t.Fatalf("decision records %+v", got)
		}
		if !reflect.DeepEqual(got[1].Decided, dec) || got[1].DecidedOmitted != 2 || got[1].Agent.Role != "R0260" {
			t.Fatalf("read back %+v, want %+v", got[1], dec)
		}
	})
}

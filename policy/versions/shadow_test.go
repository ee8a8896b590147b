package versions_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

// A version in shadow is decided beside the active one on every instance,
// from the records of live traffic: its disagreements are those of
// deciding each input under both directly, nothing is enforced, and
// stopping (or activating it) ends the shadow.
func TestShadowCountsWhatDecidingDirectlyWould(t *testing.T) {
	for _, kind := range []string{storage.SQLite, storage.MongoDB} {
		t.Run(kind, func(t *testing.T) { testShadow(t, kind) })
	}
}

func testShadow(t *testing.T, kind string) {
	ctx := t.Context()
	one, two := openEngines(t, kind)
	files := baseline(t)
	w := &versions.Workflow{Store: one.Policies, Audit: one.Audit}
	seed, err := w.Seed(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	first, err := versions.NewLoader(ctx, one.Policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := versions.NewLoader(ctx, two.Policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Policy = first
	cand := withoutCarersMedication(t, files)
	v, err := w.Propose(ctx, igLead, cand, "carers no longer see medication")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Shadow(ctx, igLead, v.ID, true); err == nil {
		t.Fatal("a draft was put in shadow before its tests passed")
	}
	if _, err := w.Test(ctx, igLead, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Shadow(ctx, igLead, v.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*versions.Loader{first, second} {
		if err := l.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if l.Shadow() == nil || l.Shadow().ID() != v.ID {
			t.Fatalf("an instance runs shadow %v, want %s", l.Shadow(), v.ID)
		}
		if got := versions.IDOf(l.Current().Revision()); got != seed {
			t.Fatalf("the shadow is enforced: the instance serves %s", got)
		}
	}

	// Live traffic on the first instance, as its audit records.
	active := first.Current()
	candEngine, err := policy.LoadFiles(ctx, cand)
	if err != nil {
		t.Fatal(err)
	}
	g := &traffic{rng: rand.New(rand.NewPCG(3, 4)), now: time.Now()}
	wantRefused, wantAllowed := 0, 0
	for i := range 300 {
		e := g.record(ctx, t, active, 3)
		s := policy.Subject{Kind: e.Agent.Kind, ID: e.Agent.Subject, Org: e.Agent.Org, Role: e.Agent.Role, Purpose: e.Agent.Purpose, BreakGlassReason: e.Agent.BreakGlassReason}
		for j := range e.Decided {
			after, err := candEngine.Decide(ctx, inputOf(s, &e.Decided[j]))
			if err != nil {
				t.Fatal(err)
			}
			switch before := e.Decided[j].Allowed; {
			case before && !after.Allow:
				wantRefused++
			case !before && after.Allow:
				wantAllowed++
			}
		}
		first.Observe(&audit.DecisionRecord{ID: "a" + string(rune('0'+i%10)), Time: e.Time, Interaction: e.Interaction,
			Agent: e.Agent, Allowed: true, Revision: active.Revision(), Decided: e.Decided})
	}
	if wantRefused == 0 {
		t.Fatal("the traffic has no decision the candidate refuses: the test needs some")
	}
	var rep *versions.ShadowReport
	for range 100 { // the shadow works off the requests' path
		if rep, err = first.Shadow().Report(ctx); err != nil {
			t.Fatal(err)
		}
		if rep.Records+int(rep.Dropped) == 300 && rep.Pending == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rep.Dropped != 0 || rep.Records != 300 {
		t.Fatalf("the shadow compared %d records and dropped %d, want 300 and 0", rep.Records, rep.Dropped)
	}
	if rep.Refused.Count != wantRefused || rep.Allowed.Count != wantAllowed {
		t.Fatalf("shadow: %d now refused, %d now allowed; deciding directly: %d, %d", rep.Refused.Count, rep.Allowed.Count, wantRefused, wantAllowed)
	}
	if rep.Refused.Category["medication"] == nil {
		t.Errorf("shadow flips by category: %v", keys(rep.Refused.Category))
	}
	if other, err := second.Shadow().Report(ctx); err != nil || other.Records != 0 {
		t.Fatalf("the second instance saw %+v (%v): each instance reports its own traffic", other, err)
	}

	if _, err := w.Shadow(ctx, igLead, v.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := first.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if first.Shadow() != nil {
		t.Fatal("the shadow goes on after it was stopped")
	}
	if _, err := w.Shadow(ctx, igLead, v.ID, false); err == nil {
		t.Fatal("stopping a shadow twice succeeded")
	}
	checkAudited(t, one, []string{versions.OpSeed, versions.OpPropose, versions.OpTest, versions.OpShadow, versions.OpShadow})
}

package versions_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// traffic generates audited decisions: random callers from the agreement
// asking about random records, decided by the engine that was active.
type traffic struct {
	rng *rand.Rand
	now time.Time
}

var (
	trafficOrgs     = []string{"SYN01", "SYN01", "LA001", "Y99001", "RJ1", "CP001"}
	trafficRoles    = []string{"R8009", "R0260", "R1330", "R1460"}
	trafficPurposes = []string{"TREAT", "COC", "BTG"}
	trafficTypes    = []string{"CarePlan", "Encounter", "MedicationAdministration", "Observation", "Flag", "Basic", "Consent"}
	trafficCats     = []string{"care-plan", "visit", "medication", "medication", "safeguarding", "financial", "financial", "demographics"}
	trafficLabels   = []string{policy.ConfidentialitySystem + "|R", policy.SecurityLabelSystem + "|third-party-confidential"}
	trafficActions  = []string{policy.ActionRead, policy.ActionSearch, policy.ActionHistory}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func (g *traffic) subject() policy.Subject {
	s := policy.Subject{Kind: policy.SubjectUser, ID: "u" + string(rune('a'+g.rng.IntN(20))), Org: pick(g.rng, trafficOrgs),
		Role: pick(g.rng, trafficRoles), Purpose: pick(g.rng, trafficPurposes)}
	if s.Purpose == "BTG" && g.rng.IntN(2) == 0 {
		s.BreakGlassReason = "unconscious in ED"
	}
	return s
}

func (g *traffic) decided() audit.Decided {
	d := audit.Decided{Action: pick(g.rng, trafficActions), Type: pick(g.rng, trafficTypes),
		Patient: "Patient/p" + string(rune('a'+g.rng.IntN(26))), Categories: []string{pick(g.rng, trafficCats)},
		AuthorOrgs: []string{pick(g.rng, trafficOrgs)}, Count: 1}
	if g.rng.IntN(8) == 0 {
		d.Labels = []string{pick(g.rng, trafficLabels)}
	}
	f := []byte("00000")
	for i := range f {
		if g.rng.IntN(2) == 0 {
			f[i] = '1'
		}
	}
	d.Facts = string(f)
	return d
}

func inputOf(s policy.Subject, d *audit.Decided) policy.Input {
	c := policy.Context{Related: d.Facts[0] == '1', Objected: d.Facts[1] == '1', Self: d.Facts[2] == '1',
		KnownToCouncil: d.Facts[3] == '1', ProviderNamed: d.Facts[4] == '1'}
	return policy.Input{Action: d.Action, Subject: s, Context: c, Resource: policy.Resource{Type: d.Type,
		ResourceAttributes: policy.ResourceAttributes{Patient: d.Patient, Categories: d.Categories, Labels: d.Labels, AuthorOrgs: d.AuthorOrgs}}}
}

// record is one audited interaction of perRecord decisions by one caller,
// decided by active.
func (g *traffic) record(ctx context.Context, t testing.TB, active *policy.Engine, perRecord int) audit.Entry {
	s := g.subject()
	e := audit.Entry{Time: g.now.Add(-time.Duration(g.rng.Int64N(int64(6 * 24 * time.Hour)))), Interaction: "search-type",
		Agent:    audit.Agent{Kind: s.Kind, Subject: s.ID, Org: s.Org, Role: s.Role, Purpose: s.Purpose, BreakGlassReason: s.BreakGlassReason},
		Decision: audit.Decision{Allowed: true, Revision: active.Revision()}, HTTPStatus: 200}
	for range perRecord {
		d := g.decided()
		dec, err := active.Decide(ctx, inputOf(s, &d))
		if err != nil {
			t.Fatal(err)
		}
		d.Allowed = dec.Allow
		e.Decided = append(e.Decided, d)
	}
	return e
}

// candidate is the baseline with medication taken from carers and
// financial records given to admin staff: flips both ways.
func candidate(t testing.TB, base policy.Files) *policy.Engine {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(base[policy.DataFile], &d); err != nil {
		t.Fatal(err)
	}
	rc := d["dsa"].(map[string]any)["role_classes"].(map[string]any)
	care := rc["care"].(map[string]any)
	care["categories"] = slices.DeleteFunc(care["categories"].([]any), func(c any) bool { return c == "medication" })
	admin := rc["admin"].(map[string]any)
	admin["categories"] = append(admin["categories"].([]any), "financial")
	b, _ := json.MarshalIndent(d, "", "  ")
	files := policy.Files{}
	for k, v := range base {
		files[k] = v
	}
	files[policy.DataFile] = b
	e, err := policy.LoadFiles(t.Context(), files)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func loadBaseline(t testing.TB) (policy.Files, *policy.Engine) {
	t.Helper()
	f, err := policy.ReadFiles("..")
	if err != nil {
		t.Fatal(err)
	}
	e, err := policy.LoadFiles(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	return f, e
}

func TestImpactFlipsEqualDirectDecisions(t *testing.T) {
	ctx := t.Context()
	files, active := loadBaseline(t)
	cand := candidate(t, files)
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lg, err := audit.OpenSQLite(ctx, db, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close(context.Background())

	g := &traffic{rng: rand.New(rand.NewPCG(1, 2)), now: time.Now()}
	type flipKey struct{ org, role string }
	wantRefused, wantAllowed := 0, 0
	wantByRule := map[string]int{}
	for range 400 {
		e := g.record(ctx, t, active, 5)
		s := policy.Subject{Kind: e.Agent.Kind, ID: e.Agent.Subject, Org: e.Agent.Org, Role: e.Agent.Role, Purpose: e.Agent.Purpose, BreakGlassReason: e.Agent.BreakGlassReason}
		for i := range e.Decided {
			before, err := active.Decide(ctx, inputOf(s, &e.Decided[i]))
			if err != nil {
				t.Fatal(err)
			}
			after, err := cand.Decide(ctx, inputOf(s, &e.Decided[i]))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case before.Allow && !after.Allow:
				wantRefused++
				for _, r := range after.Reasons {
					wantByRule[r]++
				}
			case !before.Allow && after.Allow:
				wantAllowed++
			}
		}
		if _, err := lg.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// An older record, without inputs, and a write.
	if _, err := lg.Record(ctx, audit.Entry{Interaction: "read", Decision: audit.Decision{Allowed: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Record(ctx, audit.Entry{Interaction: "create", Decision: audit.Decision{Allowed: true}}); err != nil {
		t.Fatal(err)
	}

	rep, err := versions.Impact(ctx, cand, lg, g.now.Add(-versions.DefaultImpactPeriod), g.now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if wantRefused == 0 || wantAllowed == 0 {
		t.Fatalf("the generated traffic flips %d / %d: the test needs both ways", wantRefused, wantAllowed)
	}
	if rep.Refused.Count != wantRefused || rep.Allowed.Count != wantAllowed {
		t.Fatalf("impact: %d now refused, %d now allowed; deciding directly: %d, %d", rep.Refused.Count, rep.Allowed.Count, wantRefused, wantAllowed)
	}
	for r, n := range wantByRule {
		if g := rep.Refused.Rule[r]; g == nil || g.Count != n || len(g.Examples) == 0 {
			t.Errorf("rule %s: %+v, want %d flips with examples", r, g, n)
		}
	}
	if rep.Replayed != 2000 || rep.Records != 402 || rep.NotReplayable.WithoutInputs != 1 || rep.NotReplayable.OtherInteractions != 1 {
		t.Errorf("replayed %d of %d records, not replayable %+v", rep.Replayed, rep.Records, rep.NotReplayable)
	}
	if rep.Refused.Category["medication"] == nil || rep.Allowed.Category["financial"] == nil {
		t.Errorf("flips by category: refused %v allowed %v", keys(rep.Refused.Category), keys(rep.Allowed.Category))
	}
}

func keys(m map[string]*versions.Group) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sliceSource serves generated audit records from memory.
type sliceSource []audit.DecisionRecord

func (s sliceSource) Decisions(_ context.Context, _, _ time.Time, fn func(*audit.DecisionRecord) error) error {
	for i := range s {
		if err := fn(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkImpact replays a generated week of 1,000,000 audited decisions
// (100,000 records of 10) under a candidate. The records come from memory:
// this measures the replay, not reading the trail.
func BenchmarkImpact(b *testing.B) {
	ctx := b.Context()
	files, active := loadBaseline(b)
	cand := candidate(b, files)
	g := &traffic{rng: rand.New(rand.NewPCG(3, 4)), now: time.Now()}
	src := make(sliceSource, 100_000)
	for i := range src {
		e := g.record(ctx, b, active, 10)
		src[i] = audit.DecisionRecord{ID: "r" + string(rune(i)), Time: e.Time, Interaction: e.Interaction, Agent: e.Agent, Allowed: true, Decided: e.Decided}
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := versions.Impact(ctx, cand, src, time.Time{}, g.now)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Replayed != 1_000_000 {
			b.Fatalf("replayed %d", rep.Replayed)
		}
	}
}

package versions_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"testing"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

var (
	igLead    = versions.Person{Subject: "u-ig", Org: "SYN01", Role: "R0001"}
	caldicott = versions.Person{Subject: "u-cg", Org: "SYN01", Role: "R5105"}
)

// openEngines opens the storage engine kind twice on one database (two
// gateway instances sharing it).
func openEngines(t *testing.T, kind string) (a, b *storage.Engine) {
	t.Helper()
	dir := t.TempDir()
	cfg := storage.Config{Kind: kind, DataDir: dir}
	if kind == storage.MongoDB {
		cfg.URI = storetest.Server(t, dir)
	}
	open := func() *storage.Engine {
		e, err := storage.Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("open %s: %v", kind, err)
		}
		t.Cleanup(func() { _ = e.Close(context.Background()) })
		return e
	}
	return open(), open()
}

// baseline is the policy directory's files.
func baseline(t *testing.T) policy.Files {
	t.Helper()
	f, err := policy.ReadFiles("..")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// withoutCarersMedication is the baseline with medication taken from the
// care role class: carers no longer see medication records.
func withoutCarersMedication(t *testing.T, f policy.Files) policy.Files {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(f[policy.DataFile], &d); err != nil {
		t.Fatal(err)
	}
	care := d["dsa"].(map[string]any)["role_classes"].(map[string]any)["care"].(map[string]any)
	cats := care["categories"].([]any)
	care["categories"] = slices.DeleteFunc(cats, func(c any) bool { return c == "medication" })
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := policy.Files{}
	for k, v := range f {
		out[k] = v
	}
	out[policy.DataFile] = b
	return out
}

func TestWorkflowTwoPeopleAndEveryInstance(t *testing.T) {
	for _, kind := range []string{storage.SQLite, storage.MongoDB} {
		t.Run(kind, func(t *testing.T) { testWorkflow(t, kind) })
	}
}

func testWorkflow(t *testing.T, kind string) {
	ctx := t.Context()
	one, two := openEngines(t, kind)
	files := baseline(t)
	w := &versions.Workflow{Store: one.Policies, Audit: one.Audit}
	seed, err := w.Seed(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := w.Seed(ctx, files); err != nil || again != seed {
		t.Fatalf("a second seed: %q, %v; want the first version %q", again, err, seed)
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
	if got := versions.IDOf(second.Current().Revision()); got != seed {
		t.Fatalf("second instance serves %s, want the seed %s", got, seed)
	}

	v, err := w.Propose(ctx, igLead, withoutCarersMedication(t, files), "carers no longer see medication")
	if err != nil {
		t.Fatal(err)
	}
	if v.State != versions.Draft || v.Parent != seed {
		t.Fatalf("proposed: state %s parent %s", v.State, v.Parent)
	}
	if _, err := w.Propose(ctx, igLead, withoutCarersMedication(t, files), "again"); !errors.Is(err, versions.ErrExists) {
		t.Fatalf("the same content proposed twice: %v, want ErrExists", err)
	}
	if _, err := w.Approve(ctx, first.Current(), caldicott, v.ID, ""); !errors.Is(err, versions.ErrState) {
		t.Fatalf("approving a draft: %v, want ErrState", err)
	}
	if _, err := w.Activate(ctx, igLead, v.ID); !errors.Is(err, versions.ErrState) {
		t.Fatalf("activating a draft: %v, want ErrState", err)
	}
	if v, err = w.Test(ctx, igLead, v.ID); err != nil || v.State != versions.Tested {
		t.Fatalf("test: %v (report %+v)", err, v.Report)
	}
	if _, err := w.Approve(ctx, first.Current(), igLead, v.ID, "mine"); !errors.Is(err, versions.ErrSameAuthor) {
		t.Fatalf("author approving their own version: %v, want ErrSameAuthor", err)
	}
	otherIG := versions.Person{Subject: "u-ig2", Org: "SYN01", Role: "R0001"}
	if _, err := w.Approve(ctx, first.Current(), otherIG, v.ID, ""); !errors.Is(err, versions.ErrNotApprover) {
		t.Fatalf("an IG lead without approve_policy approving: %v, want ErrNotApprover", err)
	}
	if v, err = w.Approve(ctx, first.Current(), caldicott, v.ID, "agreed at the IG board"); err != nil || v.State != versions.Approved {
		t.Fatalf("approve: %v", err)
	}
	if _, err := w.Activate(ctx, caldicott, v.ID); err != nil {
		t.Fatal(err)
	}

	// The other instance serves the old version until it refreshes, and
	// a request that took it keeps it.
	pinned := second.Current()
	if versions.IDOf(pinned.Revision()) != seed {
		t.Fatal("second instance changed before refreshing")
	}
	if err := second.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := versions.IDOf(second.Current().Revision()); got != v.ID {
		t.Fatalf("after refresh the second instance serves %s, want %s", got, v.ID)
	}
	if versions.IDOf(pinned.Revision()) != seed {
		t.Fatal("a pinned engine changed")
	}
	carer := policy.Input{Action: policy.ActionRead, Subject: policy.Subject{Kind: "user", ID: "u-c", Org: "SYN01", Role: "R1460", Purpose: "TREAT"},
		Resource: policy.Resource{Type: "MedicationStatement", ID: "m1", ResourceAttributes: policy.ResourceAttributes{Patient: "Patient/p1", Categories: []string{"medication"}, AuthorOrgs: []string{"SYN01"}}},
		Context:  policy.Context{KnownToCouncil: true}}
	before, err := pinned.Decide(ctx, carer)
	if err != nil {
		t.Fatal(err)
	}
	after, err := second.Current().Decide(ctx, carer)
	if err != nil {
		t.Fatal(err)
	}
	if !before.Allow || after.Allow {
		t.Fatalf("carer reading medication: before %v after %v, want allowed then refused", before.Allow, after.Allow)
	}
	if old, _ := one.Policies.Get(ctx, seed); old.State != versions.Retired {
		t.Fatalf("the replaced version is %s, want retired", old.State)
	}

	// Rollback: the seed again, in one step.
	if _, err := w.Rollback(ctx, igLead, seed); err != nil {
		t.Fatal(err)
	}
	if err := second.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := versions.IDOf(second.Current().Revision()); got != seed {
		t.Fatalf("after rollback: %s, want %s", got, seed)
	}
	checkAudited(t, one, []string{versions.OpSeed, versions.OpPropose, versions.OpTest, versions.OpApprove, versions.OpApprove, versions.OpApprove, versions.OpActivate, versions.OpRollback})
}

var operationDetail = regexp.MustCompile(`"type":"operation","valueString":"(\$policy-[a-z]+)"`)

// checkAudited checks that the steps were audited, in order, and that the
// chain verifies.
func checkAudited(t *testing.T, e *storage.Engine, want []string) {
	t.Helper()
	evs, _, err := e.Audit.Search(t.Context(), audit.Query{Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(evs) - 1; i >= 0; i-- {
		b, _ := json.Marshal(evs[i])
		if m := operationDetail.FindSubmatch(b); m != nil {
			got = append(got, string(m[1]))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audited steps %v, want %v", got, want)
	}
}

package policy

import (
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The memo gives exactly the decisions evaluation gives, single and paged.
func TestMemoAgreesWithEvaluation(t *testing.T) {
	e := testEngine(t)
	if e.memo == nil {
		t.Fatal("the baseline policy should be memoised")
	}
	_, docs := fixtureDocs()
	ctx := t.Context()
	for _, s := range []Subject{trustDoctor} {
		for i, r := range docs {
			c := Context{Related: i%2 == 0, Objected: i%5 == 0}
			in := Input{Action: ActionRead, Subject: s, Resource: Resource{Type: "CarePlan", ResourceAttributes: r}, Context: c}
			want, err := e.evalDecision(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second call comes from the memo
				got, err := e.Decide(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				if !equalDecision(got, want) {
					t.Fatalf("doc %d: memo %+v, evaluation %+v", i, got, want)
				}
			}
		}
	}
}

func equalDecision(a, b Decision) bool {
	eq := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a.Allow == b.Allow && a.Revision == b.Revision && eq(a.Reasons, b.Reasons) && eq(a.Redactions, b.Redactions) && eq(a.Obligations, b.Obligations)
}

// A policy that reads the clock or random numbers is never memoised.
func TestMemoOffForNondeterministicPolicy(t *testing.T) {
	mod := ast.MustParseModule("package x\n\nnow := time.now_ns()\n")
	if deterministic(map[string]*ast.Module{"x": mod}) {
		t.Fatal("a policy calling time.now_ns was taken as deterministic")
	}
	mod = ast.MustParseModule("package x\n\nok if input.a == 1\n")
	if !deterministic(map[string]*ast.Module{"x": mod}) {
		t.Fatal("a plain policy was taken as non-deterministic")
	}
}

// A remembered search filter (for a policy decided without plans) is the
// one partial evaluation builds.
func TestFilterMemoAgreesWithPartialEvaluation(t *testing.T) {
	ctx := t.Context()
	e, err := Load(ctx, ".")
	if err != nil {
		t.Fatal(err)
	}
	e.plans = nil // as for a policy that cannot be specialised
	in := Input{Action: ActionSearch, Subject: trustDoctor, Resource: Resource{Type: "CarePlan"}, Context: Context{
		RelatedPatients: []string{"Patient/p1", "Patient/p2"}, ObjectedPatients: []string{"Patient/p2"}}}
	want, err := e.buildFilter(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := e.Filter(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("remembered filter %v, built %v", got, want)
		}
	}
	// Different patient lists are a different filter.
	in.Context.RelatedPatients = []string{"Patient/p3"}
	other, err := e.Filter(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(other) == fmt.Sprint(want) {
		t.Fatal("a filter for other patients was taken from the memo")
	}
}

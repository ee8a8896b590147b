package cond

import (
	"testing"
	"time"
)

func TestBuildersFold(t *testing.T) {
	a, b := Is("a", "1"), Is("b", int64(2))
	for _, tc := range []struct {
		note string
		n    *Node
		want string
	}{
		{"nothing", AllOf(), "true"},
		{"one", AllOf(a), `a = "1"`},
		{"two", AllOf(a, b), `and(a = "1", b = 2)`},
		{"nested conjunctions flatten", AllOf(AllOf(a, b), Present("c")), `and(a = "1", b = 2, exists c)`},
		{"false absorbs a conjunction", AllOf(a, Never()), "false"},
		{"true absorbs a disjunction", AnyOf(Always(), b), "true"},
		{"no alternatives", AnyOf(), "false"},
		{"nested disjunctions flatten", AnyOf(AnyOf(a, b), a), `or(a = "1", b = 2, a = "1")`},
		{"none of", NoneOf(a, b), `not(or(a = "1", b = 2))`},
		{"double negation", NoneOf(NoneOf(a)), `a = "1"`},
		{"none of nothing", NoneOf(), "true"},
		{"membership", OneOf("pat", []string{"Patient/a", "Patient/b"}), `pat in ["Patient/a", "Patient/b"]`},
		{"membership of one", OneOf("pat", []string{"Patient/a"}), `pat = "Patient/a"`},
		{"membership of none", OneOf[string]("_id", nil), "false"},
		{"dates", Compare("lu", Gt, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)), "lu > 2026-01-02T00:00:00Z"},
		{"prefix", Compare("sp.name.n", Prefix, "o'bri"), `sp.name.n prefix "o'bri"`},
	} {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.note, got, tc.want)
		}
	}
}

func TestFields(t *testing.T) {
	n := AllOf(Is("a", "1"), AnyOf(Present("b"), NoneOf(Is("a", "2"))))
	if got := n.Fields(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("fields %v, want [a b]", got)
	}
}

// record is a record for Eval: absent fields are missing from the map.
func record(fields map[string][]any) Record {
	return func(f string) ([]any, bool) {
		vs, ok := fields[f]
		return vs, ok
	}
}

func TestEval(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	rec := record(map[string][]any{
		AccessPatient:    {"Patient/a"},
		AccessCategories: {"visit", "care-plan"},
		AccessLabels:     {},
		"sp.date.lo":     {day},
		"sp.v":           {float64(5.4)},
		"sp.n":           {int64(3)},
		"sp.name.n":      {"siobhan", "o'brien"},
	})
	for _, tc := range []struct {
		n    *Node
		want bool
	}{
		{Always(), true},
		{Never(), false},
		{Is(AccessPatient, "Patient/a"), true},
		{Is(AccessPatient, "Patient/b"), false},
		{Is(AccessCategories, "care-plan"), true},                                       // some value
		{NoneOf(Is(AccessCategories, "visit")), false},                                  // no value
		{OneOf(AccessCategories, []string{"financial", "visit"}), true},                 // some value in the list
		{AllOf(Is(AccessCategories, "visit"), Is(AccessCategories, "care-plan")), true}, // leaves on their own
		{Present(AccessLabels), true},                                                   // an empty list is present
		{Is(AccessLabels, "x"), false},
		{Present(AccessOrgs), false},        // absent
		{NoneOf(Is(AccessOrgs, "x")), true}, // not of a leaf on an absent field
		{Compare("sp.date.lo", Ge, day), true},
		{Compare("sp.date.lo", Gt, day), false},
		{Compare("sp.date.lo", Gt, int64(0)), false}, // a time is not a number
		{Compare("sp.v", Lt, float64(5.45)), true},
		{Compare("sp.n", Ge, float64(2.5)), true}, // numbers of either type compare
		{Is("sp.n", float64(3)), true},
		{Compare("sp.n", Gt, "2"), false}, // a number is never greater than a string
		{Compare("sp.name.n", Prefix, "o'b"), true},
		{Compare("sp.name.n", Contains, "han"), true},
		{Compare("sp.name.n", Prefix, "han"), false},
		{Compare("sp.v", Prefix, "5"), false},
	} {
		if got := tc.n.Eval(rec); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.n, got, tc.want)
		}
	}
}

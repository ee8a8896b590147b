package policy

import (
	"errors"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestResidualShapes compiles residual bodies as partial evaluation leaves
// them and checks each against Rego's meaning on records, including the
// shapes it must refuse rather than guess at.
func TestResidualShapes(t *testing.T) {
	rec := func(cats []string, c Context) *record {
		return &record{typ: "CarePlan", r: &ResourceAttributes{Patient: "Patient/p", Categories: cats, Labels: []string{}, AuthorOrgs: []string{}}, c: &c}
	}
	type probe struct {
		rec  *record
		want bool
	}
	tests := []struct {
		note   string
		body   string
		probes []probe // none: the body must be refused
	}{
		{"constant in an attribute", `internal.member_2("a", input.resource.categories)`,
			[]probe{{rec([]string{"b", "a"}, Context{}), true}, {rec([]string{"b"}, Context{}), false}}},
		{"a fact", `input.context.related = true`,
			[]probe{{rec(nil, Context{Related: true}), true}, {rec(nil, Context{}), false}}},
		{"the patient in an unset list is undefined", `internal.member_2(input.resource.patient, input.context.related_patients)`,
			[]probe{{rec(nil, Context{}), false}, {rec(nil, Context{RelatedPatients: []string{"Patient/p"}}), true}}},
		{"not of an undefined membership holds", `not internal.member_2(input.resource.patient, input.context.objected_patients)`,
			[]probe{{rec(nil, Context{}), true}, {rec(nil, Context{ObjectedPatients: []string{"Patient/p"}}), false}}},
		{"some element outside a set (generator after its use)", `not internal.member_2(x, {"a", "b"}); x = input.resource.categories[i]`,
			[]probe{{rec([]string{"a", "b"}, Context{}), false}, {rec([]string{"a", "z"}, Context{}), true}, {rec([]string{}, Context{}), false}}},
		{"a missing attribute is undefined", `input.resource.nonexistent = "x"`,
			[]probe{{rec(nil, Context{}), false}}},
		{"a missing attribute is undefined, negated", `not input.resource.nonexistent = "x"`,
			[]probe{{rec(nil, Context{}), true}}},
		{"a boolean is never in a list of strings", `internal.member_2(true, input.resource.categories)`,
			[]probe{{rec([]string{"true"}, Context{}), false}}},
		{"array attribute against a set", `input.resource.categories = {"a"}`, nil},
		{"another built-in", `startswith(input.resource.patient, "Patient/")`, nil},
		{"a free variable", `input.resource.patient = x`, nil},
		{"an index used twice", `x = input.resource.categories[i]; i = 0`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			holds, err := newResidual(nil).queries([]ast.Body{ast.MustParseBody(tt.body)})
			if tt.probes == nil {
				if !errors.Is(err, ErrUntranslatable) {
					t.Fatalf("compiled %q (err %v); want it refused", tt.body, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.probes {
				if got := holds(p.rec); got != p.want {
					t.Errorf("%q on categories %q, facts %+v: %v, want %v", tt.body, p.rec.r.Categories, *p.rec.c, got, p.want)
				}
			}
		})
	}
}

package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// A search naming its patient is restricted with that patient's facts
// only; it must return exactly what the search over every patient's
// facts returns for that patient, for every kind of caller, including a
// patient who objected and one the caller has no relationship with.
func TestSearchForOnePatientEqualsSearchForAll(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	tokens := map[string]string{
		"gp":            gpToken(t, "R0260", "TREAT"),
		"trust":         mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "TREAT"}),
		"social worker": councilToken(t, "R1330", "TREAT"),
		"agency":        mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYNH1", Role: "R1460", Purpose: "TREAT"}),
	}
	for name, tok := range tokens {
		e.token = tok
		for _, typ := range []string{"Encounter", "Observation", "MedicationAdministration", "CarePlan"} {
			all := e.searchAll(t, "/"+typ+"?_count=1000")
			seen := 0
			for _, p := range people {
				one := e.searchAll(t, "/"+typ+"?patient="+strings.TrimPrefix(p.patient, "Patient/")+"&_count=1000")
				mine := map[string]bool{}
				for _, r := range p.byType[typ] {
					mine[typ+"/"+r.ID] = true
				}
				var want []string
				for _, id := range all.ids {
					if mine[id] {
						want = append(want, id)
					}
				}
				got := slices.Clone(one.ids)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s, %s of %s: patient search %v, search of all %v", name, typ, p.patient, got, want)
				}
				seen += len(got)
			}
			if (name == "gp" || name == "social worker") && typ == "Encounter" && seen == 0 {
				t.Errorf("%s sees no %s at all: the comparison says nothing", name, typ)
			}
		}
	}
}

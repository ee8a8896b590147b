package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// TestWriteRejectsBrokenInvariant posts, as a council social worker under
// the baseline policy, an Observation about a person the council knows:
// with both valueQuantity and dataAbsentReason it breaks R4's obs-6 and is
// refused with a 422 naming the key, and nothing is stored; without the
// dataAbsentReason the same write is created.
func TestWriteRejectsBrokenInvariant(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	p := loadPeople(t, e)["01"]
	e.token = councilToken(t, "R1330", "TREAT")
	obs := func(extra string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"Weight"},"subject":{"reference":"` + p.patient + `"},` +
			`"identifier":[{"system":"https://example.org/obs","value":"inv-1"}],"valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}` + extra + `}`
	}
	search := "/Observation?identifier=" + "https://example.org/obs|inv-1"

	r := e.do(http.MethodPost, "/Observation", obs(`,"dataAbsentReason":{"text":"not asked"}`))
	e.mustStatus(r, http.StatusUnprocessableEntity)
	issues := outcome(t, r)
	if len(issues) != 1 || issues[0]["code"] != "invariant" || !strings.HasPrefix(issues[0]["diagnostics"].(string), "obs-6: ") {
		t.Fatalf("issues = %v, want one invariant issue naming obs-6", issues)
	}
	if expr, _ := issues[0]["expression"].([]any); len(expr) != 1 || expr[0] != "Observation" {
		t.Errorf("expression = %v, want [Observation]", issues[0]["expression"])
	}
	if got := e.searchAll(t, search); len(got.ids) != 0 {
		t.Fatalf("the refused Observation was stored: %v", got.ids)
	}

	r = e.do(http.MethodPost, "/Observation", obs(""))
	e.mustStatus(r, http.StatusCreated)
	if got := e.searchAll(t, search); len(got.ids) != 1 {
		t.Fatalf("the valid Observation: search found %v, want it once", got.ids)
	}
}

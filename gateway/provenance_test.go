package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// An NHS system that may see a person's care record can find who wrote it:
// the Provenance of each entry is searchable by patient and follows the
// person's record through the policy.
func TestProvenanceFollowsTheRecord(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01 := people["01"]
	e.token = gpToken(t, "R0260", "TREAT")
	id := strings.TrimPrefix(p01.patient, "Patient/")
	r := e.do("GET", "/Provenance?patient="+id+"&_total=accurate", "")
	e.mustStatus(r, http.StatusOK)
	total, _ := r.json(t)["total"].(float64)
	if want := len(p01.byType["Provenance"]); int(total) != want {
		t.Fatalf("GP sees %v Provenance for the patient, want all %d", total, want)
	}
	r = e.do("GET", "/CarePlan?patient="+id+"&_revinclude=Provenance:target", "")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"resourceType":"Provenance"`) {
		t.Fatalf("no Provenance included with the care plan: %s", r.Body)
	}
	// A hospital with no relationship sees none of it.
	e.token = mintTrust(t)
	r = e.do("GET", "/Provenance?patient="+id+"&_total=accurate", "")
	e.mustStatus(r, http.StatusOK)
	if total, _ := r.json(t)["total"].(float64); total != 0 {
		t.Fatalf("a hospital with no relationship sees %v Provenance", total)
	}
}

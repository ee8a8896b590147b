package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// The audit issue's "done when", as a new user would try it: after a GP
// reads a care plan, a hospital is refused, and a clinician breaks glass,
// the IG lead sees all three with reasons and marks the break glass
// reviewed; the person sees who looked at their record; editing an audit
// record in the database is caught by the verifier.
func TestAuditStory(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01 := people["01"]
	carePlan := "/" + p01.first(t, "CarePlan", nil)
	patientID := strings.TrimPrefix(p01.patient, "Patient/")

	as := func(token, method, path, body string, headers ...string) *response {
		t.Helper()
		return e.do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
	}
	gp := gpToken(t, "R0260", "TREAT")
	hospital := mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "TREAT"})
	btg := mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed at home, brought in unconscious"})
	ig := councilToken(t, "R5105", "HOPERAT")
	person := mint(t, auth.DevClaims{Kind: auth.ShapePerson, NHSNumber: p01.nhs})

	e.mustStatus(as(gp, "GET", carePlan, ""), http.StatusOK)
	refused := as(hospital, "GET", carePlan, "")
	e.mustStatus(refused, http.StatusForbidden)
	e.mustStatus(as(btg, "GET", carePlan, ""), http.StatusOK)

	// The IG lead sees the three accesses with their reasons.
	r := as(ig, "GET", "/AuditEvent?patient="+patientID+"&_count=50", "")
	e.mustStatus(r, http.StatusOK)
	body := string(r.Body)
	for _, want := range []string{"Y99001", "RJ1", "collapsed at home", "REL-3-relationship", "PURPOSE-2-break-glass", "110113"} {
		if !strings.Contains(body, want) {
			t.Errorf("the IG lead's AuditEvent search lacks %q", want)
		}
	}
	// A GP may not search the audit trail.
	e.mustStatus(as(gp, "GET", "/AuditEvent?patient="+patientID, ""), http.StatusForbidden)

	// The break glass awaits review; the IG lead records the outcome once.
	r = as(ig, "GET", "/AuditEvent/$break-glass-pending", "")
	e.mustStatus(r, http.StatusOK)
	pending := asSlice(r.json(t)["entry"])
	if len(pending) != 1 {
		t.Fatalf("%d break-glass accesses pending, want 1: %s", len(pending), r.Body)
	}
	id := pending[0].(map[string]any)["resource"].(map[string]any)["id"].(string)
	review := `{"resourceType":"Parameters","parameter":[{"name":"justified","valueBoolean":true},{"name":"note","valueString":"ED attendance confirmed"}]}`
	e.mustStatus(as(ig, "POST", "/AuditEvent/"+id+"/$review", review), http.StatusOK)
	e.mustStatus(as(ig, "POST", "/AuditEvent/"+id+"/$review", review), http.StatusConflict)
	r = as(ig, "GET", "/AuditEvent/$break-glass-pending", "")
	if n := len(asSlice(r.json(t)["entry"])); n != 0 {
		t.Fatalf("%d still pending after review", n)
	}
	// The verdict is read back from the trail, on the reviewed record.
	r = as(ig, "GET", "/AuditEvent?entity=AuditEvent/"+id, "")
	e.mustStatus(r, http.StatusOK)
	if reviews := asSlice(r.json(t)["entry"]); len(reviews) != 1 || !strings.Contains(string(r.Body), `"review-verdict","valueString":"justified"`) ||
		!strings.Contains(string(r.Body), "ED attendance confirmed") {
		t.Fatalf("the review read back: %s", r.Body)
	}
	e.mustStatus(as(gp, "GET", "/AuditEvent?entity=AuditEvent/"+id, ""), http.StatusForbidden)
	e.mustStatus(as(ig, "GET", "/AuditEvent?entity=CarePlan/x", ""), http.StatusBadRequest)

	// The person sees who looked at their record, as FHIR and as a page,
	// and cannot ask about someone else.
	r = as(person, "GET", "/Patient/"+patientID+"/$who-accessed", "")
	e.mustStatus(r, http.StatusOK)
	for _, want := range []string{"Y99001", "RJ1", "R0260", "BTG"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("$who-accessed lacks %q: %s", want, r.Body)
		}
	}
	r = as(person, "GET", "/Patient/"+patientID+"/$who-accessed?_format=html", "")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), "Who has looked at your record") {
		t.Errorf("page: %s", r.Body)
	}
	other := strings.TrimPrefix(people["02"].patient, "Patient/")
	if r := as(person, "GET", "/Patient/"+other+"/$who-accessed", ""); r.Status != http.StatusForbidden {
		t.Errorf("a person asked who saw someone else's record: %d", r.Status)
	}

	// Editing an audit record directly in the database is caught.
	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("chain does not verify before tampering: %s", out)
	}
	e.tamperAudit("org", "RJ1", "Y99001")
	if ok, out := e.verifyAudit(); ok || !strings.Contains(out, "altered: content does not match its hash") {
		t.Fatalf("edit not caught: %s", out)
	}
}

// Changing a break-glass review's verdict in the database is caught by the
// verifier: the verdict is in the hash chain.
func TestReviewVerdictTamperingIsCaught(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	btg := mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed at home"})
	ig := "Bearer " + councilToken(t, "R5105", "HOPERAT")
	e.mustStatus(e.do("GET", "/"+people["01"].first(t, "CarePlan", nil), "", "Authorization", "Bearer "+btg), http.StatusOK)
	r := e.do("GET", "/AuditEvent/$break-glass-pending", "", "Authorization", ig)
	pending := asSlice(r.json(t)["entry"])
	if len(pending) != 1 {
		t.Fatalf("%d pending: %s", len(pending), r.Body)
	}
	id := pending[0].(map[string]any)["resource"].(map[string]any)["id"].(string)
	review := `{"resourceType":"Parameters","parameter":[{"name":"justified","valueBoolean":false},{"name":"note","valueString":"no emergency on record"}]}`
	e.mustStatus(e.do("POST", "/AuditEvent/"+id+"/$review", review, "Authorization", ig), http.StatusOK)
	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("chain does not verify before tampering: %s", out)
	}
	e.tamperAudit("vdt", "not-justified", "justified")
	if ok, out := e.verifyAudit(); ok || !strings.Contains(out, "altered") {
		t.Fatalf("a changed verdict was not caught: %s", out)
	}
}

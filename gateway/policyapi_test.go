package gateway_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
)

// policyInstances are two gateways on one database, each serving the
// active policy version through its own loader: two instances.
type policyInstances struct {
	one, two         *env
	loadOne, loadTwo *versions.Loader
	seed             string
}

func newPolicyInstances(t *testing.T) *policyInstances {
	t.Helper()
	base := openEngine(t, "")
	files, err := policy.ReadFiles("../policy")
	if err != nil {
		t.Fatal(err)
	}
	w := &versions.Workflow{Store: base.eng.Policies, Audit: base.eng.Audit}
	seed, err := w.Seed(t.Context(), files)
	if err != nil {
		t.Fatal(err)
	}
	load := func() *versions.Loader {
		l, err := versions.NewLoader(t.Context(), base.eng.Policies, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	p := &policyInstances{loadOne: load(), loadTwo: load(), seed: seed}
	w.Policy = p.loadOne
	p.one = base.serve(t, gateway.Config{Policy: p.loadOne, PolicyVersions: w}, nil)
	p.two = base.serve(t, gateway.Config{Policy: p.loadTwo, PolicyVersions: w}, nil)
	return p
}

// asToken sends a request with another token.
func (e *env) as(token, method, path, body string, headers ...string) *response {
	e.t.Helper()
	return e.do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// proposalBody is the baseline policy with a record category taken from
// a role class, as a proposal's JSON.
func proposalBody(t *testing.T, class, category string) string {
	t.Helper()
	files, err := policy.ReadFiles("../policy")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(files[policy.DataFile], &d); err != nil {
		t.Fatal(err)
	}
	cls := d["dsa"].(map[string]any)["role_classes"].(map[string]any)[class].(map[string]any)
	cls["categories"] = slices.DeleteFunc(cls["categories"].([]any), func(c any) bool { return c == category })
	body := map[string]any{"note": class + " stop reading " + category, "modules": map[string]string{}, "tests": map[string]string{}, "data": d}
	for n, b := range files {
		switch {
		case strings.HasSuffix(n, "_test.rego"):
			body["tests"].(map[string]string)[n] = string(b)
		case n != policy.DataFile:
			body["modules"].(map[string]string)[n] = string(b)
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPolicyVersionsTwoPeopleEveryInstance(t *testing.T) {
	p := newPolicyInstances(t)
	people := loadPeople(t, p.one)
	var medAdmin string
	for _, k := range []string{"01", "02", "03"} {
		if len(people[k].byType["MedicationAdministration"]) > 0 {
			medAdmin = "/" + people[k].first(t, "MedicationAdministration", nil)
			break
		}
	}
	var (
		igLead    = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-ig", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"})
		caldicott = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-cg", Org: "SYN01", Role: "R5105", Purpose: "HOPERAT"})
		social    = councilToken(t, "R1330", "TREAT")
		carer     = councilToken(t, "R1460", "TREAT")
	)
	p.one.mustStatus(p.one.as(carer, "GET", medAdmin, ""), 200)

	// Only IG leads and approvers see the versions.
	r := p.one.as(social, "GET", "/policy/versions", "")
	p.one.mustStatus(r, 403)
	if d := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(d, "POLICY-10-manage") {
		t.Errorf("refusal says %q, want it to name POLICY-10-manage", d)
	}
	r = p.one.as(igLead, "GET", "/policy/versions", "")
	p.one.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `"state":"active"`) || !strings.Contains(string(r.Body), p.seed) {
		t.Fatalf("versions: %s", r.Body)
	}

	r = p.one.as(igLead, "POST", "/policy/versions", proposalBody(t, "care", "medication"))
	p.one.mustStatus(r, 201)
	id := r.json(t)["id"].(string)
	path := "/policy/versions/" + id
	if r.json(t)["parent"] != p.seed {
		t.Fatalf("parent %v, want %s", r.json(t)["parent"], p.seed)
	}
	p.one.mustStatus(p.one.as(igLead, "POST", "/policy/versions", proposalBody(t, "care", "medication")), 409)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$activate", ""), 409) // a draft

	r = p.one.as(igLead, "GET", path+"/$diff", "")
	p.one.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "-          \"medication\",") || !strings.Contains(string(r.Body), "+++ b/data.json") {
		t.Errorf("diff does not show medication leaving data.json:\n%s", r.Body)
	}

	r = p.one.as(igLead, "POST", path+"/$test", "")
	p.one.mustStatus(r, 200)
	if r.json(t)["state"] != versions.Tested {
		t.Fatalf("after $test: %s", r.Body)
	}

	// The author cannot approve; an IG lead without the approver role
	// cannot either; the Caldicott Guardian can.
	r = p.one.as(igLead, "POST", path+"/$approve", `{"note":"mine"}`)
	p.one.mustStatus(r, 403)
	if d := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(d, "POLICY-11-approve") {
		t.Errorf("IG lead approving: %q", d)
	}
	p.one.mustStatus(p.one.as(caldicott, "POST", path+"/$approve", `{"note":"agreed at the IG board"}`), 200)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$activate", ""), 200)

	// Instance one enforces it at once; instance two after its poll.
	p.one.mustStatus(p.one.as(carer, "GET", medAdmin, ""), 403)
	p.two.mustStatus(p.two.as(carer, "GET", medAdmin, ""), 200)
	if err := p.loadTwo.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	r = p.two.as(carer, "GET", medAdmin, "")
	p.two.mustStatus(r, 403)
	if d := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(d, "sha256:"+id) {
		t.Errorf("refusal names %q, want revision sha256:%s", d, id)
	}

	// Rollback in one step.
	p.one.mustStatus(p.one.as(caldicott, "POST", "/policy/versions/"+p.seed+"/$rollback", ""), 200)
	if err := p.loadTwo.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	p.two.mustStatus(p.two.as(carer, "GET", medAdmin, ""), 200)
	p.one.mustStatus(p.one.as(carer, "GET", medAdmin, ""), 200)
}

func TestPolicyVersionAuthorCannotApprove(t *testing.T) {
	p := newPolicyInstances(t)
	caldicott := mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-cg", Org: "SYN01", Role: "R5105", Purpose: "HOPERAT"})
	// A version whose Rego tests fail stays a draft.
	r := p.one.as(caldicott, "POST", "/policy/versions", proposalBody(t, "clinical", "care-plan"))
	p.one.mustStatus(r, 201)
	failing := "/policy/versions/" + r.json(t)["id"].(string)
	r = p.one.as(caldicott, "POST", failing+"/$test", "")
	p.one.mustStatus(r, 422)
	if d := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(d, "test_ntk_clinical_sees_care_records: failed") {
		t.Errorf("failed test: %q", d)
	}
	if st := p.one.as(caldicott, "GET", failing, "").json(t)["state"]; st != versions.Draft {
		t.Errorf("a version failing its tests is %v, want draft", st)
	}

	r = p.one.as(caldicott, "POST", "/policy/versions", proposalBody(t, "care", "medication"))
	p.one.mustStatus(r, 201)
	path := "/policy/versions/" + r.json(t)["id"].(string)
	p.one.mustStatus(p.one.as(caldicott, "POST", path+"/$test", ""), 200)
	r = p.one.as(caldicott, "POST", path+"/$approve", "")
	p.one.mustStatus(r, 403)
	if d := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(d, "you proposed this version") {
		t.Errorf("author approving: %q", d)
	}
}

// The audit records of reads and searches keep what each decision saw:
// replayed under the version that made them, nothing flips and every
// replay is exact; under a version that takes medication from carers,
// the carer's medication reads flip.
func TestAuditedDecisionsReplayExactly(t *testing.T) {
	p := newPolicyInstances(t)
	people := loadPeople(t, p.one)
	carer := councilToken(t, "R1460", "TREAT")
	gp := gpToken(t, "R0260", "TREAT")
	for _, k := range []string{"01", "02", "03"} {
		for _, typ := range []string{"MedicationAdministration", "CarePlan", "Encounter"} {
			for _, tok := range []string{carer, gp} {
				p.one.as(tok, "GET", "/"+typ+"?patient="+people[k].patient, "")
			}
		}
		p.one.as(gp, "GET", "/"+people[k].first(t, "CarePlan", nil), "")
	}
	ctx := t.Context()
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	rep, err := versions.Impact(ctx, p.loadOne.Current(), p.one.eng.Audit, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replayed == 0 || rep.Refused.Count != 0 || rep.Allowed.Count != 0 || rep.Inexact != 0 {
		t.Fatalf("replay under the recording version: %d replayed, %d/%d flipped, %d inexact", rep.Replayed, rep.Refused.Count, rep.Allowed.Count, rep.Inexact)
	}
	files, err := policy.ReadFiles("../policy")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(proposalBody(t, "care", "medication")), &body); err != nil {
		t.Fatal(err)
	}
	files[policy.DataFile] = body.Data
	cand, err := policy.LoadFiles(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = versions.Impact(ctx, cand, p.one.eng.Audit, from, to)
	if err != nil {
		t.Fatal(err)
	}
	med := rep.Refused.Category["medication"]
	if med == nil || med.Count == 0 || rep.Refused.Role["R1460"] == nil || rep.Refused.Role["R0260"] != nil || rep.Allowed.Count != 0 {
		t.Fatalf("replay without carers' medication: %+v", rep.Refused)
	}

	// The same through the API, for a proposed version.
	igLead := mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-ig", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"})
	r := p.one.as(igLead, "POST", "/policy/versions", proposalBody(t, "care", "medication"))
	p.one.mustStatus(r, 201)
	r = p.one.as(igLead, "GET", "/policy/versions/"+r.json(t)["id"].(string)+"/$impact?since=1h", "")
	p.one.mustStatus(r, 200)
	var api versions.ImpactReport
	if err := json.Unmarshal(r.Body, &api); err != nil {
		t.Fatal(err)
	}
	if api.Refused.Count != rep.Refused.Count || api.Refused.Category["medication"].Count != med.Count || len(api.Refused.Category["medication"].Examples) == 0 {
		t.Fatalf("API impact %+v, want the flips of the direct replay (%d)", api.Refused, rep.Refused.Count)
	}
	p.one.mustStatus(p.one.as(igLead, "GET", "/policy/versions/"+p.seed+"/$impact?since=soon", ""), 400)
}

// A version in shadow is decided beside the active one on live traffic:
// the carers' reads of medication records go on being allowed, and the
// shadow report counts each as one the candidate would refuse.
func TestPolicyShadowOnLiveTraffic(t *testing.T) {
	p := newPolicyInstances(t)
	p.one.eng.Audit.SetObserver(p.loadOne.Observe)
	people := loadPeople(t, p.one)
	var medAdmin string
	for _, k := range []string{"01", "02", "03"} {
		if len(people[k].byType["MedicationAdministration"]) > 0 {
			medAdmin = "/" + people[k].first(t, "MedicationAdministration", nil)
			break
		}
	}
	var (
		igLead = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-ig", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"})
		social = councilToken(t, "R1330", "TREAT")
		carer  = councilToken(t, "R1460", "TREAT")
	)
	r := p.one.as(igLead, "POST", "/policy/versions", proposalBody(t, "care", "medication"))
	p.one.mustStatus(r, 201)
	path := "/policy/versions/" + r.json(t)["id"].(string)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$shadow", ""), 409) // a draft
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$test", ""), 200)
	p.one.mustStatus(p.one.as(social, "POST", path+"/$shadow", ""), 403)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$shadow", ""), 200)

	for range 3 {
		p.one.mustStatus(p.one.as(carer, "GET", medAdmin, ""), 200) // nothing is enforced
	}
	var rep map[string]any
	for range 100 { // the shadow compares off the requests' path
		r = p.one.as(igLead, "GET", path+"/$shadow", "")
		p.one.mustStatus(r, 200)
		rep = r.json(t)
		if refused := rep["now_refused"].(map[string]any); refused["count"].(float64) >= 3 && rep["pending"].(float64) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	refused := rep["now_refused"].(map[string]any)
	if refused["count"].(float64) != 3 || rep["dropped"].(float64) != 0 {
		t.Fatalf("shadow report: %v", rep)
	}
	if cats := refused["by_category"].(map[string]any); cats["medication"] == nil {
		t.Errorf("shadow flips by category: %v", cats)
	}
	if n := rep["now_allowed"].(map[string]any)["count"].(float64); n != 0 {
		t.Errorf("the shadow would allow %v decisions the active version refused; taking a category away allows nothing", n)
	}

	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$shadow-stop", ""), 200)
	p.one.mustStatus(p.one.as(igLead, "GET", path+"/$shadow", ""), 404)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$shadow-stop", ""), 409)
}

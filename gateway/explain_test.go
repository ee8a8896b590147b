package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// auditIDWhere is the id of the audit record, among those about patient,
// whose AuditEvent holds every one of want.
func auditIDWhere(t *testing.T, e *env, token, patientID string, want ...string) string {
	t.Helper()
	q := "/AuditEvent?_count=100"
	if patientID != "" {
		q += "&patient=" + patientID
	}
	r := e.do("GET", q, "", "Authorization", "Bearer "+token)
	e.mustStatus(r, http.StatusOK)
	for _, en := range asSlice(r.json(t)["entry"]) {
		res := en.(map[string]any)["resource"].(map[string]any)
		raw, _ := json.Marshal(res)
		if !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(string(raw), w) }) {
			return res["id"].(string)
		}
	}
	t.Fatalf("no audit record about %s holds %q: %s", patientID, want, r.Body)
	return ""
}

type explained struct {
	AuditID   string `json:"audit_id"`
	Revision  string `json:"revision"`
	Under     string `json:"under"`
	Changed   int    `json:"changed"`
	Note      string `json:"note"`
	Decisions []struct {
		WasAllowed  bool `json:"was_allowed"`
		Changed     bool `json:"changed"`
		Explanation struct {
			Decision struct {
				Allow bool `json:"allow"`
			} `json:"decision"`
			Rules []struct {
				ID, Title, Description, Outcome string
				Disclosed                       bool
			} `json:"rules"`
			Facts struct {
				Relationship string `json:"relationship"`
				RoleClass    string `json:"role_class"`
				OrgKind      string `json:"organisation_kind"`
			} `json:"facts"`
			Obligations []struct{ Code, Plain string } `json:"obligations"`
		} `json:"explanation"`
	} `json:"decisions"`
}

func explainOf(t *testing.T, r *response) explained {
	t.Helper()
	var x explained
	if err := json.Unmarshal(r.Body, &x); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	if len(x.Decisions) == 0 {
		t.Fatalf("no decisions explained: %s", r.Body)
	}
	return x
}

func ruleIDs(x explained, i int) []string {
	var ids []string
	for _, r := range x.Decisions[i].Explanation.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

// An IG lead explains audited decisions through HTTP: a GP's read
// (allowed, the relationship rules in words), a hospital's refusal
// (REL-3), a break-glass read (its obligations); as JSON and as a page.
// Only the audit-reading roles may; an old record without decision
// inputs is a 422 saying it cannot be replayed.
func TestExplainAuditedDecisions(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	p01 := loadPeople(t, e)["01"]
	carePlan := "/" + p01.first(t, "CarePlan", nil)
	patientID := strings.TrimPrefix(p01.patient, "Patient/")
	gp := gpToken(t, "R0260", "TREAT")
	hospital := mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "TREAT"})
	btg := mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RYQ", Role: "R8000", Purpose: "BTG", BreakGlassReason: "unconscious on arrival"})
	ig := councilToken(t, "R5105", "HOPERAT")
	as := func(token, method, path, body string, headers ...string) *response {
		t.Helper()
		return e.do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
	}
	e.mustStatus(as(gp, "GET", carePlan, ""), http.StatusOK)
	e.mustStatus(as(hospital, "GET", carePlan, ""), http.StatusForbidden)
	e.mustStatus(as(btg, "GET", carePlan, ""), http.StatusOK)

	gpRead := auditIDWhere(t, e, ig, patientID, "Y99001", "REL-3-relationship")
	r := as(ig, "GET", "/AuditEvent/"+gpRead+"/$explain", "")
	e.mustStatus(r, http.StatusOK)
	x := explainOf(t, r)
	d := x.Decisions[0]
	if x.AuditID != gpRead || x.Under != "recorded" || x.Changed != 0 || !d.WasAllowed || !d.Explanation.Decision.Allow {
		t.Fatalf("GP read explained: %s", r.Body)
	}
	if ids := ruleIDs(x, 0); !slices.Contains(ids, "REL-3-relationship") || !slices.Contains(ids, "OBJ-5-objection") {
		t.Errorf("GP read rules %v", ids)
	}
	for _, rule := range d.Explanation.Rules {
		if rule.ID == "REL-3-relationship" && (rule.Title != "A care relationship is needed" || rule.Outcome != "allowed") {
			t.Errorf("REL-3: %+v", rule)
		}
	}
	if f := d.Explanation.Facts; f.Relationship != "yes" || f.RoleClass != "clinical" || f.OrgKind != "gp-practice" {
		t.Errorf("GP read facts %+v", f)
	}
	r = as(ig, "GET", "/AuditEvent/"+gpRead+"/$explain?_format=html", "")
	e.mustStatus(r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") ||
		!strings.Contains(string(r.Body), "A care relationship is needed") || !strings.Contains(string(r.Body), "registered with the GP practice") {
		t.Errorf("page (%s): %s", ct, r.Body)
	}

	refused := auditIDWhere(t, e, ig, patientID, "RJ1", `"outcome":"8"`)
	x = explainOf(t, as(ig, "GET", "/AuditEvent/"+refused+"/$explain?revision=active", ""))
	if x.Under != "active" || x.Decisions[0].WasAllowed || x.Decisions[0].Explanation.Decision.Allow || !slices.Contains(ruleIDs(x, 0), "REL-3-relationship") {
		t.Errorf("hospital refusal explained: %+v", x)
	}

	bg := auditIDWhere(t, e, ig, patientID, "RYQ", "PURPOSE-2-break-glass")
	x = explainOf(t, as(ig, "GET", "/AuditEvent/"+bg+"/$explain", ""))
	var obl []string
	for _, o := range x.Decisions[0].Explanation.Obligations {
		obl = append(obl, o.Code)
	}
	if !slices.Equal(obl, []string{"audit-break-glass", "review-break-glass"}) {
		t.Errorf("break glass obligations %v", obl)
	}

	// Only the audit-reading roles explain; a bad revision is a 400; an
	// unknown record a 404.
	e.mustStatus(as(gp, "GET", "/AuditEvent/"+gpRead+"/$explain", ""), http.StatusForbidden)
	e.mustStatus(as(ig, "GET", "/AuditEvent/"+gpRead+"/$explain?revision=yesterday", ""), http.StatusBadRequest)
	e.mustStatus(as(ig, "GET", "/AuditEvent/0000000000000000000000000000abcd/$explain", ""), http.StatusNotFound)

	// A record written before decision inputs were kept.
	old, err := e.eng.Audit.Record(context.Background(), audit.Entry{Interaction: "read", ResourceType: "CarePlan",
		Agent: audit.Agent{Kind: audit.KindUser, Org: "Y99001", Role: "R0260", Purpose: "TREAT"}, Patients: []string{p01.patient},
		Decision: audit.Decision{Allowed: true, Reasons: []string{"REL-3-relationship"}}})
	if err != nil {
		t.Fatal(err)
	}
	r = as(ig, "GET", "/AuditEvent/"+old+"/$explain", "")
	e.mustStatus(r, http.StatusUnprocessableEntity)
	if diag := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(diag, "cannot be replayed") {
		t.Errorf("old record: %q", diag)
	}

	// Explaining is itself audited.
	if id := auditIDWhere(t, e, ig, "", "$explain", "AuditEvent/"+gpRead); id == "" {
		t.Error("no audit record of the explanation")
	}
}

// A hypothetical input explained by the policy's managers; others are
// refused by POLICY-10-manage.
func TestExplainHypotheticalInput(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	ig := councilToken(t, "R0001", "HOPERAT")
	social := councilToken(t, "R1330", "TREAT")
	in := `{"action":"read","subject":{"kind":"user","org":"G81001","role":"R8001","purpose":"TREAT"},
		"resource":{"type":"CarePlan","patient":"Patient/p1","categories":["care-plan"]},"context":{"related":true,"objected":true}}`
	r := e.do("POST", "/policy/$explain", in, "Authorization", "Bearer "+ig)
	e.mustStatus(r, http.StatusOK)
	var x struct {
		Decision struct {
			Allow     bool     `json:"allow"`
			Disclosed []string `json:"disclosed"`
		} `json:"decision"`
		Rules []struct {
			ID        string `json:"id"`
			Disclosed bool   `json:"disclosed"`
		} `json:"rules"`
		Summary string `json:"summary"`
	}
	if err := json.Unmarshal(r.Body, &x); err != nil {
		t.Fatal(err)
	}
	if x.Decision.Allow || len(x.Rules) != 1 || x.Rules[0].ID != "OBJ-5-objection" || !x.Rules[0].Disclosed || !strings.Contains(x.Summary, "objection") {
		t.Errorf("objection explained: %s", r.Body)
	}
	r = e.do("POST", "/policy/$explain", in, "Authorization", "Bearer "+social)
	e.mustStatus(r, http.StatusForbidden)
	if d := outcome(t, r)[0]["diagnostics"].(string); !strings.Contains(d, "POLICY-10-manage") {
		t.Errorf("refusal %q", d)
	}
	e.mustStatus(e.do("POST", "/policy/$explain", `{"actor":"x"}`, "Authorization", "Bearer "+ig), http.StatusBadRequest)
	r = e.do("POST", "/policy/$explain", in, "Authorization", "Bearer "+ig, "Accept", "text/html")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(string(r.Body), "The person&#39;s objection is respected") {
		t.Errorf("page: %s", r.Body)
	}
}

// medicationRow is the rights page's row for help with medication.
var medicationRow = regexp.MustCompile(`<tr><td>help with medication</td><td>[^<]*</td></tr>`)

// The rights page is public and generated from the live policy: when a
// version that takes medication from care workers is activated, the page
// says so at once. The agreement page is for the policy's managers. An
// audited carer's medication read, explained under the revision that
// made it, was allowed; under the active version it would be refused.
func TestRightsPageFollowsActivation(t *testing.T) {
	p := newPolicyInstances(t)
	people := loadPeople(t, p.one)
	var medAdmin, patientID, nhs string
	for _, k := range []string{"01", "02", "03"} {
		if len(people[k].byType["MedicationAdministration"]) > 0 {
			medAdmin = "/" + people[k].first(t, "MedicationAdministration", nil)
			patientID, nhs = strings.TrimPrefix(people[k].patient, "Patient/"), people[k].nhs
			break
		}
	}
	igLead := mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-ig", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"})
	caldicott := mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-cg", Org: "SYN01", Role: "R5105", Purpose: "HOPERAT"})
	carer := councilToken(t, "R1460", "TREAT")
	p.one.mustStatus(p.one.as(carer, "GET", medAdmin, ""), 200)

	rights := func() string {
		t.Helper()
		r := p.one.do("GET", "/rights", "", "Authorization", "")
		p.one.mustStatus(r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("rights page is %s", ct)
		}
		return string(r.Body)
	}
	before := rights()
	row := medicationRow.FindString(before)
	if !strings.Contains(row, "care workers") {
		t.Fatalf("medication row before: %q", row)
	}
	for _, want := range []string{"How to object", "$who-accessed", "Ask for a correction", "subject access", "GP practices"} {
		if !strings.Contains(before, want) {
			t.Errorf("the rights page lacks %q", want)
		}
	}
	for _, secret := range []string{patientID, nhs, "AuditEvent/"} {
		if strings.Contains(before, secret) {
			t.Errorf("the public rights page reveals %q", secret)
		}
	}

	p.one.mustStatus(p.one.as(carer, "GET", "/policy/agreement", ""), http.StatusForbidden)
	r := p.one.as(igLead, "GET", "/policy/agreement?_format=html", "")
	p.one.mustStatus(r, http.StatusOK)
	if !strings.Contains(string(r.Body), "Emergency (break glass) access") || !strings.Contains(string(r.Body), "A care relationship is needed") {
		t.Errorf("agreement page: %s", r.Body)
	}

	r = p.one.as(igLead, "POST", "/policy/versions", proposalBody(t, "care", "medication"))
	p.one.mustStatus(r, 201)
	path := "/policy/versions/" + r.json(t)["id"].(string)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$test", ""), 200)
	p.one.mustStatus(p.one.as(caldicott, "POST", path+"/$approve", ""), 200)
	p.one.mustStatus(p.one.as(igLead, "POST", path+"/$activate", ""), 200)

	after := medicationRow.FindString(rights())
	if after == row || strings.Contains(after, "care workers") || !strings.Contains(after, "social workers") {
		t.Errorf("medication row after activation: %q (before %q)", after, row)
	}

	read := auditIDWhere(t, p.one, igLead, patientID, "R1460", "MedicationAdministration")
	x := explainOf(t, p.one.as(igLead, "GET", "/AuditEvent/"+read+"/$explain", ""))
	if x.Under != "recorded" || x.Revision != "sha256:"+p.seed || !x.Decisions[0].Explanation.Decision.Allow || x.Changed != 0 {
		t.Errorf("under the recorded revision: %+v", x)
	}
	x = explainOf(t, p.one.as(igLead, "GET", "/AuditEvent/"+read+"/$explain?revision=active", ""))
	if x.Under != "active" || x.Decisions[0].Explanation.Decision.Allow || x.Changed != 1 || !slices.Contains(ruleIDs(x, 0), "NTK-4-need-to-know") {
		t.Errorf("under the active version: %+v", x)
	}
}

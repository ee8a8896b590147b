package gateway_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/policy"
)

// carerNHS is the NHS number a carer signs in with (NHS login): from the
// never-issued 999 range, and no fixture person's.
const carerNHS = "9997700007"

// shareConsent is a Consent sharing categories of patient with the carer,
// on basis "OPTIN" (the person's consent) or "duty" (the council's legal
// duty), from start to end ("" for open).
func shareConsent(id, status, patient, basis, start, end string, cats ...string) string {
	rule := `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]}`
	policyURI := ""
	if basis == "duty" {
		rule = `{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/sharing-basis","code":"safeguarding-duty"}]}`
		policyURI = `"policy":[{"uri":"https://www.legislation.gov.uk/ukpga/2014/23/section/42"}],`
	}
	period := `"start":"` + start + `"`
	if end != "" {
		period += `,"end":"` + end + `"`
	}
	var classes []string
	for _, c := range cats {
		classes = append(classes, `{"system":"https://socialcare-fhir.example.org/CodeSystem/record-category","code":"`+c+`"}`)
	}
	idPart := ""
	if id != "" {
		idPart = `"id":"` + id + `",`
	}
	return `{"resourceType":"Consent",` + idPart + `"status":"` + status + `",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]},
  {"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/sharing-decision","code":"consent"}]}],
 "patient":{"reference":"` + patient + `"},"dateTime":"2026-01-05",` + policyURI + `
 "policyRule":` + rule + `,
 "provision":{"type":"permit","period":{` + period + `},
  "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},
   "reference":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + carerNHS + `"},"display":"Carer"}}],
  "class":[` + strings.Join(classes, ",") + `]}}`
}

// objectionConsent is the person's objection to sharing.
func objectionConsent(patient string) string {
	return `{"resourceType":"Consent","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/sharing-decision","code":"objection"}]}],
 "patient":{"reference":"` + patient + `"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},
 "provision":{"type":"deny"}}`
}

// A carer the person named in a consent to share reads what it covers,
// for its period, and nothing else; a withdrawal, a deletion or the end
// of the period stops it at the next request; the person's objection wins
// over their consent but not over the council's legal duty, which the
// audit trail records as the basis.
func TestThirdPartyShare(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01, p02 := people["01"], people["02"]
	ofCategory := func(p *person, typ, cat string) string {
		t.Helper()
		return "/" + p.first(t, typ, func(o map[string]any) bool {
			return slices.Equal(policy.Attributes(typ, o).Categories, []string{cat})
		})
	}
	carePlan := ofCategory(p01, "CarePlan", policy.CatCarePlan)
	otherPlan := ofCategory(p02, "CarePlan", policy.CatCarePlan)
	visit := ofCategory(p01, "Encounter", policy.CatVisit)

	carer := mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "carer-1", Purpose: "PATRQT", NHSNumber: carerNHS})
	council := councilToken(t, "R1330", "COC")
	ig := councilToken(t, "R5105", "HOPERAT")
	as := func(token, method, path, body string) *response {
		t.Helper()
		return e.do(method, path, body, "Authorization", "Bearer "+token)
	}
	status := func(token, path string, want int) {
		t.Helper()
		if r := as(token, "GET", path, ""); r.Status != want {
			t.Fatalf("GET %s: %d, want %d: %s", path, r.Status, want, r.Body)
		}
	}
	write := func(method, path, body string, want int) map[string]any {
		t.Helper()
		r := as(council, method, path, body)
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
		if len(r.Body) == 0 {
			return nil
		}
		return r.json(t)
	}
	searchIDs := func(path string) []string {
		t.Helper()
		r := as(carer, "GET", path, "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		ids, _ := entries(t, r)
		return ids
	}

	// Before any consent the carer is a stranger.
	status(carer, carePlan, http.StatusForbidden)

	created := write("POST", "/Consent", shareConsent("", "active", p01.patient, "OPTIN", "2020-01-01", "", policy.CatCarePlan), http.StatusCreated)
	consentID := created["id"].(string)

	// Reads what the consent covers.
	{
		status(carer, carePlan, http.StatusOK)
		status(carer, visit, http.StatusForbidden)     // another category
		status(carer, otherPlan, http.StatusForbidden) // another person
		status(carer, "/"+p01.patient, http.StatusForbidden)
		// The consent itself names the carer: never shown to them.
		status(carer, "/Consent/"+consentID, http.StatusForbidden)
		// A search counts only what is shared.
		ids := searchIDs("/CarePlan?_count=100")
		if len(ids) == 0 || !slices.Contains(ids, strings.TrimPrefix(carePlan, "/")) {
			t.Fatalf("search lacks the shared care plan: %v", ids)
		}
		for _, id := range ids {
			r := as(council, "GET", "/"+id, "")
			if got := policy.Attributes("CarePlan", r.json(t)); got.Patient != p01.patient || !slices.Equal(got.Categories, []string{policy.CatCarePlan}) {
				t.Errorf("search gave the carer %s (%s %v)", id, got.Patient, got.Categories)
			}
		}
		if ids := searchIDs("/Encounter?_count=100"); len(ids) != 0 {
			t.Errorf("visits shared that the consent does not cover: %v", ids)
		}
		// Carers read; they do not write.
		if r := as(carer, "PUT", carePlan, ""); r.Status < 400 {
			t.Errorf("carer PUT: %d", r.Status)
		}
	}

	// Audited with the basis.
	{
		r := as(ig, "GET", "/AuditEvent?patient="+strings.TrimPrefix(p01.patient, "Patient/")+"&_count=200", "")
		e.mustStatus(r, http.StatusOK)
		if !strings.Contains(string(r.Body), "SHARE-13-consent") {
			t.Errorf("the audit trail lacks the carer's access on consent")
		}
	}

	// Objection wins over consent, not over the legal duty.
	{
		obj := write("POST", "/Consent", objectionConsent(p01.patient), http.StatusCreated)
		status(carer, carePlan, http.StatusForbidden)
		duty := write("POST", "/Consent", shareConsent("", "active", p01.patient, "duty", "2020-01-01", "", policy.CatCarePlan), http.StatusCreated)
		status(carer, carePlan, http.StatusOK)
		r := as(ig, "GET", "/AuditEvent?patient="+strings.TrimPrefix(p01.patient, "Patient/")+"&_count=200", "")
		if !strings.Contains(string(r.Body), "SHARE-13-duty") {
			t.Errorf("the audit trail does not record the legal duty as the basis")
		}
		write("DELETE", "/Consent/"+duty["id"].(string), "", http.StatusNoContent)
		status(carer, carePlan, http.StatusForbidden)
		write("DELETE", "/Consent/"+obj["id"].(string), "", http.StatusNoContent)
		status(carer, carePlan, http.StatusOK)
	}

	// Withdrawn at the next request.
	{
		write("PUT", "/Consent/"+consentID, shareConsent(consentID, "inactive", p01.patient, "OPTIN", "2020-01-01", "", policy.CatCarePlan), http.StatusOK)
		status(carer, carePlan, http.StatusForbidden)
		if ids := searchIDs("/CarePlan"); len(ids) != 0 {
			t.Errorf("withdrawn, yet the search shows %v", ids)
		}
	}

	// Outside the period.
	{
		future := write("POST", "/Consent", shareConsent("", "active", p01.patient, "OPTIN", "2999-01-01", "", policy.CatCarePlan), http.StatusCreated)
		status(carer, carePlan, http.StatusForbidden)
		past := write("POST", "/Consent", shareConsent("", "active", p01.patient, "OPTIN", "2020-01-01", "2020-12-31", policy.CatCarePlan), http.StatusCreated)
		status(carer, carePlan, http.StatusForbidden)
		if ids := searchIDs("/CarePlan"); len(ids) != 0 {
			t.Errorf("outside the period, yet the search shows %v", ids)
		}
		// Deleted: nothing left either way.
		write("DELETE", "/Consent/"+future["id"].(string), "", http.StatusNoContent)
		write("DELETE", "/Consent/"+past["id"].(string), "", http.StatusNoContent)
		status(carer, carePlan, http.StatusForbidden)
	}
}

// A consent to share in another shape is refused whole, naming every
// problem.
func TestThirdPartyShareValidation(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	council := councilToken(t, "R1330", "COC")
	bad := shareConsent("", "active", people["01"].patient, "duty", "2020-01-01", "", "audit", "no-such-category")
	bad = strings.Replace(bad, `"policy":[{"uri":"https://www.legislation.gov.uk/ukpga/2014/23/section/42"}],`, "", 1)
	bad = strings.Replace(bad, `"code":"IRCP"`, `"code":"AUT"`, 1)
	bad = strings.Replace(bad, `"system":"https://fhir.nhs.uk/Id/nhs-number"`, `"system":"https://example.org/carers"`, 1)
	// And one the R4 validator finds: both kinds come in one outcome.
	bad = strings.Replace(bad, `"status":"active"`, `"status":"in-force"`, 1)
	r := e.do("POST", "/Consent", bad, "Authorization", "Bearer "+council)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var got []string
	for _, is := range outcome(t, r) {
		got = append(got, fmt.Sprint(is["expression"]))
	}
	for _, want := range []string{"Consent.status", "Consent.policy", "Consent.provision.actor[0].role", "Consent.provision.actor[0].reference.identifier",
		"Consent.provision.class[0].code", "Consent.provision.class[1].code"} {
		if !slices.Contains(got, "["+want+"]") {
			t.Errorf("no issue at %s: %v", want, got)
		}
	}
	// Nothing was stored.
	r = e.do("GET", "/Consent?patient="+people["01"].patient+"&category=https://socialcare-fhir.example.org/CodeSystem/sharing-decision|consent", "", "Authorization", "Bearer "+council)
	if ids, _ := entries(t, r); len(ids) != 0 {
		t.Errorf("an invalid consent was stored: %v", ids)
	}
}

// The people's rights page describes sharing with someone the person
// chooses, in the active policy's words.
func TestRightsPageDescribesThirdPartyShare(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	r := e.do("GET", "/rights", "")
	e.mustStatus(r, http.StatusOK)
	for _, want := range []string{"Sharing with someone you choose", "A named third party sees what the person consented to share",
		"A named third party sees what the council&#39;s legal duty shares"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the rights page lacks %q", want)
		}
	}
	r = e.do("GET", "/rights?_format=json", "")
	var ids []string
	for _, rule := range asSlice(r.json(t)["third_party"]) {
		ids = append(ids, rule.(map[string]any)["id"].(string))
	}
	if !slices.Equal(ids, []string{"SHARE-13-consent", "SHARE-13-duty"}) {
		t.Errorf("third-party rules %v", ids)
	}
}

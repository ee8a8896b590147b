package gateway_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/gateway"
)

// hasTag and hasLabel select translated resources by their meta.
func hasTag(system, code string) func(map[string]any) bool {
	return func(o map[string]any) bool { return metaHas(o, "tag", system, code) }
}

func hasLabel(code string) func(map[string]any) bool {
	return func(o map[string]any) bool {
		return metaHas(o, "security", "https://socialcare-fhir.example.org/CodeSystem/security-label", code)
	}
}

func metaHas(o map[string]any, key, system, code string) bool {
	m, _ := o["meta"].(map[string]any)
	for _, c := range asAnySlice(m[key]) {
		cm, _ := c.(map[string]any)
		if cm["system"] == system && cm["code"] == code {
			return true
		}
	}
	return false
}

// asAnySlice accepts the translator's []any of its own map type.
func asAnySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

const sourceOrg = "https://socialcare-fhir.example.org/CodeSystem/source-organisation"

// TestAccessScenarios runs the data sharing policy (policy/) end to end
// over HTTP against the translated fixture people: who reads, searches and
// writes what, and what they are told when refused.
func TestAccessScenarios(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01, p05, p04, p10, p11 := people["01"], people["05"], people["04"], people["10"], people["11"]

	var (
		gp           = gpToken(t, "R0260", "TREAT")
		receptionist = gpToken(t, "R8009", "TREAT")
		researcher   = gpToken(t, "R0260", "HRESCH")
		trust        = mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "TREAT"})
		trustBTG     = mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "unconscious in the emergency department"})
		socialWorker = councilToken(t, "R1330", "TREAT")
		igLead       = councilToken(t, "R5105", "HOPERAT")
		agency       = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYNH1", Role: "R1460", Purpose: "TREAT"})
		self01       = mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-01", Purpose: "PATRQT", NHSNumber: p01.nhs})
		self11       = mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-11", Purpose: "PATRQT", NHSNumber: p11.nhs})
	)
	carePlan01 := p01.first(t, "CarePlan", nil)
	visit01 := p01.first(t, "Encounter", hasTag(sourceOrg, "SYNH1"))
	note01 := p01.first(t, "Observation", hasTag(sourceOrg, "SYNH1"))
	var medAdmin string
	for _, k := range []string{"01", "02", "03"} {
		if len(people[k].byType["MedicationAdministration"]) > 0 {
			medAdmin = people[k].first(t, "MedicationAdministration", nil)
			break
		}
	}
	if medAdmin == "" {
		t.Fatal("no MedicationAdministration in fixtures 01-03")
	}
	basic10 := p10.first(t, "Basic", nil)
	flag04 := p04.first(t, "Flag", hasLabel("safeguarding"))
	consent11 := p11.first(t, "Consent", hasLabel("third-party-confidential"))
	obs05 := p05.first(t, "Observation", nil)
	carePlan02 := people["02"].first(t, "CarePlan", nil)

	// A token signed by no trusted key: a valid token's signature swapped
	// for another token's.
	parts := strings.Split(gp, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Split(socialWorker, ".")[2]

	btgNoReason := resign(t, trustBTG, func(c map[string]any) { delete(c, "break_glass_reason") })
	expired := resign(t, gp, func(c map[string]any) {
		past := float64(time.Now().Add(-time.Hour).Unix())
		c["iat"], c["nbf"], c["exp"] = past-60, past-60, past
	})

	noText := func(t *testing.T, r *response) {
		t.Helper()
		f := r.json(t)
		code, _ := f["code"].(map[string]any)
		if _, ok := f["text"]; ok {
			t.Error("redacted Flag has text")
		}
		if _, ok := f["note"]; ok {
			t.Error("redacted Flag has note")
		}
		if _, ok := code["text"]; ok || len(asSlice(code["coding"])) == 0 {
			t.Errorf("redacted Flag code %v: want the generic coding only", code)
		}
	}
	whole := func(t *testing.T, r *response) {
		t.Helper()
		code, _ := r.json(t)["code"].(map[string]any)
		if code["text"] != "Safeguarding concern" {
			t.Errorf("social worker's Flag code %v: want it whole", code)
		}
	}

	reads := []struct {
		note   string
		token  string
		method string
		path   string
		body   string
		status int
		reason string // a rule id the refusal names
		check  func(*testing.T, *response)
	}{
		{note: "GP reads a registered patient's care plan", token: gp, path: carePlan01, status: 200},
		{note: "GP reads a home care visit", token: gp, path: visit01, status: 200},
		{note: "GP reads a visit note", token: gp, path: note01, status: 200},
		{note: "GP reads help with medication", token: gp, path: medAdmin, status: 200},
		{note: "GP never reads money handled for the person", token: gp, path: basic10, status: 403, reason: "NTK-4-need-to-know"},
		{note: "receptionist reads demographics", token: receptionist, path: p01.patient, status: 200},
		{note: "receptionist does not read the care plan", token: receptionist, path: carePlan01, status: 403, reason: "NTK-4-need-to-know"},
		{note: "trust with no relationship is refused", token: trust, path: carePlan01, status: 403, reason: "REL-3-relationship"},
		{note: "trust clinician breaks glass with a reason", token: trustBTG, path: carePlan01, status: 200},
		{note: "break glass without a reason: the token is refused", token: btgNoReason, path: carePlan01, status: 401},
		{note: "research is not direct care", token: researcher, path: carePlan01, status: 403, reason: "PURPOSE-2-direct-care"},
		{note: "care agency reads a visit it wrote", token: agency, path: visit01, status: 200},
		{note: "care agency does not read the council's care plan", token: agency, path: carePlan01, status: 403, reason: "DSA-1-provider-own-records"},
		{note: "GP refused the record of a person who objected", token: gp, path: obs05, status: 403, reason: "OBJ-5-objection"},
		{note: "council social worker reads the record of a person who objected", token: socialWorker, path: obs05, status: 200},
		{note: "GP sees the safeguarding alert without its details", token: gp, path: flag04, status: 200, check: noText},
		{note: "council social worker sees the safeguarding alert whole", token: socialWorker, path: flag04, status: 200, check: whole},
		{note: "person reads their own Patient", token: self01, path: p01.patient, status: 200},
		{note: "person reads their own care plan", token: self01, path: carePlan01, status: 200},
		{note: "person cannot read another person's care plan", token: self01, path: carePlan02, status: 403, reason: "SELF-6"},
		{note: "person refused third-party confidential consent", token: self11, path: consent11, status: 403, reason: "SELF-6-third-party"},
		{note: "forged signature", token: forged, path: carePlan01, status: 401},
		{note: "expired token", token: expired, path: carePlan01, status: 401},
		{note: "the re-signing helper makes tokens the gateway accepts", token: resign(t, gp, func(map[string]any) {}), path: carePlan01, status: 200},
		{note: "GP cannot create a Patient", token: gp, method: http.MethodPost, path: "/Patient", body: patientAda, status: 403, reason: "WRITE-7"},
		{note: "council social worker creates a Patient", token: socialWorker, method: http.MethodPost, path: "/Patient", body: patientAda, status: 201},
		{note: "council IG lead reads the audit trail", token: igLead, path: "/AuditEvent?_count=5", status: 200},
		{note: "GP does not read the audit trail", token: gp, path: "/AuditEvent?_count=5", status: 403},
	}
	for _, sc := range reads {
		t.Run(sc.note, func(t *testing.T) {
			e.token = sc.token
			method, path := sc.method, sc.path
			if method == "" {
				method = http.MethodGet
			}
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
			r := e.do(method, path, sc.body)
			if r.Status != sc.status {
				t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, sc.status, r.Body)
			}
			if sc.reason != "" {
				if d := diagnostics(t, r); !strings.Contains(d, sc.reason) {
					t.Errorf("refusal %q does not name %s", d, sc.reason)
				}
			}
			if sc.check != nil {
				sc.check(t, r)
			}
		})
	}

	// Searches: only what the caller may see comes back, totals count only
	// that, and pages are full although hidden resources lie among the
	// visible ones.
	var visibleObs, carePlans int
	for k, p := range people {
		if k != "05" {
			visibleObs += len(p.byType["Observation"])
		}
		carePlans += len(p.byType["CarePlan"])
	}
	searches := []struct {
		note    string
		token   string
		path    string
		want    int // matches; -1: at least one
		exclude string
		pageOf  int
	}{
		{note: "GP searches every visible Observation, 5 a page", token: gp, path: "/Observation?_count=5&_total=accurate", want: visibleObs, exclude: p05.patient, pageOf: 5},
		{note: "GP finds no financial records", token: gp, path: "/Basic?_total=accurate", want: 0},
		{note: "GP finds nothing of the person who objected", token: gp, path: "/Observation?_total=accurate&patient=" + p05.patient, want: 0},
		{note: "council social worker finds the objecting person's notes", token: socialWorker, path: "/Observation?_total=accurate&patient=" + p05.patient, want: len(p05.byType["Observation"])},
		{note: "trust with no relationship finds nothing", token: trust, path: "/CarePlan?_total=accurate", want: 0},
		{note: "research finds nothing", token: researcher, path: "/CarePlan?_total=accurate", want: 0},
		{note: "GP sees every registered patient's care plan", token: gp, path: "/CarePlan?_count=2&_total=accurate", want: carePlans, pageOf: 2},
		{note: "GP finds the objector's Patient no more", token: gp, path: "/Patient?_count=3&_total=accurate", want: len(people) - 1, exclude: p05.patient, pageOf: 3},
	}
	for _, sc := range searches {
		t.Run(sc.note, func(t *testing.T) {
			e.token = sc.token
			s := e.searchAll(t, sc.path)
			if len(s.ids) != sc.want || s.total != sc.want {
				t.Errorf("%d matches, total %d; want %d", len(s.ids), s.total, sc.want)
			}
			if sc.pageOf > 0 {
				for i, n := range s.pages[:len(s.pages)-1] {
					if n != sc.pageOf {
						t.Errorf("page %d has %d matches, want %d (pages %v)", i+1, n, sc.pageOf, s.pages)
					}
				}
			}
			if sc.exclude != "" {
				hidden := map[string]bool{}
				for _, rs := range people["05"].byType {
					for _, r := range rs {
						hidden[r.Type+"/"+r.ID] = true
					}
				}
				for _, id := range s.ids {
					if hidden[id] {
						t.Errorf("%s of %s came back", id, sc.exclude)
					}
				}
			}
		})
	}

	t.Run("an included resource the caller may not see is left out", func(t *testing.T) {
		e.token = agency
		s := e.searchAll(t, "/Encounter?patient="+p01.patient+"&_include=Encounter:subject")
		if !slices.Contains(s.ids, visit01) {
			t.Errorf("the agency's own visit %s is missing from %v", visit01, s.ids)
		}
		for _, id := range s.ids {
			if !slices.ContainsFunc(p01.byType["Encounter"], func(r fhir.Resource) bool { return "Encounter/"+r.ID == id && hasTag(sourceOrg, "SYNH1")(r.Object) }) {
				t.Errorf("match %s was not written by the agency", id)
			}
		}
		if slices.Contains(s.incl, p01.patient) {
			t.Errorf("the council's Patient %s was included for the agency", p01.patient)
		}
		// The GP may see the Patient: the same include brings it.
		e.token = gp
		if s := e.searchAll(t, "/Encounter?patient="+p01.patient+"&_include=Encounter:subject"); !slices.Contains(s.incl, p01.patient) {
			t.Errorf("GP's include of %s missing: %v", p01.patient, s.incl)
		}
	})
}

package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/gateway"
)

// The write-authorisation matrix: who may create, change and delete what,
// under the baseline policy, over HTTP, as docs/policy-guide.md ("Who may
// write what") says. The fixture person 01 is known to the council SYN01,
// registered with the GP practice Y99001, and their care package (written
// by the council) names the home care provider SYNH1 only.

// writeEnv is a gateway with the baseline policy and social care ingest,
// holding the translated fixture people.
type writeEnv struct {
	*env
	people map[string]*person
	tokens map[string]string
	seeds  int
}

// The callers of the matrix, one of each kind of organisation and role.
const (
	wCouncil  = "council social worker SYN01"
	wNamed    = "care provider SYNH1, named"
	wNotNamed = "care provider SYNR1, not named"
	wGP       = "GP Y99001"
	wTrust    = "trust RYQ"
	wSelf     = "person 01"
	wOther    = "other X99"
)

var writers = []string{wCouncil, wNamed, wNotNamed, wGP, wTrust, wSelf, wOther}

func newWriteEnv(t *testing.T) *writeEnv {
	t.Helper()
	eng := openEngine(t, "")
	if _, err := eng.eng.Ingest.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := eng.serve(t, gateway.Config{Ingester: eng.eng.Ingest, Policy: loadPolicy(t, "../policy")}, nil)
	people := loadPeople(t, e)
	return &writeEnv{env: e, people: people, tokens: map[string]string{
		wCouncil:  councilToken(t, "R1330", "TREAT"),
		wNamed:    mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYNH1", Role: "R1460", Purpose: "TREAT"}),
		wNotNamed: mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYNR1", Role: "R1460", Purpose: "TREAT"}),
		wGP:       gpToken(t, "R0260", "TREAT"),
		wTrust:    mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RYQ", Role: "R8000", Purpose: "TREAT"}),
		wSelf:     mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-01", Purpose: "PATRQT", NHSNumber: people["01"].nhs}),
		wOther:    mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "X99", Role: "R8000", Purpose: "TREAT"}),
	}}
}

// as sends a request as one of the writers.
func (w *writeEnv) as(who, method, path, body string, headers ...string) *response {
	w.t.Helper()
	w.token = w.tokens[who]
	return w.do(method, path, body, headers...)
}

// Resource types of the matrix: those that establish a care relationship
// (only the council writes them) and ordinary ones.
var (
	relationshipTypes = []string{"Patient", "EpisodeOfCare", "CareTeam", "ServiceRequest", "Consent", "Encounter", "Organization"}
	ordinaryTypes     = []string{"CarePlan", "Observation", "MedicationAdministration", "DocumentReference"}
)

// sample is a resource of the type about person 01: a translated one, or,
// for types the translator does not make, a minimal one.
func (w *writeEnv) sample(t *testing.T, typ string) map[string]any {
	t.Helper()
	p := w.people["01"]
	subject := map[string]any{"reference": p.patient}
	var obj map[string]any
	switch typ {
	case "CareTeam":
		obj = map[string]any{"resourceType": "CareTeam", "status": "active", "subject": subject}
	case "DocumentReference":
		obj = map[string]any{"resourceType": "DocumentReference", "status": "current", "subject": subject,
			"content": []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain", "data": "aGVsbG8="}}}}
	case "Consent":
		obj = map[string]any{"resourceType": "Consent", "status": "active", "patient": subject,
			"scope":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
			"category":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
			"policyRule": map[string]any{"text": "the local care record data sharing agreement"}} // R4 ppc-1
	default:
		rs := p.byType[typ]
		if len(rs) == 0 {
			t.Fatalf("person 01 has no %s", typ)
		}
		obj = deepCopy(t, rs[0].Object)
	}
	delete(obj, "id")
	delete(obj, "meta")
	return obj
}

func deepCopy(t *testing.T, o map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out map[string]any
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withMeta sets a resource's source-organisation tags and security labels.
func withMeta(obj map[string]any, authors, labels []string) map[string]any {
	var tags, sec []any
	for _, a := range authors {
		tags = append(tags, map[string]any{"system": sourceOrg, "code": a})
	}
	for _, l := range labels {
		system, code, _ := strings.Cut(l, "|")
		sec = append(sec, map[string]any{"system": system, "code": code})
	}
	meta := map[string]any{}
	if len(tags) > 0 {
		meta["tag"] = tags
	}
	if len(sec) > 0 {
		meta["security"] = sec
	}
	obj["meta"] = meta
	return obj
}

// seed stores a resource of the type about person 01, written by authors
// and labelled, directly in the store (as a translated record would be),
// and returns its path.
func (w *writeEnv) seed(t *testing.T, typ string, authors, labels []string) string {
	t.Helper()
	w.seeds++
	obj := withMeta(w.sample(t, typ), authors, labels)
	id := fmt.Sprintf("seed-%d", w.seeds)
	obj["id"] = id
	if _, err := w.store.Update(context.Background(), &fhir.Resource{Type: typ, ID: id, Object: obj}, 0); err != nil {
		t.Fatalf("seed %s: %v", typ, err)
	}
	return "/" + typ + "/" + id
}

// authorsOf reads the source-organisation tags of a stored resource.
func (w *writeEnv) authorsOf(t *testing.T, path string) []string {
	t.Helper()
	w.token = w.tokens[wCouncil]
	r := w.do(http.MethodGet, path, "")
	if r.Status != http.StatusOK {
		t.Fatalf("council reads %s: %d %s", path, r.Status, r.Body)
	}
	var out []string
	m, _ := r.json(t)["meta"].(map[string]any)
	for _, tg := range asAnySlice(m["tag"]) {
		if c, _ := tg.(map[string]any); c["system"] == sourceOrg {
			out = append(out, c["code"].(string))
		}
	}
	return out
}

// expect checks a status and, for a refusal, that it is an OperationOutcome
// naming the rule.
func expect(t *testing.T, r *response, status int, rule string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if status >= 400 {
		if d := diagnostics(t, r); rule != "" && !strings.Contains(d, rule) {
			t.Errorf("refusal %q does not name %s", d, rule)
		}
	}
}

// createWant is what creating a resource about person 01 gets.
func createWant(who string, relationship bool) (int, string) {
	switch who {
	case wCouncil:
		return http.StatusCreated, ""
	case wNamed:
		if relationship {
			return http.StatusForbidden, "WRITE-7-relationship"
		}
		return http.StatusCreated, ""
	case wNotNamed:
		return http.StatusForbidden, "WRITE-7-provider-named"
	case wSelf:
		return http.StatusForbidden, "SELF-6"
	}
	return http.StatusForbidden, "WRITE-7" // NHS organisations and others write nothing
}

// changeWant is what updating or deleting a stored resource about person
// 01 gets, by who wrote it (the council, the provider SYNH1, or both).
func changeWant(who, owner string, relationship bool, ok int) (int, string) {
	switch who {
	case wCouncil:
		return ok, ""
	case wNamed:
		switch {
		case owner == "council":
			return http.StatusForbidden, "DSA-1-provider-own-records" // it may not read it
		case relationship:
			return http.StatusForbidden, "WRITE-7-relationship"
		case owner == "shared":
			return http.StatusForbidden, "WRITE-7-provider-own"
		}
		return ok, ""
	case wNotNamed:
		return http.StatusForbidden, "DSA-1-provider-own-records"
	}
	return http.StatusForbidden, "" // refused reading or writing, by the rules of its kind
}

var owners = map[string][]string{"council": {"SYN01"}, "own": {"SYNH1"}, "shared": {"SYNH1", "SYN01"}}

func TestWriteMatrix(t *testing.T) {
	w := newWriteEnv(t)
	types := slices.Concat(relationshipTypes, ordinaryTypes)
	for _, typ := range types {
		rel := slices.Contains(relationshipTypes, typ)
		for _, who := range writers {
			t.Run("create "+typ+" as "+who, func(t *testing.T) {
				status, rule := createWant(who, rel)
				expect(t, w.as(who, http.MethodPost, "/"+typ, mustJSON(t, w.sample(t, typ))), status, rule)
			})
			for _, owner := range []string{"council", "own", "shared"} {
				if typ == "Patient" && who == wCouncil {
					continue // a seeded Patient is no one the council knows: see TestWriteCouncilChangesThePatient
				}
				t.Run("update "+owner+" "+typ+" as "+who, func(t *testing.T) {
					path := w.seed(t, typ, owners[owner], nil)
					w.token = w.tokens[wCouncil]
					body := withMeta(w.sample(t, typ), owners[owner], nil)
					body["id"] = path[strings.LastIndex(path, "/")+1:]
					body["language"] = "en-GB"
					status, rule := changeWant(who, owner, rel, http.StatusOK)
					expect(t, w.as(who, http.MethodPut, path, mustJSON(t, body)), status, rule)
				})
				t.Run("delete "+owner+" "+typ+" as "+who, func(t *testing.T) {
					path := w.seed(t, typ, owners[owner], nil)
					status, rule := changeWant(who, owner, rel, http.StatusNoContent)
					expect(t, w.as(who, http.MethodDelete, path, ""), status, rule)
				})
			}
		}
	}
}

// The council changes the person's Patient (update only: deleting it
// would end the rest of the test's relationships); a provider may not.
func TestWriteCouncilChangesThePatient(t *testing.T) {
	w := newWriteEnv(t)
	p := w.people["01"].patient
	w.token = w.tokens[wCouncil]
	cur := w.do(http.MethodGet, "/"+p, "")
	w.mustStatus(cur, http.StatusOK)
	body := cur.json(t)
	body["language"] = "en-GB"
	expect(t, w.as(wCouncil, http.MethodPut, "/"+p, mustJSON(t, body)), http.StatusOK, "")
	expect(t, w.as(wNamed, http.MethodPut, "/"+p, mustJSON(t, body)), http.StatusForbidden, "DSA-1-provider-own-records")
}

// Hole 1: a care provider cannot open the person's record to an NHS trust
// by writing what establishes a care relationship.
func TestWriteProviderCannotOpenTheRecordToATrust(t *testing.T) {
	w := newWriteEnv(t)
	p := w.people["01"]
	carePlan := "/" + p.first(t, "CarePlan", nil)
	expect(t, w.as(wTrust, http.MethodGet, carePlan, ""), http.StatusForbidden, "REL-3-relationship")

	// The trust's Organization, as the council records it.
	org := `{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RYQ"}],"name":"Community trust RYQ"}`
	r := w.as(wCouncil, http.MethodPost, "/Organization", org)
	expect(t, r, http.StatusCreated, "")
	orgRef := "Organization/" + r.json(t)["id"].(string)

	ref := map[string]any{"reference": orgRef}
	subject := map[string]any{"reference": p.patient}
	attempts := []struct{ typ, body string }{
		{"EpisodeOfCare", mustJSON(t, map[string]any{"resourceType": "EpisodeOfCare", "status": "active", "patient": subject, "managingOrganization": ref})},
		{"CareTeam", mustJSON(t, map[string]any{"resourceType": "CareTeam", "status": "active", "subject": subject, "participant": []any{map[string]any{"member": ref}}})},
		{"ServiceRequest", mustJSON(t, map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": subject, "performer": []any{ref}})},
		{"Encounter", mustJSON(t, map[string]any{"resourceType": "Encounter", "status": "finished", "class": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH"},
			"subject": subject, "serviceProvider": ref, "period": map[string]any{"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00Z"}})},
		{"Organization", strings.Replace(org, `"name":"Community trust RYQ"`, `"name":"Another RYQ"`, 1)},
	}
	for _, a := range attempts {
		expect(t, w.as(wNamed, http.MethodPost, "/"+a.typ, a.body), http.StatusForbidden, "WRITE-7-relationship")
	}
	expect(t, w.as(wTrust, http.MethodGet, carePlan, ""), http.StatusForbidden, "REL-3-relationship")

	// Its own ServiceRequest naming itself does not make a provider named.
	self := map[string]any{"reference": "Organization/" + w.organisationOf(t, "SYNR1")}
	sr := mustJSON(t, map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": subject, "performer": []any{self}})
	expect(t, w.as(wNotNamed, http.MethodPost, "/ServiceRequest", sr), http.StatusForbidden, "WRITE-7-relationship")
	expect(t, w.as(wNotNamed, http.MethodPost, "/Observation", mustJSON(t, w.sample(t, "Observation"))), http.StatusForbidden, "WRITE-7-provider-named")
}

// organisationOf is the id of the stored Organization with an ODS code.
func (w *writeEnv) organisationOf(t *testing.T, ods string) string {
	t.Helper()
	w.token = w.tokens[wCouncil]
	r := w.do(http.MethodGet, "/Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|"+ods, "")
	w.mustStatus(r, http.StatusOK)
	for _, e := range asAnySlice(r.json(t)["entry"]) {
		res, _ := e.(map[string]any)["resource"].(map[string]any)
		if id, ok := res["id"].(string); ok {
			return id
		}
	}
	t.Fatalf("no Organization %s", ods)
	return ""
}

// Hole 3: the gateway stamps the author; a provider cannot claim to be the
// council, and an update keeps the earlier authors.
func TestWriteSourceOrganisation(t *testing.T) {
	w := newWriteEnv(t)
	obs := w.sample(t, "Observation")

	expect(t, w.as(wNamed, http.MethodPost, "/Observation", mustJSON(t, withMeta(deepCopy(t, obs), []string{"SYN01"}, nil))), http.StatusForbidden, "WRITE-7-source")

	r := w.as(wNamed, http.MethodPost, "/Observation", mustJSON(t, obs))
	expect(t, r, http.StatusCreated, "")
	own := "/Observation/" + r.json(t)["id"].(string)
	if got := w.authorsOf(t, own); !slices.Equal(got, []string{"SYNH1"}) {
		t.Errorf("a provider's Observation is attributed to %v, want [SYNH1]", got)
	}
	// The provider reads back and changes what it wrote.
	expect(t, w.as(wNamed, http.MethodGet, own, ""), http.StatusOK, "")

	// The council changes it, with a body naming no author: both are kept.
	body := deepCopy(t, obs)
	body["id"] = own[strings.LastIndex(own, "/")+1:]
	body["language"] = "en-GB"
	expect(t, w.as(wCouncil, http.MethodPut, own, mustJSON(t, body)), http.StatusOK, "")
	if got := w.authorsOf(t, own); !slices.Equal(got, []string{"SYNH1", "SYN01"}) {
		t.Errorf("after the council's update the Observation is attributed to %v, want [SYNH1 SYN01]", got)
	}
	// Now a shared record: the provider still reads it, but no longer
	// changes or deletes it.
	expect(t, w.as(wNamed, http.MethodPut, own, mustJSON(t, body)), http.StatusForbidden, "WRITE-7-provider-own")
	expect(t, w.as(wNamed, http.MethodDelete, own, ""), http.StatusForbidden, "WRITE-7-provider-own")

	// The council may attribute an entry to the provider whose worker
	// recorded it (as its records do); the council is named too.
	r = w.as(wCouncil, http.MethodPost, "/Observation", mustJSON(t, withMeta(deepCopy(t, obs), []string{"SYNH1"}, nil)))
	expect(t, r, http.StatusCreated, "")
	if got := w.authorsOf(t, "/Observation/"+r.json(t)["id"].(string)); !slices.Equal(got, []string{"SYNH1", "SYN01"}) {
		t.Errorf("the council's attributed Observation names %v, want [SYNH1 SYN01]", got)
	}
}

// Hole 4: a provider's update keeps every security label; the council may
// remove one.
func TestWriteSecurityLabels(t *testing.T) {
	w := newWriteEnv(t)
	label := "https://socialcare-fhir.example.org/CodeSystem/security-label|third-party-confidential"
	path := w.seed(t, "Observation", []string{"SYNH1"}, []string{label})
	id := path[strings.LastIndex(path, "/")+1:]
	body := func(labels []string) string {
		b := withMeta(w.sample(t, "Observation"), []string{"SYNH1"}, labels)
		b["id"] = id
		return mustJSON(t, b)
	}
	expect(t, w.as(wNamed, http.MethodPut, path, body(nil)), http.StatusForbidden, "WRITE-7-labels")
	expect(t, w.as(wNamed, http.MethodPut, path, body([]string{label})), http.StatusOK, "")
	expect(t, w.as(wCouncil, http.MethodPut, path, body(nil)), http.StatusOK, "")
}

// providerRecord is fixture person's record as the provider org would
// send it: its own visits, nothing the council records.
func providerRecord(t *testing.T, fixture, org string, edit func(rec map[string]any)) []byte {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(socialCareFixture(t, fixture), &rec); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"episode", "carePlan", "carePackage", "assessments", "medications", "incidents", "changes", "transactions", "sharingDecisions"} {
		delete(rec, k)
	}
	rec["source"].(map[string]any)["organisation"] = org
	person := rec["person"].(map[string]any)
	delete(person, "gpPractice")
	author := map[string]any{"id": "HC-1", "name": "Sam Carer", "role": "Care worker", "organisation": org}
	person["author"] = author
	visits := asAnySlice(rec["visits"])
	if len(visits) == 0 {
		// Person 01's home care visits, for a fixture that has none.
		var home map[string]any
		if err := json.Unmarshal(socialCareFixture(t, "01-daily-home-care.json"), &home); err != nil {
			t.Fatal(err)
		}
		visits = asAnySlice(home["visits"])
		rec["visits"] = visits
	}
	for _, v := range visits {
		vm := v.(map[string]any)
		delete(vm, "packageLineId")
		delete(vm, "worker")
		vm["author"] = author
	}
	if edit != nil {
		edit(rec)
	}
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Hole 2: a care provider's record is accepted only for a person whose care
// package, as the council holds it, names the provider, and carries nothing
// that establishes a care relationship.
func TestWriteProviderRecords(t *testing.T) {
	w := newWriteEnv(t)
	package01 := func(rec map[string]any) {
		// The provider's own care package naming itself, as the old
		// gateway believed.
		rec["carePackage"] = []any{map[string]any{"id": "PKG-1", "author": rec["person"].(map[string]any)["author"], "recorded": "2025-02-17T00:00:00Z",
			"status": "active", "serviceType": "Long term support: Community", "serviceComponent": "Home support or domiciliary care",
			"deliveryMechanism": "CASSR Commissioned Support", "provider": map[string]any{"ods": "SYNH1"}, "start": "2025-02-24"}}
	}
	tests := []struct {
		note    string
		who     string
		fixture string
		org     string // "": the fixture as the council sent it
		edit    func(map[string]any)
		status  int
		rule    string
		path    string // the expression the refusal points at
	}{
		{note: "named provider, its own visits", who: wNamed, fixture: "01-daily-home-care.json", org: "SYNH1", status: http.StatusCreated},
		{note: "provider not named by the council's package", who: wNamed, fixture: "07-residential-care.json", org: "SYNH1", status: http.StatusForbidden, rule: "WRITE-7-provider-named"},
		{note: "provider not named, sending a package naming itself", who: wNamed, fixture: "07-residential-care.json", org: "SYNH1", edit: package01, status: http.StatusForbidden, rule: "WRITE-7-provider-named"},
		{note: "person not yet known", who: wNamed, fixture: "01-daily-home-care.json", org: "SYNH1", edit: func(rec map[string]any) {
			rec["person"].(map[string]any)["nhsNumber"] = "9990019983"
		}, status: http.StatusForbidden, rule: "WRITE-7-provider-named"},
		{note: "named provider sending a care package", who: wNamed, fixture: "01-daily-home-care.json", org: "SYNH1", edit: package01, status: http.StatusForbidden, rule: "WRITE-7-relationship", path: "carePackage"},
		{note: "named provider naming the GP practice", who: wNamed, fixture: "01-daily-home-care.json", org: "SYNH1", edit: func(rec map[string]any) {
			rec["person"].(map[string]any)["gpPractice"] = "G81002"
		}, status: http.StatusForbidden, rule: "WRITE-7-relationship", path: "person.gpPractice"},
		{note: "named provider sending an episode", who: wNamed, fixture: "01-daily-home-care.json", org: "SYNH1", edit: func(rec map[string]any) {
			rec["episode"] = map[string]any{"id": "EP-1", "author": rec["person"].(map[string]any)["author"], "recorded": "2025-02-11T10:00:00Z", "status": "active", "start": "2024-08-11"}
		}, status: http.StatusForbidden, rule: "WRITE-7-relationship", path: "episode"},
		{note: "named provider's visit claiming a council author", who: wNamed, fixture: "01-daily-home-care.json", org: "SYNH1", edit: func(rec map[string]any) {
			asAnySlice(rec["visits"])[0].(map[string]any)["author"] = map[string]any{"id": "SW-1", "name": "Pat", "role": "Social worker", "organisation": "SYN01"}
		}, status: http.StatusForbidden, rule: "WRITE-7-source"},
		{note: "the council's own record, package, episode and GP included", who: wCouncil, fixture: "07-residential-care.json", status: http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			body := socialCareFixture(t, tc.fixture)
			if tc.org != "" {
				body = providerRecord(t, tc.fixture, tc.org, tc.edit)
			}
			r := w.as(tc.who, http.MethodPost, "/social-care/records", string(body), "Content-Type", "application/json")
			expect(t, r, tc.status, tc.rule)
			if tc.path != "" {
				if got := outcome(t, r)[0]["expression"]; !slices.Contains(asAnySlice(got), any(tc.path)) {
					t.Errorf("refusal points at %v, want %s", got, tc.path)
				}
			}
		})
	}
}

// The bulk paths: only the council imports; a batch runs each entry
// through the same checks; transactions are not taken.
func TestWriteBulkPaths(t *testing.T) {
	w := newWriteEnv(t)
	ndjson := socialCareFixture(t, "people.ndjson")
	csv := socialCareFixture(t, "cld-example.csv")
	for _, who := range []string{wNamed, wNotNamed, wGP, wSelf} {
		expect(t, w.as(who, http.MethodPost, "/social-care/$import", string(ndjson), "Content-Type", "application/x-ndjson"), http.StatusForbidden, "")
		expect(t, w.as(who, http.MethodPost, "/social-care/$import", string(csv), "Content-Type", "text/csv"), http.StatusForbidden, "")
	}
	w.token = w.tokens[wCouncil]
	if st := w.bulkImport(t, csv, "text/csv"); st.Report.Stored == 0 || st.Report.Rejected != 0 {
		t.Errorf("the council's CLD import: %+v", st.Report)
	}

	entry := func(typ string, obj map[string]any) map[string]any {
		return map[string]any{"resource": obj, "request": map[string]any{"method": "POST", "url": typ}}
	}
	batch := mustJSON(t, map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		entry("EpisodeOfCare", w.sample(t, "EpisodeOfCare")),
		entry("Observation", withMeta(w.sample(t, "Observation"), []string{"SYN01"}, nil)),
		entry("Observation", w.sample(t, "Observation")),
	}})
	r := w.as(wNamed, http.MethodPost, "/", batch)
	w.mustStatus(r, http.StatusOK)
	var got []string
	for _, e := range asAnySlice(r.json(t)["entry"]) {
		got = append(got, e.(map[string]any)["response"].(map[string]any)["status"].(string))
	}
	if want := []string{"403 Forbidden", "403 Forbidden", "201 Created"}; !slices.Equal(got, want) {
		t.Errorf("the provider's batch: %v, want %v", got, want)
	}
	tx := strings.Replace(batch, `"type":"batch"`, `"type":"transaction"`, 1)
	expect(t, w.as(wNamed, http.MethodPost, "/", tx), http.StatusUnprocessableEntity, "")
}

// The policy's relationship types are the types the gateway derives
// relationship facts from, and the matrix tries each of them.
func TestWriteRelationshipTypesAreTheFactsTypes(t *testing.T) {
	var data struct {
		DSA struct {
			RelationshipTypes []string `json:"relationship_types"`
		} `json:"dsa"`
	}
	b, err := os.ReadFile("../policy/data.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	sorted := func(ss []string) []string { return slices.Sorted(slices.Values(ss)) }
	want := sorted(facts.Types)
	if got := sorted(data.DSA.RelationshipTypes); !slices.Equal(got, want) {
		t.Errorf("policy/data.json relationship_types %v, want the facts types %v", got, want)
	}
	if got := sorted(relationshipTypes); !slices.Equal(got, want) {
		t.Errorf("the matrix tries %v, want %v", got, want)
	}
}

// A commissioned provider's record joins the person's record as the
// council holds it: no Patient of the provider's own is made, its visits
// point at the council's Patient, and the person's GP sees them.
func TestProviderRecordJoinsTheCouncilsPatient(t *testing.T) {
	w := newWriteEnv(t)
	p := w.people["01"]
	r := w.as(wNamed, http.MethodPost, "/social-care/records", string(providerRecord(t, "01-daily-home-care.json", "SYNH1", nil)), "Content-Type", "application/json")
	w.mustStatus(r, http.StatusCreated)
	var res struct {
		Patient string `json:"patient"`
	}
	if err := json.Unmarshal(r.Body, &res); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	w.token = w.tokens[wCouncil]
	patients := w.searchAll(t, "/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|"+p.nhs)
	if len(patients.ids) != 1 || patients.ids[0] != p.patient {
		t.Errorf("Patients with person 01's NHS number after the provider's record: %v, want only the council's %s", patients.ids, p.patient)
	}
	// The provider's visits are the person's: the GP registered with them
	// sees them.
	w.token = w.tokens[wGP]
	visits := w.searchAll(t, "/Encounter?patient="+strings.TrimPrefix(p.patient, "Patient/")+"&_count=100")
	w.token = w.tokens[wNamed]
	mine := w.searchAll(t, "/Encounter?patient="+strings.TrimPrefix(p.patient, "Patient/")+"&_count=100")
	if len(mine.ids) == 0 {
		t.Fatal("the provider reads none of the visits it sent about the council's Patient")
	}
	for _, id := range mine.ids {
		if !slices.Contains(visits.ids, id) {
			t.Errorf("the GP does not see the provider's visit %s", id)
		}
	}
	if res.Patient != "" && res.Patient != p.patient {
		t.Errorf("the record was stored for %s, want the council's %s", res.Patient, p.patient)
	}
}

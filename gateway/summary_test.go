package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/gateway"
)

// summaryNow is the clock of the summary tests: a week after the
// fixtures' visits (3-5 March 2025), so they are recent.
var summaryNow = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// newSummaryEnv is a gateway under the baseline policy with every fixture
// person stored and the summaries' clock pinned.
func newSummaryEnv(t *testing.T) (*env, map[string]*person) {
	t.Helper()
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy"), Clock: func() time.Time { return summaryNow }})
	return e, loadPeople(t, e)
}

// document is a summary Bundle, decoded.
type document struct {
	raw      map[string]any
	comp     map[string]any
	sections map[string]map[string]any // by section code
	entries  map[string]map[string]any // by "Type/id"
}

// getSummary asks for path's summary and checks what every summary must
// be: a valid R4 document Bundle whose Composition comes first, whose
// sections all carry generated XHTML narrative and either entries found in
// the Bundle or an emptyReason.
func getSummary(t *testing.T, e *env, path string) document {
	t.Helper()
	r := e.do(http.MethodGet, path, "")
	e.mustStatus(r, http.StatusOK)
	d := document{raw: r.json(t), sections: map[string]map[string]any{}, entries: map[string]map[string]any{}}
	if err := validate.Bundle(d.raw); err != nil {
		t.Fatalf("the summary Bundle is not valid R4: %v", err)
	}
	if d.raw["type"] != "document" || d.raw["timestamp"] == nil || d.raw["identifier"] == nil {
		t.Fatalf("not a document Bundle: type %v timestamp %v identifier %v", d.raw["type"], d.raw["timestamp"], d.raw["identifier"])
	}
	for i, en := range asSlice(d.raw["entry"]) {
		res := en.(map[string]any)["resource"].(map[string]any)
		if i == 0 {
			d.comp = res
			continue
		}
		d.entries[res["resourceType"].(string)+"/"+res["id"].(string)] = res
	}
	for i, en := range asSlice(d.raw["entry"]) {
		if _, err := validate.Object(en.(map[string]any)["resource"].(map[string]any)); err != nil {
			t.Errorf("entry %d is not valid R4: %v", i, err)
		}
	}
	if d.comp["resourceType"] != "Composition" {
		t.Fatalf("first entry is a %v", d.comp["resourceType"])
	}
	if c := d.comp["type"].(map[string]any)["coding"].([]any)[0].(map[string]any); c["system"] != "http://loinc.org" || c["code"] != "60591-5" {
		t.Errorf("Composition.type %v, want LOINC 60591-5", c)
	}
	for _, s := range asSlice(d.comp["section"]) {
		sec := s.(map[string]any)
		code := sec["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
		d.sections[code] = sec
		text, _ := sec["text"].(map[string]any)
		if text["status"] != "generated" || !strings.HasPrefix(text["div"].(string), `<div xmlns="http://www.w3.org/1999/xhtml">`) {
			t.Errorf("section %s narrative %v", code, text)
		}
		entries := asSlice(sec["entry"])
		if (len(entries) == 0) == (sec["emptyReason"] == nil) {
			t.Errorf("section %s: %d entries and emptyReason %v", code, len(entries), sec["emptyReason"])
		}
		for _, en := range entries {
			if ref := en.(map[string]any)["reference"].(string); d.entries[ref] == nil {
				t.Errorf("section %s references %s, which is not in the Bundle", code, ref)
			}
		}
	}
	return d
}

func (d document) div(code string) string {
	text, _ := d.sections[code]["text"].(map[string]any)
	s, _ := text["div"].(string)
	return s
}

func (d document) entryTypes(code string) map[string]int {
	n := map[string]int{}
	for _, en := range asSlice(d.sections[code]["entry"]) {
		n[strings.SplitN(en.(map[string]any)["reference"].(string), "/", 2)[0]]++
	}
	return n
}

func TestSummaryForTheRegisteredGP(t *testing.T) {
	e, people := newSummaryEnv(t)
	p01 := people["01"]
	e.token = gpToken(t, "R0260", "TREAT")
	d := getSummary(t, e, "/"+p01.patient+"/$summary")

	want := map[string]map[string]int{
		"local-authority":   {"EpisodeOfCare": 1, "PractitionerRole": 1},
		"services-and-care": {"ServiceRequest": 1, "Organization": 1},
		"18776-5":           {"CarePlan": 1},
		"81338-6":           {"Goal": 2},
		"47420-5":           {"Observation": 2},
		"29762-2":           {"Observation": 1},
		"recent-visits":     {"Encounter": 3},
		"10160-0":           {"MedicationAdministration": 3},
	}
	for code, types := range want {
		got := d.entryTypes(code)
		for typ, n := range types {
			if got[typ] != n {
				t.Errorf("section %s has %d %s entries, want %d (all: %v)", code, got[typ], typ, n, got)
			}
		}
	}
	for _, code := range []string{"104605-1", "incidents", "legal-information", "48765-2", "11450-4"} {
		if d.sections[code] == nil || d.sections[code]["emptyReason"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] != "unavailable" {
			t.Errorf("section %s: want it present and empty as unavailable: %v", code, d.sections[code])
		}
	}
	if div := d.div("recent-visits"); !strings.Contains(div, `<em class="opinion">Professional opinion: Seemed a little low in mood today.</em>`) ||
		!strings.Contains(div, "Helped with a wash and dressing.") || strings.Contains(div, "Professional opinion: Helped") {
		t.Errorf("visit notes do not keep facts and opinions apart: %s", div)
	}
	if div := d.div("18776-5"); !strings.Contains(div, "Next review date: 3 Sep 2025") {
		t.Errorf("plan narrative lacks the next review date: %s", div)
	}
	if div := d.div("services-and-care"); !strings.Contains(div, "Daily at 08:00") || !strings.Contains(div, "Synthetic Home Care Ltd") {
		t.Errorf("services narrative lacks frequency or provider: %s", div)
	}
	if div := d.div("81338-6"); !strings.Contains(div, "“To stay living in my own home.”") {
		t.Errorf("outcomes not in the person's words: %s", div)
	}

	again := getSummary(t, e, "/"+p01.patient+"/$summary")
	id1, _ := json.Marshal(d.raw["identifier"])
	id2, _ := json.Marshal(again.raw["identifier"])
	if string(id1) != string(id2) || !strings.Contains(string(id1), strings.TrimPrefix(p01.patient, "Patient/")) {
		t.Errorf("identifier %s then %s: want the same, from the patient id", id1, id2)
	}
	byNHS := getSummary(t, e, "/Patient/$summary?identifier="+url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|"+p01.nhs))
	if id3, _ := json.Marshal(byNHS.raw["identifier"]); string(id3) != string(id1) {
		t.Errorf("by NHS number the identifier is %s, by id %s", id3, id1)
	}
}

func TestSummaryShowsEveryKindOfSection(t *testing.T) {
	e, people := newSummaryEnv(t)
	e.token = gpToken(t, "R0260", "TREAT")
	cases := []struct {
		person, section, typ, text string
	}{
		{"03", "incidents", "AdverseEvent", "Found on the kitchen floor"},
		{"03", "changes-in-circumstances", "Observation", "Walking less steadily"},
		{"06", "legal-information", "RelatedPerson", "health and welfare"},
		{"06", "legal-information", "RelatedPerson", "01632 960001"},
		{"06", "personal-contacts", "RelatedPerson", "Brian Sampleton"},
		{"14", "communication", "Flag", "Hard of hearing: face her and speak clearly."},
		{"14", "communication", "Patient", "Needs an interpreter"},
		{"02", "10160-0", "MedicationAdministration", "refused"},
	}
	docs := map[string]document{}
	for _, c := range cases {
		d, ok := docs[c.person]
		if !ok {
			d = getSummary(t, e, "/"+people[c.person].patient+"/$summary")
			docs[c.person] = d
		}
		if d.entryTypes(c.section)[c.typ] == 0 || !strings.Contains(d.div(c.section), c.text) {
			t.Errorf("person %s section %s: want a %s entry and %q in %s", c.person, c.section, c.typ, c.text, d.div(c.section))
		}
	}
}

func TestSummaryRefusals(t *testing.T) {
	e, people := newSummaryEnv(t)
	cases := []struct {
		note, token, path string
		status            int
		says              string
	}{
		{"a GP the person is not registered with", mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "G81001", Role: "R0260", Purpose: "TREAT"}),
			"/" + people["01"].patient + "/$summary", http.StatusForbidden, "REL-3-relationship"},
		{"the person objected to sharing", gpToken(t, "R0260", "TREAT"), "/" + people["05"].patient + "/$summary", http.StatusForbidden, "OBJ-5-objection"},
		{"by NHS number, the person who objected is not found", gpToken(t, "R0260", "TREAT"),
			"/Patient/$summary?identifier=" + url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|"+people["05"].nhs), http.StatusNotFound, "no person with this NHS number"},
		{"an NHS number failing the check digit", gpToken(t, "R0260", "TREAT"),
			"/Patient/$summary?identifier=" + url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|9990000019"), http.StatusBadRequest, "not a valid NHS number"},
		{"an unknown NHS number", gpToken(t, "R0260", "TREAT"),
			"/Patient/$summary?identifier=" + url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|9434765919"), http.StatusNotFound, "no person with this NHS number"},
		{"another identifier system", gpToken(t, "R0260", "TREAT"), "/Patient/$summary?identifier=" + url.QueryEscape("urn:x|1"), http.StatusBadRequest, "must be an NHS number"},
		{"no identifier", gpToken(t, "R0260", "TREAT"), "/Patient/$summary", http.StatusBadRequest, "needs identifier"},
		{"a bad window", gpToken(t, "R0260", "TREAT"), "/" + people["01"].patient + "/$summary?recentDays=0", http.StatusBadRequest, "recentDays"},
		{"profile is not supported", gpToken(t, "R0260", "TREAT"), "/" + people["01"].patient + "/$summary?profile=x", http.StatusBadRequest, "profile is not supported"},
		{"an unknown id", gpToken(t, "R0260", "TREAT"), "/Patient/nobody/$summary", http.StatusNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.note, func(t *testing.T) {
			e.token = c.token
			r := e.do(http.MethodGet, c.path, "")
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if d := diagnostics(t, r); !strings.Contains(d, c.says) {
				t.Errorf("diagnostics %q do not say %q", d, c.says)
			}
		})
	}
	t.Run("POST is not allowed", func(t *testing.T) {
		e.token = gpToken(t, "R0260", "TREAT")
		e.mustStatus(e.do(http.MethodPost, "/"+people["01"].patient+"/$summary", "{}"), http.StatusMethodNotAllowed)
	})
}

// A GP learns that a safeguarding concern exists, and when; its details
// go only to those the policy gives them (the council's social workers).
func TestSummarySafeguardingDetailFollowsThePolicy(t *testing.T) {
	e, people := newSummaryEnv(t)
	p04 := people["04"]
	const detail = "Bruising on both upper arms"

	e.token = gpToken(t, "R0260", "TREAT")
	gp := getSummary(t, e, "/"+p04.patient+"/$summary")
	if gp.entryTypes("104605-1")["Flag"] != 1 || !strings.Contains(gp.div("104605-1"), "Safeguarding concern") || !strings.Contains(gp.div("104605-1"), "3 Mar 2025") {
		t.Errorf("GP's alerts section does not show that the concern exists and since when: %v %s", gp.entryTypes("104605-1"), gp.div("104605-1"))
	}
	raw, _ := json.Marshal(gp.raw)
	if strings.Contains(string(raw), detail) || strings.Contains(string(raw), "visitor grabbed") {
		t.Error("the GP's summary holds the safeguarding concern's details")
	}
	for ref, res := range gp.entries {
		if strings.HasPrefix(ref, "Flag/") {
			if code := res["code"].(map[string]any); code["text"] != nil {
				t.Errorf("%s keeps code.text for the GP", ref)
			}
		}
	}

	e.token = councilToken(t, "R1330", "TREAT")
	sw := getSummary(t, e, "/"+p04.patient+"/$summary")
	if !strings.Contains(sw.div("104605-1"), detail) {
		t.Errorf("the social worker's alerts section lacks the details: %s", sw.div("104605-1"))
	}
}

func TestSummaryAsAPage(t *testing.T) {
	e, people := newSummaryEnv(t)
	p14 := people["14"]
	// A communication need whose text looks like markup must be shown as
	// text.
	hostile := fhir.Resource{Type: "Flag", ID: "hostile-need", Object: map[string]any{
		"resourceType": "Flag", "id": "hostile-need", "status": "active",
		"code":    map[string]any{"coding": []any{map[string]any{"system": "https://socialcare-fhir.example.org/CodeSystem/flag-code", "code": "communication-need"}}, "text": `<script>alert("x")</script> & <b>bold</b>`},
		"subject": map[string]any{"reference": p14.patient}}}
	if _, err := e.store.Update(context.Background(), &hostile, 0); err != nil {
		t.Fatal(err)
	}
	e.token = gpToken(t, "R0260", "TREAT")
	for _, ask := range [][]string{{"/" + p14.patient + "/$summary?_format=html"}, {"/" + p14.patient + "/$summary", "Accept", "text/html"}} {
		r := e.do(http.MethodGet, ask[0], "", ask[1:]...)
		e.mustStatus(r, http.StatusOK)
		page := string(r.Body)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%v: Content-Type %q", ask, ct)
		}
		for _, want := range []string{"<h1>Social care summary</h1>", "<h2>Communication needs and reasonable adjustments</h2>", "Hard of hearing", p14.nhs,
			"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"} {
			if !strings.Contains(page, want) {
				t.Errorf("%v: the page lacks %q", ask, want)
			}
		}
		if strings.Contains(page, "<script>") || strings.Contains(page, "<b>bold") {
			t.Errorf("%v: record text reached the page as markup", ask)
		}
	}
	// The JSON narrative escapes it too.
	d := getSummary(t, e, "/"+p14.patient+"/$summary")
	if div := d.div("communication"); strings.Contains(div, "<script>") || !strings.Contains(div, "&lt;script&gt;") {
		t.Errorf("narrative not escaped: %s", div)
	}
}

// The summary is one audited interaction naming every resource it
// returned.
func TestSummaryIsOneAuditedInteraction(t *testing.T) {
	e, people := newSummaryEnv(t)
	p01 := people["01"]
	e.token = gpToken(t, "R0260", "TREAT")
	before := e.auditEvents()
	d := getSummary(t, e, "/"+p01.patient+"/$summary")
	if n := e.auditEvents() - before; n != 1 {
		t.Fatalf("%d audit records for one summary", n)
	}
	events, _, err := e.eng.Audit.Search(context.Background(), audit.Query{Patient: p01.patient, Count: 50})
	if err != nil {
		t.Fatal(err)
	}
	var ev []byte
	for _, x := range events {
		if b, _ := json.Marshal(x); strings.Contains(string(b), `"$summary"`) {
			ev = b
		}
	}
	if ev == nil {
		t.Fatalf("no $summary audit event among %d", len(events))
	}
	if len(d.entries) < 15 {
		t.Fatalf("only %d entries in the summary", len(d.entries))
	}
	for ref := range d.entries {
		if !strings.Contains(string(ev), `"reference":"`+ref+`"`) {
			t.Errorf("the audit event does not name %s", ref)
		}
	}
}

func TestCapabilityStatementDeclaresSummary(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	r := e.do(http.MethodGet, "/metadata", "")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(string(r.Body), `"definition":"http://hl7.org/fhir/uv/ips/OperationDefinition/summary"`) {
		t.Error("the CapabilityStatement does not declare $summary by the IPS OperationDefinition")
	}
}

// A section the caller may not see looks exactly like one with nothing
// recorded: the same emptyReason, the same words.
func TestSummaryWithheldLooksLikeNothingRecorded(t *testing.T) {
	e, people := newSummaryEnv(t)
	p01 := people["01"]
	e.token = gpToken(t, "R8009", "TREAT") // a receptionist: demographics, contacts, alerts, care package summaries
	d := getSummary(t, e, "/"+p01.patient+"/$summary")
	nothing := d.div("legal-information") // p01 has no LPA
	for _, code := range []string{"18776-5", "81338-6", "recent-visits", "10160-0"} {
		if d.sections[code]["emptyReason"] == nil || d.div(code) != nothing {
			t.Errorf("withheld section %s: emptyReason %v, narrative %s; want %s", code, d.sections[code]["emptyReason"], d.div(code), nothing)
		}
	}
	if d.entryTypes("services-and-care")["ServiceRequest"] != 1 {
		t.Errorf("the receptionist does not see the care package line: %v", d.entryTypes("services-and-care"))
	}
	for ref := range d.entries {
		if strings.HasPrefix(ref, "CarePlan/") || strings.HasPrefix(ref, "Encounter/") || strings.HasPrefix(ref, "MedicationAdministration/") {
			t.Errorf("the receptionist's summary holds %s", ref)
		}
	}
}

package gateway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

var rightsNow = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

// rightsEnv is the baseline policy over the fixture records, with the
// clock at *now, and the tokens of person 01, person 11, a council social
// worker and person 01's GP.
type rightsEnv struct {
	*env
	people                 map[string]*person
	self01, self11, sw, gp string
	now                    *time.Time
}

func newRightsEnv(t *testing.T) *rightsEnv {
	now := rightsNow
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy"), Clock: func() time.Time { return now }})
	people := loadPeople(t, e)
	return &rightsEnv{env: e, people: people, now: &now,
		self01: mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-01", Purpose: "PATRQT", NHSNumber: people["01"].nhs}),
		self11: mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-11", Purpose: "PATRQT", NHSNumber: people["11"].nhs}),
		sw:     councilToken(t, "R1330", "TREAT"),
		gp:     gpToken(t, "R0260", "TREAT"),
	}
}

// as sends a request with token.
func (e *rightsEnv) as(token, method, path, body string) *response {
	e.t.Helper()
	return e.do(method, path, body, "Authorization", "Bearer "+token)
}

// raise has token ask for focus (of patient) to be corrected, in words
// and optionally by a JSON Patch, and returns the stored Task.
func (e *rightsEnv) raise(t *testing.T, token, patient, focus, words, patch string) map[string]any {
	t.Helper()
	r := e.as(token, http.MethodPost, "/Task", raiseBody(patient, focus, words, patch))
	e.mustStatus(r, http.StatusCreated)
	return r.json(t)
}

func raiseBody(patient, focus, words, patch string) string {
	inputs := []any{map[string]any{"type": map[string]any{"text": "proposed correction"}, "valueString": words}}
	if patch != "" {
		inputs = append(inputs, map[string]any{"type": map[string]any{"coding": []any{map[string]any{"system": gateway.RightsSystem, "code": "json-patch"}}}, "valueString": patch})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Task", "status": "draft", "intent": "order",
		"code":  map[string]any{"coding": []any{map[string]any{"system": gateway.RightsSystem, "code": "rectification"}}},
		"focus": map[string]any{"reference": focus}, "for": map[string]any{"reference": patient}, "input": inputs})
	return string(b)
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, k := range path {
		switch n := v.(type) {
		case map[string]any:
			v = n[k]
		case []any:
			if len(n) == 0 {
				return ""
			}
			v = n[0].(map[string]any)[k]
		}
	}
	s, _ := v.(string)
	return s
}

// plainObservation is a care note of the person that is not an opinion
// and has a valueString.
func plainObservation(t *testing.T, p *person) string {
	t.Helper()
	for _, r := range p.byType["Observation"] {
		if _, ok := r.Object["valueString"].(string); ok && !hasLabel("professional-opinion")(r.Object) && !hasLabel("third-party-confidential")(r.Object) {
			return "Observation/" + r.ID
		}
	}
	t.Fatalf("%s has too few plain notes", p.patient)
	return ""
}

// statementOf is the supplementary statement a resource references, or "".
func statementOf(res map[string]any) string {
	exts, _ := res["extension"].([]any)
	for _, x := range exts {
		m := x.(map[string]any)
		if m["url"] == gateway.StatementExtension {
			return str(m, "valueReference", "reference")
		}
	}
	return ""
}

// A person asks for a note to be corrected; the council accepts: the note
// gets a new version with a Provenance naming the request, history keeps
// the old one, the request is dated with its one-month deadline and ends
// completed, the organisations that had read the note are listed, and the
// person sees the council's work in their access report.
func TestRectificationAccepted(t *testing.T) {
	e := newRightsEnv(t)
	p01 := e.people["01"]
	note := plainObservation(t, p01)
	// The GP reads the note before it is corrected.
	e.mustStatus(e.as(e.gp, http.MethodGet, "/"+note, ""), http.StatusOK)
	before := e.as(e.self01, http.MethodGet, "/"+note, "").json(t)

	task := e.raise(t, e.self01, p01.patient, note, "This did not happen on that day.",
		`[{"op":"replace","path":"/valueString","value":"Corrected at the person's request."}]`)
	if task["status"] != "requested" || task["authoredOn"] != "2026-01-31T10:00:00.000Z" || str(task, "restriction", "period", "end") != "2026-02-28T10:00:00.000Z" {
		t.Fatalf("request not dated as received with its deadline (28 February: no 31st): %v", mustJSON(t, task))
	}
	if str(task, "requester", "reference") != p01.patient {
		t.Errorf("requester %v, want the person", task["requester"])
	}
	id := task["id"].(string)
	// The person may not ask about someone else's record.
	other := e.as(e.self01, http.MethodPost, "/Task", raiseBody(e.people["11"].patient, e.people["11"].patient, "x", ""))
	if other.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, other), "SELF-6-request") {
		t.Errorf("a request about another's record: %d %s", other.Status, other.Body)
	}
	// Nor change a request.
	e.mustStatus(e.as(e.self01, http.MethodPut, "/Task/"+id, mustJSON(t, task)), http.StatusMethodNotAllowed)

	open := e.as(e.sw, http.MethodGet, "/Task?code=rectification&status=requested", "")
	e.mustStatus(open, http.StatusOK)
	if !strings.Contains(string(open.Body), `"Task/`+id+`"`) && !strings.Contains(string(open.Body), "/Task/"+id+`"`) {
		t.Errorf("the open request is not listed: %s", open.Body)
	}
	// Only council staff with the rights role answer it.
	if r := e.as(e.self01, http.MethodPost, "/Task/"+id+"/$accept", ""); r.Status != http.StatusForbidden {
		t.Errorf("the person accepted their own request: %d", r.Status)
	}

	acc := e.as(e.sw, http.MethodPost, "/Task/"+id+"/$accept", "")
	e.mustStatus(acc, http.StatusOK)
	done := acc.json(t)
	if done["status"] != "completed" || str(done, "businessStatus", "coding", "code") != "corrected" {
		t.Fatalf("request after $accept: %s", acc.Body)
	}
	var prov string
	for _, o := range done["output"].([]any) {
		if ref := str(o.(map[string]any), "valueReference", "reference"); strings.HasPrefix(ref, "Provenance/") {
			prov = ref
		}
	}
	after := e.as(e.self01, http.MethodGet, "/"+note, "").json(t)
	if after["valueString"] != "Corrected at the person's request." || str(after, "meta", "versionId") == str(before, "meta", "versionId") {
		t.Fatalf("note not corrected as a new version: %v", mustJSON(t, after))
	}
	old := e.as(e.self01, http.MethodGet, "/"+note+"/_history/"+str(before, "meta", "versionId"), "")
	e.mustStatus(old, http.StatusOK)
	if old.json(t)["valueString"] != before["valueString"] {
		t.Errorf("history lost the old version: %s", old.Body)
	}
	pr := e.as(e.self01, http.MethodGet, "/"+prov, "")
	e.mustStatus(pr, http.StatusOK)
	pm := pr.json(t)
	if str(pm, "entity", "what", "reference") != "Task/"+id || str(pm, "target", "reference") != note+"/_history/"+str(after, "meta", "versionId") {
		t.Errorf("Provenance does not tie the new version to the request: %s", pr.Body)
	}
	// The person follows the request in its history: requested, accepted,
	// completed.
	hist := e.as(e.self01, http.MethodGet, "/Task/"+id+"/_history", "")
	e.mustStatus(hist, http.StatusOK)
	var hb struct {
		Entry []struct{ Resource struct{ Status string } }
	}
	_ = json.Unmarshal(hist.Body, &hb)
	var states []string
	for _, en := range hb.Entry {
		states = append(states, en.Resource.Status)
	}
	if !slices.Equal(states, []string{"completed", "accepted", "requested"}) {
		t.Errorf("the request's history %v, want completed, accepted, requested", states)
	}
	if r := e.as(e.sw, http.MethodPost, "/Task/"+id+"/$accept", ""); r.Status != http.StatusConflict {
		t.Errorf("a completed request accepted again: %d", r.Status)
	}

	// Who was sent the note before the correction: the GP, and no one else
	// (the council's own $accept is not a disclosure).
	rec := e.as(e.sw, http.MethodGet, "/Task/"+id+"/$recipients", "")
	e.mustStatus(rec, http.StatusOK)
	if got := recipientsOf(t, rec); !slices.Equal(got, []string{"Y99001"}) {
		t.Errorf("recipients %v, want [Y99001]: %s", got, rec.Body)
	}
	// A read after the correction is not a recipient of the old data.
	e.mustStatus(e.as(mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYN01", Role: "R1330", Purpose: "TREAT"}), http.MethodGet, "/"+note, ""), http.StatusOK)
	if got := recipientsOf(t, e.as(e.sw, http.MethodGet, "/Task/"+id+"/$recipients", "")); !slices.Equal(got, []string{"Y99001"}) {
		t.Errorf("recipients after a later read %v, want [Y99001]", got)
	}

	// Every step is in the audit trail, and the person's access report
	// shows the council.
	ops := auditedOperations(t, e.env, p01.patient)
	for _, op := range []string{"$accept", "$recipients"} {
		if !slices.Contains(ops, op) {
			t.Errorf("%s not audited for the person (audited: %v)", op, ops)
		}
	}
	wa := e.as(e.self01, http.MethodGet, "/"+p01.patient+"/$who-accessed", "")
	e.mustStatus(wa, http.StatusOK)
	if !strings.Contains(string(wa.Body), `"SYN01"`) {
		t.Errorf("the council's work is not in the person's access report: %s", wa.Body)
	}
}

func recipientsOf(t *testing.T, r *response) []string {
	t.Helper()
	var out []string
	for _, p := range r.json(t)["parameter"].([]any) {
		pm := p.(map[string]any)
		if pm["name"] != "recipient" {
			continue
		}
		for _, part := range pm["part"].([]any) {
			if m := part.(map[string]any); m["name"] == "organization" {
				out = append(out, str(m, "valueIdentifier", "value"))
			}
		}
	}
	return out
}

// auditedOperations are the operations of the audit records naming patient.
func auditedOperations(t *testing.T, e *env, patient string) []string {
	t.Helper()
	accesses, err := e.eng.Audit.WhoAccessed(context.Background(), patient, 500)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, a := range accesses {
		if a.Operation != "" && !slices.Contains(ops, a.Operation) {
			ops = append(ops, a.Operation)
		}
	}
	return ops
}

// The council declines a correction with reasons: the record is unchanged
// but for a supplementary statement it now references, shown on every
// read, search and $everything, and the request is rejected with the
// reasons.
func TestRectificationDeclined(t *testing.T) {
	e := newRightsEnv(t)
	p01 := e.people["01"]
	note := p01.patient
	before := e.as(e.self01, http.MethodGet, "/"+note, "").json(t)
	id := e.raise(t, e.self01, p01.patient, note, "I was not at home that day.", "")["id"].(string)

	if r := e.as(e.sw, http.MethodPost, "/Task/"+id+"/$decline", ""); r.Status != http.StatusBadRequest || !strings.Contains(diagnostics(t, r), "reason") {
		t.Errorf("declined without reasons: %d %s", r.Status, r.Body)
	}
	why := "The visit is confirmed by the carer's signed timesheet."
	dec := e.as(e.sw, http.MethodPost, "/Task/"+id+"/$decline", `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"`+why+`"}]}`)
	e.mustStatus(dec, http.StatusOK)
	done := dec.json(t)
	if done["status"] != "rejected" || str(done, "statusReason", "text") != why || str(done, "businessStatus", "coding", "code") != "statement-attached" {
		t.Fatalf("request after $decline: %s", dec.Body)
	}

	after := e.as(e.self01, http.MethodGet, "/"+note, "").json(t)
	doc := statementOf(after)
	if doc == "" || mustJSON(t, after["name"]) != mustJSON(t, before["name"]) {
		t.Fatalf("declined record should be unchanged but reference its statement: %v", mustJSON(t, after))
	}
	dr := e.as(e.self01, http.MethodGet, "/"+doc, "")
	e.mustStatus(dr, http.StatusOK)
	text, _ := base64.StdEncoding.DecodeString(str(dr.json(t), "content", "attachment", "data"))
	if !strings.Contains(string(text), why) || !strings.Contains(string(text), "I was not at home that day.") {
		t.Errorf("statement %q lacks the person's view or the reasons", text)
	}
	// Whoever reads the note reads that a statement exists, and may read
	// the statement.
	if g := e.as(e.gp, http.MethodGet, "/"+note, ""); g.Status == http.StatusOK {
		if statementOf(g.json(t)) != doc {
			t.Errorf("the GP's read does not show the statement")
		}
		e.mustStatus(e.as(e.gp, http.MethodGet, "/"+doc, ""), http.StatusOK)
	}
	found := func(path string) bool {
		var b struct {
			Entry []struct{ Resource map[string]any }
		}
		r := e.as(e.self01, http.MethodGet, path, "")
		e.mustStatus(r, http.StatusOK)
		_ = json.Unmarshal(r.Body, &b)
		for _, en := range b.Entry {
			if en.Resource["resourceType"].(string)+"/"+en.Resource["id"].(string) == note {
				return statementOf(en.Resource) == doc
			}
		}
		return false
	}
	if !found("/Patient?_id=" + strings.TrimPrefix(p01.patient, "Patient/")) {
		t.Error("a search does not show the statement on the note")
	}
	if !found("/" + p01.patient + "/$everything?_count=1000") {
		t.Error("$everything does not show the statement on the note")
	}
	if !found("/" + p01.patient + "/$summary") {
		t.Error("$summary does not show the statement on the record")
	}
	sum := e.as(e.self01, http.MethodGet, "/"+p01.patient+"/$summary?_format=html", "")
	e.mustStatus(sum, http.StatusOK)
	if !strings.Contains(string(sum.Body), "Supplementary statements") || !strings.Contains(string(sum.Body), "signed timesheet") {
		t.Error("the summary page does not list the statement")
	}
}

// A professional opinion is kept as an opinion: its correction is refused
// and the person's view is attached as a statement instead.
func TestRectificationOfOpinionAnnotated(t *testing.T) {
	e := newRightsEnv(t)
	p01 := e.people["01"]
	op := p01.first(t, "Observation", hasLabel("professional-opinion"))
	before := e.as(e.self01, http.MethodGet, "/"+op, "")
	e.mustStatus(before, http.StatusOK)
	id := e.raise(t, e.self01, p01.patient, op, "I do not agree with this view.",
		`[{"op":"add","path":"/valueString","value":"rewritten"}]`)["id"].(string)

	acc := e.as(e.sw, http.MethodPost, "/Task/"+id+"/$accept", "")
	e.mustStatus(acc, http.StatusOK)
	done := acc.json(t)
	if done["status"] != "rejected" || str(done, "businessStatus", "coding", "code") != "opinion-annotated" {
		t.Fatalf("an opinion's correction should be refused and annotated: %s", acc.Body)
	}
	after := e.as(e.self01, http.MethodGet, "/"+op, "").json(t)
	old := before.json(t)
	if statementOf(after) == "" {
		t.Fatal("no statement attached to the opinion")
	}
	for _, k := range []string{"valueString", "code", "meta"} {
		if k == "meta" {
			if mustJSON(t, old["meta"].(map[string]any)["security"]) != mustJSON(t, after["meta"].(map[string]any)["security"]) {
				t.Error("the opinion's labels changed")
			}
			continue
		}
		if mustJSON(t, old[k]) != mustJSON(t, after[k]) {
			t.Errorf("the opinion's %s was rewritten: %v -> %v", k, old[k], after[k])
		}
	}
}

// Requests past their month are reported overdue, on the gateway's clock;
// answered ones and those still in time are not.
func TestRectificationOverdue(t *testing.T) {
	e := newRightsEnv(t)
	p01 := e.people["01"]
	late := e.raise(t, e.self01, p01.patient, plainObservation(t, p01), "late", "")["id"].(string)
	answered := e.raise(t, e.self01, p01.patient, p01.patient, "answered", "")["id"].(string)
	e.mustStatus(e.as(e.sw, http.MethodPost, "/Task/"+answered+"/$decline", `{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"accurate"}]}`), http.StatusOK)

	overdue := func() []string {
		r := e.as(e.sw, http.MethodGet, "/Task/$overdue", "")
		e.mustStatus(r, http.StatusOK)
		var b struct {
			Entry []struct{ Resource struct{ ID string } }
		}
		_ = json.Unmarshal(r.Body, &b)
		var ids []string
		for _, en := range b.Entry {
			ids = append(ids, en.Resource.ID)
		}
		return ids
	}
	if got := overdue(); len(got) != 0 {
		t.Errorf("overdue on the day of receipt: %v", got)
	}
	*e.now = time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC) // the deadline itself: not yet overdue
	if got := overdue(); len(got) != 0 {
		t.Errorf("overdue at the deadline: %v", got)
	}
	*e.now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	fresh := e.raise(t, e.self01, p01.patient, plainObservation(t, p01), "new", "")["id"].(string)
	if got := overdue(); !slices.Equal(got, []string{late}) {
		t.Errorf("overdue %v, want only %s (answered %s, fresh %s)", got, late, answered, fresh)
	}
	if r := e.as(e.gp, http.MethodGet, "/Task/$overdue", ""); r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r), "RIGHTS-10-requests") {
		t.Errorf("the GP listed overdue requests: %d %s", r.Status, r.Body)
	}
}

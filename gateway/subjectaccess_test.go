package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// ownView is what the person's own reads give of their record: every
// page of their $everything, then their rights requests.
func (e *rightsEnv) ownView(t *testing.T, token, patient string) []string {
	t.Helper()
	var refs []string
	for path := "/" + patient + "/$everything?_count=1000"; path != ""; {
		s := e.env
		s.token = token
		r := s.do(http.MethodGet, path, "")
		s.mustStatus(r, http.StatusOK)
		var b struct {
			Link  []struct{ Relation, URL string }
			Entry []struct{ FullURL string }
		}
		_ = json.Unmarshal(r.Body, &b)
		for _, en := range b.Entry {
			refs = append(refs, en.FullURL[len(e.srv.URL)+1:])
		}
		path = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				u, _ := url.Parse(l.URL)
				path = u.RequestURI()
			}
		}
	}
	tasks := e.as(token, http.MethodGet, "/Task?patient="+patient+"&_count=1000", "")
	e.mustStatus(tasks, http.StatusOK)
	var b struct{ Entry []struct{ FullURL string } }
	_ = json.Unmarshal(tasks.Body, &b)
	for _, en := range b.Entry {
		refs = append(refs, en.FullURL[len(e.srv.URL)+1:])
	}
	return refs
}

// exported reads a $subject-access Bundle: the record's references, and
// the entries after it (the access report, the request's Task).
func exported(t *testing.T, r *response) (record []string, report map[string]any, task map[string]any) {
	t.Helper()
	var b struct {
		Type  string
		Entry []struct {
			FullURL  string
			Resource map[string]any
		}
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.Type != "collection" || len(b.Entry) < 3 {
		t.Fatalf("not a collection with the record, its report and its Task: %s", r.Body)
	}
	n := len(b.Entry)
	for _, en := range b.Entry[:n-2] {
		record = append(record, en.Resource["resourceType"].(string)+"/"+en.Resource["id"].(string))
	}
	return record, b.Entry[n-2].Resource, b.Entry[n-1].Resource
}

// A subject access export holds exactly what the person's own reads give
// them, whoever asks for it (the person or council staff on their
// behalf), never third-party confidential content, with the access report
// and the request completed.
func TestSubjectAccessHoldsThePersonsVisibleRecord(t *testing.T) {
	e := newRightsEnv(t)
	p11 := e.people["11"]
	consent := p11.first(t, "Consent", hasLabel("third-party-confidential"))
	// The council sees the third-party content; the person does not.
	e.mustStatus(e.as(e.sw, http.MethodGet, "/"+consent, ""), http.StatusOK)
	// A request raised first is the one the export completes.
	asked := e.as(e.self11, http.MethodPost, "/Task", `{"resourceType":"Task","status":"requested","intent":"order","code":{"coding":[{"system":"`+gateway.RightsSystem+`","code":"subject-access"}]},"for":{"reference":"`+p11.patient+`"}}`)
	e.mustStatus(asked, http.StatusCreated)
	askedID := asked.json(t)["id"].(string)

	for _, who := range []struct{ note, token string }{{"the person", e.self11}, {"a social worker on their behalf", e.sw}} {
		t.Run(who.note, func(t *testing.T) {
			want := e.ownView(t, e.self11, p11.patient)
			r := e.as(who.token, http.MethodGet, "/"+p11.patient+"/$subject-access", "")
			e.mustStatus(r, http.StatusOK)
			got, report, task := exported(t, r)
			if !slices.Equal(got, want) {
				t.Errorf("export holds\n%v\nthe person's reads give\n%v", got, want)
			}
			if slices.Contains(got, consent) {
				t.Errorf("third-party confidential %s exported", consent)
			}
			if report["resourceType"] != "Parameters" || task["resourceType"] != "Task" || task["status"] != "completed" {
				t.Errorf("report %v, task %v", report["resourceType"], mustJSON(t, task))
			}
			if who.token == e.self11 && task["id"] != askedID {
				t.Errorf("the export completed Task/%v, not the open request Task/%s", task["id"], askedID)
			}
		})
	}
	// The first export is in the access report of the second (the
	// social worker's), and both are audited as exports.
	if ops := auditedOperations(t, e.env, p11.patient); !slices.Contains(ops, "$subject-access") {
		t.Errorf("export not audited: %v", ops)
	}
	if r := e.as(e.gp, http.MethodGet, "/"+p11.patient+"/$subject-access", ""); r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r), "RIGHTS-10-requests") {
		t.Errorf("a GP exported the record: %d %s", r.Status, r.Body)
	}
	if r := e.as(e.self01, http.MethodGet, "/"+p11.patient+"/$subject-access", ""); r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r), "SELF-6-subject-access") {
		t.Errorf("another person exported the record: %d %s", r.Status, r.Body)
	}
}

// The export as a readable page: the person's summary, every resource
// held, the access report; nothing third-party confidential.
func TestSubjectAccessDocument(t *testing.T) {
	e := newRightsEnv(t)
	p11 := e.people["11"]
	consent := p11.first(t, "Consent", hasLabel("third-party-confidential"))
	e.mustStatus(e.as(e.sw, http.MethodGet, "/"+p11.patient, ""), http.StatusOK) // an access to report
	want := e.ownView(t, e.self11, p11.patient)
	r := e.as(e.self11, http.MethodGet, "/"+p11.patient+"/$subject-access?_format=html", "")
	e.mustStatus(r, http.StatusOK)
	page := string(r.Body)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	for _, want := range []string{"Your social care record", "Everything held about you", "Who has looked at your record", "SYN01", `id="` + p11.patient + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, ref := range want {
		if !strings.Contains(page, `id="`+ref+`"`) {
			t.Errorf("page lacks %s", ref)
		}
	}
	if strings.Contains(page, strings.TrimPrefix(consent, "Consent/")) {
		t.Errorf("page shows third-party confidential %s", consent)
	}
}

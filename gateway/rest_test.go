package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

func TestCRUDAndHistory(t *testing.T) {
	e := newEnv(t, gateway.Config{})

	r := e.do("POST", "/Patient", patientAda)
	e.mustStatus(r, http.StatusCreated)
	loc := r.Header.Get("Location")
	if !strings.Contains(loc, "/Patient/") || !strings.HasSuffix(loc, "/_history/1") {
		t.Fatalf("Location %q", loc)
	}
	if r.Header.Get("ETag") != `W/"1"` || r.Header.Get("Last-Modified") == "" {
		t.Fatalf("headers %v", r.Header)
	}
	created := r.json(t)
	id := created["id"].(string)
	meta := created["meta"].(map[string]any)
	if meta["versionId"] != "1" || meta["lastUpdated"] == nil {
		t.Fatalf("meta %v", meta)
	}

	r = e.do("GET", "/Patient/"+id, "")
	e.mustStatus(r, http.StatusOK)
	if r.json(t)["gender"] != "female" {
		t.Fatalf("read %s", r.Body)
	}

	upd := strings.Replace(patientAda, `"resourceType":"Patient",`, `"resourceType":"Patient","id":"`+id+`",`, 1)
	upd = strings.Replace(upd, `"female"`, `"other"`, 1)
	r = e.do("PUT", "/Patient/"+id, upd, "If-Match", `W/"1"`)
	e.mustStatus(r, http.StatusOK)
	if r.Header.Get("ETag") != `W/"2"` {
		t.Fatalf("ETag after update %q", r.Header.Get("ETag"))
	}
	// A stale If-Match is refused.
	r = e.do("PUT", "/Patient/"+id, upd, "If-Match", `W/"1"`)
	e.mustStatus(r, http.StatusPreconditionFailed)
	outcome(t, r)

	// Same content again: no new version.
	r = e.do("PUT", "/Patient/"+id, upd)
	e.mustStatus(r, http.StatusOK)
	if r.Header.Get("ETag") != `W/"2"` {
		t.Fatalf("unchanged update made a version: %q", r.Header.Get("ETag"))
	}

	r = e.do("GET", "/Patient/"+id+"/_history/1", "")
	e.mustStatus(r, http.StatusOK)
	if r.json(t)["gender"] != "female" {
		t.Fatalf("vread 1 %s", r.Body)
	}
	e.mustStatus(e.do("GET", "/Patient/"+id+"/_history/9", ""), http.StatusNotFound)

	r = e.do("DELETE", "/Patient/"+id, "")
	e.mustStatus(r, http.StatusNoContent)
	r = e.do("GET", "/Patient/"+id, "")
	e.mustStatus(r, http.StatusGone)
	outcome(t, r)
	// History survives deletion, newest first.
	r = e.do("GET", "/Patient/"+id+"/_history", "")
	e.mustStatus(r, http.StatusOK)
	b := r.json(t)
	entries := b["entry"].([]any)
	if b["type"] != "history" || len(entries) != 3 {
		t.Fatalf("history %s", r.Body)
	}
	methods := []string{}
	for _, en := range entries {
		methods = append(methods, en.(map[string]any)["request"].(map[string]any)["method"].(string))
	}
	if strings.Join(methods, ",") != "DELETE,PUT,POST" {
		t.Fatalf("history methods %v", methods)
	}
	// Type history includes it too.
	r = e.do("GET", "/Patient/_history?_count=2", "")
	e.mustStatus(r, http.StatusOK)
	th := r.json(t)
	if len(th["entry"].([]any)) != 2 || !strings.Contains(string(r.Body), `"next"`) {
		t.Fatalf("type history page %s", r.Body)
	}
	// Updating a deleted resource brings it back as a new version.
	r = e.do("PUT", "/Patient/"+id, upd)
	e.mustStatus(r, http.StatusCreated)
	if r.Header.Get("ETag") != `W/"4"` {
		t.Fatalf("ETag after resurrection %q", r.Header.Get("ETag"))
	}
}

func TestUpdateAsCreateAndPrefer(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	body := strings.Replace(patientAda, `"resourceType":"Patient",`, `"resourceType":"Patient","id":"p-1",`, 1)
	r := e.do("PUT", "/Patient/p-1", body, "Prefer", "return=minimal")
	e.mustStatus(r, http.StatusCreated)
	if len(r.Body) != 0 {
		t.Fatalf("return=minimal sent a body: %s", r.Body)
	}
	r = e.do("POST", "/Patient", patientAda, "Prefer", "return=OperationOutcome")
	e.mustStatus(r, http.StatusCreated)
	if is := outcome(t, r); is[0]["severity"] != "information" {
		t.Fatalf("issues %v", is)
	}
}

func TestConditionalCreate(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	cond := "identifier=https://fhir.nhs.uk/Id/nhs-number|9990010005"
	r1 := e.do("POST", "/Patient", patientAda, "If-None-Exist", cond)
	e.mustStatus(r1, http.StatusCreated)
	r2 := e.do("POST", "/Patient", patientAda, "If-None-Exist", cond)
	e.mustStatus(r2, http.StatusOK)
	if r1.json(t)["id"] != r2.json(t)["id"] {
		t.Fatal("conditional create made a second resource")
	}
	e.mustStatus(e.do("POST", "/Patient", patientAda), http.StatusCreated)
	r3 := e.do("POST", "/Patient", patientAda, "If-None-Exist", cond)
	e.mustStatus(r3, http.StatusPreconditionFailed)
	outcome(t, r3)
}

// Of two updates from the same version, exactly one wins.
func TestIfMatchRace(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	id := e.do("POST", "/Patient", patientAda).json(t)["id"].(string)
	for round := 0; round < 5; round++ {
		cur := e.do("GET", "/Patient/"+id, "")
		etag := cur.Header.Get("ETag")
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := strings.Replace(patientAda, `"resourceType":"Patient",`, fmt.Sprintf(`"resourceType":"Patient","id":%q,"active":%v,`, id, i == 0), 1)
				body = strings.Replace(body, `"Ada"`, fmt.Sprintf(`"Ada%d-%d"`, round, i), 1)
				statuses[i] = e.do("PUT", "/Patient/"+id, body, "If-Match", etag).Status
			}()
		}
		wg.Wait()
		ok, failed := 0, 0
		for _, s := range statuses {
			switch s {
			case 200:
				ok++
			case 412:
				failed++
			}
		}
		if ok != 1 || failed != 1 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, statuses)
		}
	}
}

func TestBatch(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	var pat map[string]any
	_ = json.Unmarshal([]byte(patientAda), &pat)
	bundle := map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"resource": pat, "request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"resource": map[string]any{"resourceType": "Patient", "gender": "man"}, "request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Patient/does-not-exist"}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Patient?gender=female"}},
	}}
	b, _ := json.Marshal(bundle)
	r := e.do("POST", "/", string(b))
	e.mustStatus(r, http.StatusOK)
	out := r.json(t)
	if out["type"] != "batch-response" {
		t.Fatalf("type %v", out["type"])
	}
	var statuses []string
	for _, en := range out["entry"].([]any) {
		statuses = append(statuses, en.(map[string]any)["response"].(map[string]any)["status"].(string))
	}
	want := []string{"201 Created", "422 Unprocessable Entity", "404 Not Found", "200 OK"}
	if strings.Join(statuses, "|") != strings.Join(want, "|") {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	// transaction is refused whole
	r = e.do("POST", "/", `{"resourceType":"Bundle","type":"transaction","entry":[]}`)
	e.mustStatus(r, http.StatusUnprocessableEntity)
	outcome(t, r)
}

func TestCapabilityStatement(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	r := e.do("GET", "/metadata", "", "Accept", "application/fhir+json")
	e.mustStatus(r, http.StatusOK)
	cs := r.json(t)
	if cs["resourceType"] != "CapabilityStatement" || cs["fhirVersion"] != "4.0.1" {
		t.Fatalf("metadata %s", r.Body)
	}
	rest := cs["rest"].([]any)[0].(map[string]any)
	types := map[string]map[string]any{}
	for _, res := range rest["resource"].([]any) {
		m := res.(map[string]any)
		types[m["type"].(string)] = m
	}
	if len(types) != 24 {
		t.Fatalf("%d resource types", len(types))
	}
	if ae := types["AuditEvent"]; len(ae["interaction"].([]any)) != 2 {
		t.Errorf("AuditEvent is append-only: %v", ae["interaction"])
	}
	// Every advertised search parameter is accepted by the search endpoint.
	for typ, m := range types {
		if typ == "AuditEvent" {
			continue // the audit trail's own search, tested in audit_test.go
		}
		for _, p := range m["searchParam"].([]any) {
			name := p.(map[string]any)["name"].(string)
			q := name + ":missing=true"
			if strings.HasPrefix(name, "_") { // always present: no :missing
				q = name + "=x1"
				if name == "_lastUpdated" {
					q = name + "=ge2020"
				}
			}
			r := e.do("GET", "/"+typ+"?"+q+"&_summary=count", "")
			if r.Status != http.StatusOK {
				t.Errorf("%s?%s:missing advertised but refused: %s", typ, name, r.Body)
			}
		}
	}
}

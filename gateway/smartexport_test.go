package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/audit"
)

// A running or finished export's status and files go only to a token of
// the client that started it whose scopes still cover every type the job
// exports: the same client's narrower token (system/Patient.rs, for an
// export of Patient and Encounter) is refused with a 403 naming the scope
// it lacks, audited as refused by scope; a token with exactly the job's
// types is served; cancelling needs no scope; another client is told
// there is no such export.
func TestSMARTExportScopesCoverTheJob(t *testing.T) {
	se := newSmartEnv(t)
	people := loadPeople(t, se.env)
	relate(t, se.env, people["01"])

	wide := se.accessToken(t, se.wide, "system/*.rs")
	narrow := se.accessToken(t, se.wide, "system/Patient.rs")
	exact := se.accessToken(t, se.wide, "system/Patient.rs system/Encounter.rs")
	other := se.accessToken(t, se.narrow, "system/Patient.rs")

	se.token = wide
	status := se.kickOff(t, http.MethodGet, "/Patient/$export?_type=Patient,Encounter", "")
	refused := func(path string) {
		t.Helper()
		r := se.do(http.MethodGet, path, "")
		se.mustStatus(r, http.StatusForbidden)
		if d := diagnostics(t, r); !strings.Contains(d, "system/Encounter.rs") || !strings.Contains(d, "the token's scopes: system/Patient.rs") {
			t.Errorf("GET %s with system/Patient.rs: %q should name the scope it lacks and the token's", path, d)
		}
	}
	// Refused while the job runs or once it is done, whichever it is now.
	se.token = narrow
	refused(status)

	se.token = wide
	m := se.poll(t, status)
	var files []string
	for _, f := range m.Output {
		files = append(files, strings.TrimPrefix(f.URL, se.srv.URL))
	}
	if len(files) < 2 {
		t.Fatalf("the export wrote %v: want a Patient and an Encounter file", m.Output)
	}
	for _, path := range append([]string{status}, files...) {
		se.token = narrow
		refused(path)
		se.token = exact
		se.mustStatus(se.do(http.MethodGet, path, ""), http.StatusOK)
		se.token = other
		se.mustStatus(se.do(http.MethodGet, path, ""), http.StatusNotFound)
	}

	events, _, err := se.eng.Audit.Search(context.Background(), audit.Query{Org: "RYQ", Count: 500})
	if err != nil {
		t.Fatal(err)
	}
	scopeRefusals := 0
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), "smart-scope") && strings.Contains(string(b), "$export-") {
			scopeRefusals++
		}
	}
	if want := 2 + len(files); scopeRefusals != want {
		t.Errorf("%d audit records of status or file requests refused by scope, want %d", scopeRefusals, want)
	}

	se.token = narrow
	se.mustStatus(se.do(http.MethodDelete, status, ""), http.StatusAccepted)
	se.token = wide
	se.mustStatus(se.do(http.MethodGet, status, ""), http.StatusNotFound)
}

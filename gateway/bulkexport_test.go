package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/gateway"
)

// manifest is a completed export's manifest.
type manifest struct {
	TransactionTime     string
	Request             string
	RequiresAccessToken *bool
	Output, Error       []struct {
		Type, URL string
		Count     int
	}
}

// kickOff starts an export as the env's token and returns its status URL
// (the path).
func (e *env) kickOff(t *testing.T, method, path, body string, headers ...string) string {
	t.Helper()
	h := append([]string{"Accept", "application/fhir+json", "Prefer", "respond-async"}, headers...)
	r := e.do(method, path, body, h...)
	e.mustStatus(r, http.StatusAccepted)
	loc := r.Header.Get("Content-Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/$export-status/") {
		t.Fatalf("Content-Location %q", loc)
	}
	return strings.TrimPrefix(loc, e.srv.URL)
}

// poll polls a status URL until the export is done (bounded by count,
// not time) and returns the manifest.
func (e *env) poll(t *testing.T, status string) manifest {
	t.Helper()
	for range 3000 {
		r := e.do(http.MethodGet, status, "")
		switch r.Status {
		case http.StatusAccepted:
			if r.Header.Get("X-Progress") == "" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("202 without X-Progress and Retry-After: %v", r.Header)
			}
			time.Sleep(5 * time.Millisecond) // only to not spin: the loop is bounded by its count
		case http.StatusOK:
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("manifest Content-Type %q", ct)
			}
			var m manifest
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			if m.RequiresAccessToken == nil || !*m.RequiresAccessToken || m.TransactionTime == "" || m.Request == "" || m.Error == nil {
				t.Fatalf("manifest lacks a required field: %s", r.Body)
			}
			return m
		default:
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
	}
	t.Fatal("the export did not finish in 3000 polls")
	return manifest{}
}

// download fetches every output file of m and returns the resources
// ("Type/id" -> compact JSON), checking each validates against R4, is of
// its file's type and comes once.
func (e *env) download(t *testing.T, m manifest) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, f := range m.Output {
		if !strings.HasPrefix(f.URL, e.srv.URL+"/") {
			t.Fatalf("file URL %q is not absolute on the server", f.URL)
		}
		r := e.do(http.MethodGet, strings.TrimPrefix(f.URL, e.srv.URL), "", "Accept", "application/fhir+ndjson")
		e.mustStatus(r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/fhir+ndjson" {
			t.Errorf("file Content-Type %q", ct)
		}
		n := 0
		for line := range bytes.Lines(r.Body) {
			n++
			obj, err := fhir.DecodeObject(bytes.TrimSpace(line))
			if err != nil {
				t.Fatalf("%s line %d: %v", f.URL, n, err)
			}
			if _, err := validate.Object(obj); err != nil {
				t.Errorf("%s line %d does not validate: %v", f.URL, n, err)
			}
			ref := obj["resourceType"].(string) + "/" + obj["id"].(string)
			if obj["resourceType"] != f.Type {
				t.Errorf("%s in a %s file", ref, f.Type)
			}
			if _, dup := got[ref]; dup {
				t.Errorf("%s exported twice (%s)", ref, f.URL)
			}
			got[ref] = compact(string(bytes.TrimSpace(line)))
		}
		if n != f.Count {
			t.Errorf("%s: %d lines, manifest count %d", f.URL, n, f.Count)
		}
	}
	return got
}

// readable is what the env's token reads, one resource at a time, of the
// people's resources of the given types: "Type/id" -> compact JSON.
func (e *env) readable(t *testing.T, people map[string]*person, types []string) map[string]string {
	t.Helper()
	want := map[string]string{}
	for _, p := range people {
		for typ, rs := range p.byType {
			if !slices.Contains(types, typ) {
				continue
			}
			for _, res := range rs {
				ref := typ + "/" + res.ID
				if _, done := want[ref]; done {
					continue
				}
				r := e.do(http.MethodGet, "/"+ref, "")
				switch r.Status {
				case http.StatusOK:
					want[ref] = compact(string(r.Body))
				case http.StatusForbidden:
				default:
					t.Fatalf("GET %s: %d %s", ref, r.Status, r.Body)
				}
			}
		}
	}
	return want
}

func patientTypes() []string {
	return append([]string{"Patient"}, slices.DeleteFunc(search.CompartmentTypes(), func(t string) bool { return t == "AuditEvent" })...)
}

// sameResources reports the differences between what was exported and
// what the caller reads one by one.
func sameResources(t *testing.T, got, want map[string]string) {
	t.Helper()
	for ref, body := range want {
		switch g, ok := got[ref]; {
		case !ok:
			t.Errorf("%s is readable but not exported", ref)
		case g != body:
			t.Errorf("%s exported as\n%s\nread as\n%s", ref, g, body)
		}
	}
	for ref := range got {
		if _, ok := want[ref]; !ok {
			t.Errorf("%s exported but not readable", ref)
		}
	}
}

// trustEnv is the fixture people under the baseline policy, with the
// trust RJ1 related (an emergency encounter) to person 01 and to person
// 05, who objected to sharing.
func trustEnv(t *testing.T, cfg gateway.Config) (*env, map[string]*person) {
	t.Helper()
	cfg.Policy = loadPolicy(t, "../policy")
	e := newEnv(t, cfg)
	people := loadPeople(t, e)
	org := `{"resourceType":"Organization","id":"trust-rj1","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RJ1"}],"name":"Guy's and St Thomas'"}`
	put := func(typ, id, body string) map[string]any {
		obj, err := fhir.DecodeObject([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Update(context.Background(), &fhir.Resource{Type: typ, ID: id, Object: obj}, 0); err != nil {
			t.Fatal(err)
		}
		return obj
	}
	put("Organization", "trust-rj1", org)
	day := time.Now().UTC().AddDate(0, 0, -10).Format("2006-01-02")
	for _, k := range []string{"01", "05"} {
		p := people[k]
		enc := `{"resourceType":"Encounter","id":"rj1-` + k + `","status":"finished",
		 "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER","display":"emergency"},
		 "subject":{"reference":"` + p.patient + `"},"serviceProvider":{"reference":"Organization/trust-rj1"},
		 "period":{"start":"` + day + `T10:00:00Z","end":"` + day + `T14:00:00Z"}}`
		obj := put("Encounter", "rj1-"+k, enc)
		p.byType["Encounter"] = append(p.byType["Encounter"], fhir.Resource{Type: "Encounter", ID: "rj1-" + k, Object: obj})
	}
	e.token = mintTrust(t)
	return e, people
}

// A trust's Patient/$export holds exactly what the trust reads one
// resource at a time (the same redactions), every line valid R4: the
// person it treated, never the one who objected to sharing, nor anyone
// it has no relationship with.
func TestExportTrustGetsWhatItMayReadAndNotTheObjector(t *testing.T) {
	e, people := trustEnv(t, gateway.Config{ExportPageSize: 7, ExportFileResources: 5})
	want := e.readable(t, people, patientTypes())
	if _, ok := want[people["01"].patient]; !ok || len(want) < 5 {
		t.Fatalf("the trust reads %d resources, without %s: the fixture relationship is missing", len(want), people["01"].patient)
	}
	m := e.poll(t, e.kickOff(t, http.MethodGet, "/Patient/$export", ""))
	got := e.download(t, m)
	sameResources(t, got, want)
	objector := people["05"].patient
	for ref, body := range got {
		if ref == objector || strings.Contains(body, `"`+objector+`"`) {
			t.Errorf("%s of the person who objected was exported", ref)
		}
	}
	if len(m.Output) < 2 {
		t.Errorf("%d files for %d resources at 5 a file", len(m.Output), len(got))
	}
	if !strings.HasSuffix(m.Request, "/Patient/$export") {
		t.Errorf("request %q", m.Request)
	}
	// The kick-off, the polls and every download are audited; the
	// manifest and the downloads with counts, the downloads with the
	// patients whose records they held.
	ops := map[string][]string{}
	events, _, err := e.eng.Audit.Search(context.Background(), audit.Query{Org: "RJ1", Count: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		for _, op := range []string{"$export-status", "$export-download", "$export"} {
			if bytes.Contains(b, []byte(`"valueString":"`+op+`"`)) {
				ops[op] = append(ops[op], string(b))
				break
			}
		}
	}
	if len(ops["$export"]) != 1 || len(ops["$export-status"]) == 0 || len(ops["$export-download"]) != len(m.Output) {
		t.Fatalf("audited: %d kick-offs, %d polls, %d downloads of %d files", len(ops["$export"]), len(ops["$export-status"]), len(ops["$export-download"]), len(m.Output))
	}
	if !slices.ContainsFunc(ops["$export-status"], func(ev string) bool { return strings.Contains(ev, `"type":"count"`) }) {
		t.Error("no status record carries the manifest's counts")
	}
	patientSeen := false
	for _, ev := range ops["$export-download"] {
		if !strings.Contains(ev, `"type":"count"`) {
			t.Errorf("download record without a count: %s", ev)
		}
		patientSeen = patientSeen || strings.Contains(ev, `"reference":"`+people["01"].patient+`"`)
		if strings.Contains(ev, objector) {
			t.Errorf("a download record names the objector: %s", ev)
		}
	}
	if !patientSeen {
		t.Error("no download record names the exported person")
	}
	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("the audit trail does not verify: %s", out)
	}
}

// A council's system-level export holds every resource it reads, of
// every type, and _type, _since and _typeFilter narrow it.
func TestExportCouncilSystemLevel(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy"), ExportPageSize: 50})
	people := loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	var all []string
	for _, typ := range fhir.ResourceTypes {
		if typ != "AuditEvent" {
			all = append(all, typ)
		}
	}
	want := e.readable(t, people, all)
	got := e.download(t, e.poll(t, e.kickOff(t, http.MethodGet, "/$export", "")))
	sameResources(t, got, want)

	t.Run("_type", func(t *testing.T) {
		got := e.download(t, e.poll(t, e.kickOff(t, http.MethodGet, "/$export?_type=Patient,Flag&_outputFormat=application/fhir+ndjson", "")))
		sameResources(t, got, e.readable(t, people, []string{"Patient", "Flag"}))
	})
	t.Run("_since after everything", func(t *testing.T) {
		since := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
		m := e.poll(t, e.kickOff(t, http.MethodGet, "/$export?_outputFormat=ndjson&_since="+since, ""))
		if len(m.Output) != 0 {
			t.Errorf("an export since the future has files: %+v", m.Output)
		}
	})
	t.Run("_typeFilter", func(t *testing.T) {
		p := people["01"].patient
		body := `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Patient,Observation"},
		 {"name":"_typeFilter","valueString":"Observation?subject=` + p + `"},{"name":"_typeFilter","valueString":"Patient?_id=` + strings.TrimPrefix(p, "Patient/") + `"}]}`
		got := e.download(t, e.poll(t, e.kickOff(t, http.MethodPost, "/$export", body)))
		if len(got) == 0 {
			t.Fatal("nothing exported")
		}
		for ref, b := range got {
			if ref != p && !strings.Contains(b, `"`+p+`"`) {
				t.Errorf("%s is not person 01's", ref)
			}
		}
		if _, ok := got[p]; !ok {
			t.Errorf("%s missing", p)
		}
	})
}

// POST Patient/$export with patient parameters exports those people only.
func TestExportPatientParameter(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	p := people["03"]
	body := `{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"` + p.patient + `"}}]}`
	got := e.download(t, e.poll(t, e.kickOff(t, http.MethodPost, "/Patient/$export", body)))
	want := e.readable(t, map[string]*person{"03": p}, patientTypes())
	for ref := range want {
		if ref != p.patient && !strings.Contains(want[ref], `"`+p.patient+`"`) {
			delete(want, ref) // in the fixture record but not in the person's compartment
		}
	}
	sameResources(t, got, want)
}

// Status and files belong to the client that started the export: anyone
// else, of another organisation or the same, is told there is none;
// without a token nothing is served.
func TestExportIsTheClientsOwn(t *testing.T) {
	e, _ := trustEnv(t, gateway.Config{})
	status := e.kickOff(t, http.MethodGet, "/Patient/$export", "")
	m := e.poll(t, status)
	if len(m.Output) == 0 {
		t.Fatal("nothing exported")
	}
	file := strings.TrimPrefix(m.Output[0].URL, e.srv.URL)
	owner := e.token
	for name, tok := range map[string]string{
		"another organisation":      councilToken(t, "R1330", "TREAT"),
		"another user of the trust": resign(t, owner, func(c map[string]any) { c["sub"] = "another-user" }),
	} {
		e.token = tok
		for _, path := range []string{status, file} {
			r := e.do(http.MethodGet, path, "")
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: GET %s: %d, want 404", name, path, r.Status)
			}
			outcome(t, r)
		}
		e.mustStatus(e.do(http.MethodDelete, status, ""), http.StatusNotFound)
	}
	e.token = ""
	for _, path := range []string{status, file} {
		e.mustStatus(e.do(http.MethodGet, path, ""), http.StatusUnauthorized)
	}
	e.token = owner
	e.mustStatus(e.do(http.MethodGet, file, ""), http.StatusOK)
}

// DELETE cancels a running export and removes its files: its status is
// 404 after.
func TestExportCancel(t *testing.T) {
	e, _ := trustEnv(t, gateway.Config{ExportPageSize: 1})
	reached, release := make(chan string, 1), make(chan struct{})
	gateway.SetExportPageHook(e.gw, func(job string) {
		select {
		case reached <- job:
			<-release
		default:
		}
	})
	status := e.kickOff(t, http.MethodGet, "/Patient/$export", "")
	job := <-reached
	dir := filepath.Join(e.dir, "exports", job)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("no files while running: %v", err)
	}
	r := e.do(http.MethodGet, status, "")
	e.mustStatus(r, http.StatusAccepted)
	// A second export while the first runs is refused for now.
	r = e.do(http.MethodGet, "/Patient/$export", "", "Accept", "application/fhir+json", "Prefer", "respond-async")
	e.mustStatus(r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	go close(release)
	e.mustStatus(e.do(http.MethodDelete, status, ""), http.StatusAccepted)
	e.mustStatus(e.do(http.MethodGet, status, ""), http.StatusNotFound)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the files of the cancelled export remain: %v", err)
	}
	// Another export may start now.
	e.poll(t, e.kickOff(t, http.MethodGet, "/Patient/$export", ""))
}

// Finished exports expire: status and files are 410 after the expiry
// time, and the files are gone.
func TestExportExpires(t *testing.T) {
	var now time.Time
	clock := func() time.Time { return now }
	e, _ := trustEnv(t, gateway.Config{ExportExpiry: time.Hour, Now: func() time.Time { return clock() }})
	now = time.Now() // after the records were stored: the export reads as of now
	status := e.kickOff(t, http.MethodGet, "/Patient/$export", "")
	m := e.poll(t, status)
	file := strings.TrimPrefix(m.Output[0].URL, e.srv.URL)
	e.mustStatus(e.do(http.MethodGet, file, ""), http.StatusOK)
	later := now.Add(time.Hour + time.Second)
	clock = func() time.Time { return later }
	for _, path := range []string{status, file} {
		r := e.do(http.MethodGet, path, "")
		e.mustStatus(r, http.StatusGone)
		if d := diagnostics(t, r); !strings.Contains(d, "expired") {
			t.Errorf("410 says %q", d)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(e.dir, "exports"))
	if len(entries) != 0 {
		t.Errorf("expired files remain: %v", entries)
	}
}

// Kick-off errors are 400 OperationOutcomes naming the parameter or
// header; unknown parameters are ignored under Prefer: handling=lenient,
// and said so in the error file.
func TestExportKickOffErrors(t *testing.T) {
	e, _ := trustEnv(t, gateway.Config{})
	ok := []string{"Accept", "application/fhir+json", "Prefer", "respond-async"}
	for _, c := range []struct {
		note, method, path, body string
		headers                  []string
		status                   int
		want                     string
	}{
		{note: "no Prefer", method: "GET", path: "/$export", headers: []string{"Accept", "application/fhir+json"}, status: 400, want: "respond-async"},
		{note: "no Accept", method: "GET", path: "/$export", headers: []string{"Prefer", "respond-async"}, status: 400, want: "Accept: application/fhir+json"},
		{note: "Accept JSON", method: "GET", path: "/$export", headers: []string{"Accept", "application/json", "Prefer", "respond-async"}, status: 400, want: "Accept: application/fhir+json"},
		{note: "Accept FHIR JSON with q=0", method: "GET", path: "/$export", headers: []string{"Accept", "application/fhir+json;q=0, */*", "Prefer", "respond-async"}, status: 400, want: "Accept: application/fhir+json"},
		{note: "csv", method: "GET", path: "/$export?_outputFormat=text/csv", headers: ok, status: 400, want: "_outputFormat"},
		{note: "bad _since", method: "GET", path: "/$export?_since=yesterday", headers: ok, status: 400, want: "_since"},
		{note: "unknown type", method: "GET", path: "/Patient/$export?_type=Organization", headers: ok, status: 400, want: "Organization"},
		{note: "unknown parameter", method: "GET", path: "/$export?colour=red", headers: ok, status: 400, want: "colour"},
		{note: "_elements", method: "GET", path: "/$export?_elements=id", headers: ok, status: 400, want: "_elements"},
		{note: "patient in a GET", method: "GET", path: "/Patient/$export?patient=Patient/x", headers: ok, status: 400, want: "POST"},
		{note: "patient at system level", method: "POST", path: "/$export", headers: ok, status: 400, want: "Patient/$export",
			body: `{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"Patient/x"}}]}`},
		{note: "not Parameters", method: "POST", path: "/$export", headers: ok, status: 400, want: "Parameters", body: `{"resourceType":"Patient"}`},
		{note: "_typeFilter with _include", method: "GET", path: "/$export?_typeFilter=Observation%3F_include%3DObservation:subject", headers: ok, status: 400, want: "_include"},
		{note: "_typeFilter unknown parameter", method: "GET", path: "/$export?_typeFilter=Observation%3Fcolour%3Dred", headers: ok, status: 400, want: "_typeFilter"},
		{note: "unknown Group", method: "GET", path: "/Group/g1/$export", headers: ok, status: 404, want: "g1"},
		{note: "patient in a Group GET", method: "GET", path: "/Group/g1/$export?patient=Patient/x", headers: ok, status: 400, want: "POST"},
		{note: "PUT", method: "PUT", path: "/$export", headers: ok, status: 405, want: "allowed"},
	} {
		t.Run(c.note, func(t *testing.T) {
			r := e.do(c.method, c.path, c.body, c.headers...)
			e.mustStatus(r, c.status)
			if d := diagnostics(t, r); !strings.Contains(d, c.want) {
				t.Errorf("diagnostics %q do not name %q", d, c.want)
			}
		})
	}
	t.Run("lenient", func(t *testing.T) {
		m := e.poll(t, e.kickOff(t, http.MethodGet, "/Patient/$export?colour=red", "", "Prefer", "respond-async, handling=lenient"))
		if len(m.Error) != 1 || m.Error[0].Type != "OperationOutcome" {
			t.Fatalf("error files %+v", m.Error)
		}
		r := e.do(http.MethodGet, strings.TrimPrefix(m.Error[0].URL, e.srv.URL), "")
		e.mustStatus(r, http.StatusOK)
		if !bytes.Contains(r.Body, []byte("colour")) {
			t.Errorf("the error file does not name the ignored parameter: %s", r.Body)
		}
	})
}

// An Accept header listing application/fhir+json among other media
// ranges, as Medplum's client sends it, is a valid kick-off (the outside
// Bulk Data client in scripts/bulk was refused: only a lone
// application/fhir+json was accepted).
func TestExportKickOffAcceptList(t *testing.T) {
	e, _ := trustEnv(t, gateway.Config{})
	for _, accept := range []string{"application/fhir+json, */*; q=0.1", "text/html;q=0.5, application/fhir+json;q=0.9"} {
		status := e.kickOff(t, http.MethodPost, "/Patient/$export", "", "Accept", accept)
		e.poll(t, status)
	}
}

// An export interrupted by a restart resumes from its last saved page:
// after the engine is closed and opened again, the export finishes with
// every resource once, the same as an uninterrupted one.
func TestExportResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	cfg := gateway.Config{ExportPageSize: 3, ExportFileResources: 4}
	e, _ := trustEnv(t, cfg)
	want := e.download(t, e.poll(t, e.kickOff(t, http.MethodGet, "/Patient/$export", "")))

	pages, reached, release := 0, make(chan struct{}), make(chan struct{})
	gateway.SetExportPageHook(e.gw, func(string) {
		if pages++; pages == 4 {
			close(reached)
			<-release
		}
	})
	status := e.kickOff(t, http.MethodGet, "/Patient/$export", "")
	<-reached
	gateway.StopExports(e.gw) // the gateway stops mid-export
	close(release)
	if err := e.gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e.mustStatus(e.do(http.MethodGet, status, ""), http.StatusAccepted)
	token := e.token

	if err := e.eng.Close(ctx); err != nil {
		t.Fatalf("close the engine: %v", err)
	}
	base := reopen(t, e)
	cfg.Policy = loadPolicy(t, "../policy")
	e = base.serve(t, cfg, nil)
	e.token = token
	if err := e.gw.ResumeExports(ctx); err != nil {
		t.Fatal(err)
	}
	got := e.download(t, e.poll(t, status))
	sameResources(t, got, want)
	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("the audit trail does not verify: %s", out)
	}
}

// The CapabilityStatement declares the export operations by their
// canonical OperationDefinitions and instantiates the Bulk Data one.
func TestExportCapabilityStatement(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	r := e.do(http.MethodGet, "/metadata", "")
	e.mustStatus(r, http.StatusOK)
	var cs struct {
		Instantiates []string
		Rest         []struct {
			Operation []struct{ Name, Definition string }
			Resource  []struct {
				Type      string
				Operation []struct{ Name, Definition string }
			}
		}
	}
	if err := json.Unmarshal(r.Body, &cs); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cs.Instantiates, "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data") {
		t.Errorf("instantiates %v", cs.Instantiates)
	}
	defs := map[string]bool{}
	for _, o := range cs.Rest[0].Operation {
		defs[o.Definition] = true
	}
	for _, res := range cs.Rest[0].Resource {
		for _, o := range res.Operation {
			defs[res.Type+" "+o.Definition] = true
		}
	}
	for _, d := range []string{"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export", "Patient http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
		"Group http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"} {
		if !defs[d] {
			t.Errorf("%s not declared", d)
		}
	}
}

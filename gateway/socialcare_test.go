package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/gateway"
)

const socialCareFixtures = "../fixtures/socialcare"

// newSocialCareEnv is a gateway with social care ingest (the engine's
// ingester, recovered as at start-up) over a real engine.
func newSocialCareEnv(t *testing.T) *env {
	t.Helper()
	eng := openEngine(t, "")
	if _, err := eng.eng.Ingest.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := eng.serve(t, gateway.Config{Ingester: eng.eng.Ingest}, nil)
	// The fixtures are sent by the council SYN01: records are accepted only
	// from the organisation the token acts for.
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYN01", Role: "R1330", Purpose: "TREAT"})
	return e
}

type ingestSummary struct {
	Patient   string          `json:"patient"`
	Outcome   string          `json:"outcome"`
	Counts    map[string]int  `json:"counts"`
	Resources []ingest.Stored `json:"resources"`
}

func postRecord(e *env, body []byte) (*response, ingestSummary) {
	e.t.Helper()
	r := e.do("POST", "/social-care/records", string(body), "Content-Type", "application/json")
	var s ingestSummary
	if r.Status < 300 {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			e.t.Errorf("summary Content-Type %q", ct)
		}
		if err := json.Unmarshal(r.Body, &s); err != nil {
			e.t.Fatalf("summary is not JSON: %s", r.Body)
		}
	}
	return r, s
}

func socialCareFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(socialCareFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSocialCareRecordsAreStoredReadableAndSearchable(t *testing.T) {
	e := newSocialCareEnv(t)
	names, err := filepath.Glob(filepath.Join(socialCareFixtures, "*.json"))
	if err != nil || len(names) != 14 {
		t.Fatalf("fixtures: %v, %d files", err, len(names))
	}
	for _, path := range names {
		t.Run(filepath.Base(path), func(t *testing.T) {
			e.t = t
			data := socialCareFixture(t, filepath.Base(path))
			r, sum := postRecord(e, data)
			e.mustStatus(r, http.StatusCreated)
			if sum.Outcome != "created" || sum.Counts["created"] == 0 || len(sum.Resources) == 0 {
				t.Fatalf("summary: %s", r.Body)
			}
			if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/"+sum.Patient) {
				t.Errorf("Location %q, want the Patient %s", loc, sum.Patient)
			}
			if last := sum.Resources[len(sum.Resources)-1]; !last.Provenance || last.ResourceType != "Provenance" {
				t.Errorf("last resource %+v, want a Provenance", last)
			}
			found := map[string]map[string]bool{} // type -> ids found by patient=
			searched := 0
			for _, s := range sum.Resources {
				rr := e.do("GET", "/"+s.ResourceType+"/"+s.ID, "")
				e.mustStatus(rr, http.StatusOK)
				if !hasPatientParam(s.ResourceType) {
					continue
				}
				if found[s.ResourceType] == nil {
					found[s.ResourceType] = searchIDs(e, s.ResourceType, sum.Patient)
				}
				searched++
				refersToPatient := bytes.Contains(rr.Body, []byte(`"reference":"`+sum.Patient+`"`))
				if found[s.ResourceType][s.ID] != refersToPatient {
					t.Errorf("%s/%s: found by patient=%s: %v; refers to the patient: %v", s.ResourceType, s.ID, sum.Patient, found[s.ResourceType][s.ID], refersToPatient)
				}
			}
			if searched == 0 || len(found["Provenance"]) == 0 {
				t.Errorf("patient= searches checked %d resources and found %d Provenance", searched, len(found["Provenance"]))
			}

			again, sum2 := postRecord(e, data)
			e.mustStatus(again, http.StatusOK)
			if sum2.Outcome != "unchanged" || sum2.Counts["unchanged"] != len(sum.Resources) {
				t.Fatalf("re-send: %s", again.Body)
			}
			for _, s := range sum2.Resources {
				if s.Outcome != ingest.Unchanged || s.VersionID != 1 {
					t.Errorf("re-send: %s/%s %s at version %d", s.ResourceType, s.ID, s.Outcome, s.VersionID)
				}
			}
			if v := e.do("GET", "/"+sum.Patient, "").json(t)["meta"].(map[string]any)["versionId"]; v != "1" {
				t.Errorf("Patient at version %v after an unchanged re-send", v)
			}
		})
	}
}

func hasPatientParam(resourceType string) bool {
	_, err := search.Parse(resourceType, url.Values{"patient": {"Patient/x"}}, search.Options{})
	return err == nil
}

// searchIDs returns the ids that a patient= search finds.
func searchIDs(e *env, resourceType, patient string) map[string]bool {
	e.t.Helper()
	r := e.do("GET", "/"+resourceType+"?_count=1000&patient="+url.QueryEscape(patient), "")
	e.mustStatus(r, http.StatusOK)
	ids := map[string]bool{}
	entries, _ := r.json(e.t)["entry"].([]any)
	for _, en := range entries {
		res := en.(map[string]any)["resource"].(map[string]any)
		ids[res["id"].(string)] = true
	}
	return ids
}

// badSocialCareRecord has four problems: an NHS number failing its check
// digit, a visit ending before it starts, a negative amount and an
// unknown field.
func badSocialCareRecord(t *testing.T) []byte {
	var m map[string]any
	if err := json.Unmarshal(socialCareFixture(t, "10-money-handled.json"), &m); err != nil {
		t.Fatal(err)
	}
	m["person"].(map[string]any)["nhsNumber"] = "9990000019"
	m["visits"].([]any)[0].(map[string]any)["actualEnd"] = "2025-03-03T07:00:00Z"
	m["transactions"].([]any)[0].(map[string]any)["amount"] = -5
	m["favouriteColour"] = "blue"
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSocialCareBadRecordIs422AndStoresNothing(t *testing.T) {
	e := newSocialCareEnv(t)
	// Something stored already, so that "nothing more" is checked against
	// collections that exist.
	e.mustStatus(first(postRecord(e, socialCareFixture(t, "01-daily-home-care.json"))), http.StatusCreated)
	before := countAll(t, e)
	if total(before) == 0 {
		t.Fatalf("nothing counted after a stored record: %v", before)
	}

	r, _ := postRecord(e, badSocialCareRecord(t))
	e.mustStatus(r, http.StatusUnprocessableEntity)
	var exprs []string
	for _, is := range outcome(t, r) {
		for _, x := range is["expression"].([]any) {
			exprs = append(exprs, x.(string))
		}
	}
	for _, want := range []string{"person.nhsNumber", "visits[0].actualEnd", "transactions[0].amount", "favouriteColour"} {
		if !slices.ContainsFunc(exprs, func(x string) bool { return strings.Contains(x, want) }) {
			t.Errorf("no issue names %s; issues at %v", want, exprs)
		}
	}
	if after := countAll(t, e); !maps.Equal(before, after) {
		t.Errorf("stored before %v, after %v", before, after)
	}
}

func first(r *response, _ ingestSummary) *response { return r }

func total(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

func TestSocialCareRecordRequests(t *testing.T) {
	e := newSocialCareEnv(t)
	for _, tc := range []struct {
		note        string
		contentType string
		body        string
		noToken     bool
		want        int
	}{
		{"malformed JSON", "application/json", `{"schemaVersion":`, false, http.StatusBadRequest},
		{"wrong content type", "text/plain", `{}`, false, http.StatusUnsupportedMediaType},
		{"no bearer token", "application/json", `{}`, true, http.StatusUnauthorized},
	} {
		t.Run(tc.note, func(t *testing.T) {
			e.t = t
			headers := []string{"Content-Type", tc.contentType}
			if tc.noToken {
				headers = append(headers, "Authorization", "")
			}
			r := e.do("POST", "/social-care/records", tc.body, headers...)
			e.mustStatus(r, tc.want)
			outcome(t, r)
		})
	}
}

func TestSocialCareSchema(t *testing.T) {
	e := newSocialCareEnv(t)
	for _, path := range []string{"/social-care/schema", "/social-care/schema/1.0"} {
		r := e.do("GET", path, "", "Authorization", "")
		e.mustStatus(r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/schema+json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if id := r.json(t)["$id"]; id != socialcare.SchemaURL {
			t.Errorf("%s: $id %v, want %s", path, id, socialcare.SchemaURL)
		}
	}
}

func TestSocialCareIngestNotConfigured(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	r := e.do("POST", "/social-care/records", `{}`, "Content-Type", "application/json")
	e.mustStatus(r, http.StatusNotImplemented)
}

func TestSocialCareImportJob(t *testing.T) {
	e := newSocialCareEnv(t)
	lines := bytes.Split(bytes.TrimSpace(socialCareFixture(t, "people.ndjson")), []byte("\n"))
	body := bytes.Join([][]byte{lines[0], badSocialCareRecord(t), bytes.Join(lines[1:], []byte("\n"))}, []byte("\n"))
	n := len(lines) + 1

	e.mustStatus(e.do("POST", "/social-care/$import", string(body), "Content-Type", "application/xml"), http.StatusUnsupportedMediaType)
	r := e.do("POST", "/social-care/$import", string(body), "Content-Type", "application/x-ndjson")
	e.mustStatus(r, http.StatusAccepted)
	loc := r.Header.Get("Content-Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/social-care/$import-status/") {
		t.Fatalf("Content-Location %q", loc)
	}
	path := strings.TrimPrefix(loc, e.srv.URL)
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = e.do("GET", path, "")
		if r.Status != http.StatusAccepted {
			break
		}
		if r.Header.Get("X-Progress") == "" {
			t.Error("202 without X-Progress")
		}
		if time.Now().After(deadline) {
			t.Fatal("import still running after 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.mustStatus(r, http.StatusOK)
	var st struct {
		State  string            `json:"state"`
		Report ingest.BulkReport `json:"report"`
	}
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatal(err)
	}
	rep := st.Report
	if st.State != ingest.JobDone || rep.Records != n || rep.Stored != n-1 || rep.Rejected != 1 || len(rep.Items) != n {
		t.Fatalf("report: %s", r.Body)
	}
	for k, it := range rep.Items {
		wantStatus := ingest.ItemStored
		if k == 1 {
			wantStatus = ingest.ItemRejected
		}
		if it.Line != k+1 || it.Status != wantStatus {
			t.Errorf("item %d: line %d %s, want line %d %s", k, it.Line, it.Status, k+1, wantStatus)
		}
		if wantStatus == ingest.ItemRejected && (it.Problems == nil || it.Problems.ResourceType != "OperationOutcome" || len(it.Problems.Issue) < 4) {
			t.Errorf("rejected line without its problems: %+v", it)
		}
		if wantStatus == ingest.ItemStored && e.do("GET", "/"+it.Patient, "").Status != http.StatusOK {
			t.Errorf("line %d: %s not readable", it.Line, it.Patient)
		}
	}
	e.mustStatus(e.do("GET", "/social-care/$import-status/00000000-0000-4000-8000-000000000000", ""), http.StatusNotFound)
	// Another organisation cannot follow this organisation's import.
	own := e.token
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "LA001", Role: "R1330", Purpose: "TREAT"})
	e.mustStatus(e.do("GET", path, ""), http.StatusNotFound)
	e.token = own
	e.mustStatus(e.do("GET", path, ""), http.StatusOK)
}

// Records are accepted only from the organisation the token acts for.
func TestSocialCareSenderMustBeCaller(t *testing.T) {
	e := newSocialCareEnv(t)
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "TST01", Role: "R1330", Purpose: "TREAT"})
	data, err := os.ReadFile("../fixtures/socialcare/01-daily-home-care.json")
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/social-care/records", string(data), "Content-Type", "application/json")
	e.mustStatus(r, http.StatusForbidden)
	outcome(t, r)
}

// A bulk import, like a single record, stores only records whose source is
// the organisation the token acts for; the others are rejected line by
// line, and nothing of them is stored.
func TestSocialCareImportSenderMustBeCaller(t *testing.T) {
	e := newSocialCareEnv(t)
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "TST01", Role: "R1330", Purpose: "TREAT"})
	body := socialCareFixture(t, "people.ndjson")
	n := len(bytes.Split(bytes.TrimSpace(body), []byte("\n")))
	st := e.bulkImport(t, body, "application/x-ndjson")
	if st.Report.Stored != 0 || st.Report.Rejected != n {
		t.Fatalf("records from another organisation: %d stored, %d rejected of %d", st.Report.Stored, st.Report.Rejected, n)
	}
	for _, it := range st.Report.Items {
		if it.Problems == nil || len(it.Problems.Issue) != 1 || it.Problems.Issue[0].Code != "forbidden" {
			t.Errorf("line %d: %+v, want one forbidden issue", it.Line, it.Problems)
		}
	}
	if r := e.do("GET", "/Patient?_count=1&_total=accurate", ""); r.Status == http.StatusOK {
		if tot, _ := r.json(t)["total"].(float64); tot != 0 {
			t.Errorf("%v Patients stored from records of another organisation", tot)
		}
	}
}

// A council knows the people it imports from a Client Level Data return:
// under the baseline policy its social worker reads each imported Patient.
func TestSocialCareCLDImportIsKnownToTheCouncil(t *testing.T) {
	eng := openEngine(t, "")
	if _, err := eng.eng.Ingest.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := eng.serve(t, gateway.Config{Ingester: eng.eng.Ingest, Policy: loadPolicy(t, "../policy")}, nil)
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYN01", Role: "R1330", Purpose: "TREAT"})
	data, err := os.ReadFile("../fixtures/socialcare/cld-example.csv")
	if err != nil {
		t.Fatal(err)
	}
	st := e.bulkImport(t, data, "text/csv")
	if st.Report.Stored == 0 || st.Report.Rejected != 0 {
		t.Fatalf("CLD import: %+v", st.Report)
	}
	for _, it := range st.Report.Items {
		if got := e.do("GET", "/"+it.Patient, ""); got.Status != http.StatusOK {
			t.Errorf("row %d: the council reads its imported %s: %d %s", it.Row, it.Patient, got.Status, got.Body)
		}
	}
}

// importStatus is a finished import job's status document.
type importStatus struct {
	State  string            `json:"state"`
	Report ingest.BulkReport `json:"report"`
}

// bulkImport sends body to $import as contentType, waits for the job to
// finish and returns its status.
func (e *env) bulkImport(t *testing.T, body []byte, contentType string) importStatus {
	t.Helper()
	r := e.do("POST", "/social-care/$import", string(body), "Content-Type", contentType)
	e.mustStatus(r, http.StatusAccepted)
	path := strings.TrimPrefix(r.Header.Get("Content-Location"), e.srv.URL)
	deadline := time.Now().Add(60 * time.Second)
	for r = e.do("GET", path, ""); r.Status == http.StatusAccepted; r = e.do("GET", path, "") {
		if time.Now().After(deadline) {
			t.Fatal("import still running after 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.mustStatus(r, http.StatusOK)
	var st importStatus
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

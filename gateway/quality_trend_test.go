package gateway_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/gateway"
)

// trendPoint is one snapshot of a $data-quality-trend answer.
type trendPoint struct {
	task, trigger string
	counts        map[string]int
	changes       map[string]int // absent for the first snapshot
}

func readTrend(t *testing.T, r *response) []trendPoint {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("$data-quality-trend: %d %s", r.Status, r.Body)
	}
	type part struct {
		Name           string
		ValueCode      string
		ValueInteger   *int
		ValueReference struct{ Reference string }
		Part           []part
	}
	var p struct {
		ResourceType string
		Parameter    []part
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.ResourceType != "Parameters" {
		t.Fatalf("not a Parameters resource (%v): %s", err, r.Body)
	}
	var out []trendPoint
	for _, prm := range p.Parameter {
		if prm.Name != "snapshot" {
			continue
		}
		pt := trendPoint{counts: map[string]int{}, changes: map[string]int{}}
		for _, sp := range prm.Part {
			switch sp.Name {
			case "snapshot":
				pt.task = strings.TrimPrefix(sp.ValueReference.Reference, "Task/")
			case "trigger":
				pt.trigger = sp.ValueCode
			case "check":
				code := ""
				for _, cp := range sp.Part {
					switch cp.Name {
					case "code":
						code = cp.ValueCode
					case "count":
						pt.counts[code] = *cp.ValueInteger
					case "change":
						pt.changes[code] = *cp.ValueInteger
					}
				}
			}
		}
		out = append(out, pt)
	}
	return out
}

// The data lead's trend: a snapshot on demand counts what the report
// counts over the whole record, stored as a Task holding a MeasureReport
// (valid R4); a planted gap shows as +1 in the next; the daily job takes
// one a day for the organisation, once between two instances sharing the
// database, audited as the gateway; the trend comes as JSON, CSV and a
// page, only the organisation's own, and the policy refuses it to
// others.
func TestDataQualityTrend(t *testing.T) {
	now := qualityNow
	cfg := gateway.Config{Policy: loadPolicy(t, "../policy"), Clock: func() time.Time { return now }}
	e := newEnv(t, cfg)
	people := loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")

	if got := readTrend(t, e.do(http.MethodGet, "/$data-quality-trend", "")); len(got) != 0 {
		t.Fatalf("a trend before any snapshot: %v", got)
	}

	// On demand: what the whole-record report counts.
	r := e.do(http.MethodPost, "/$data-quality-snapshot", "")
	e.mustStatus(r, http.StatusCreated)
	if _, err := validate.Resource(r.Body); err != nil {
		t.Errorf("the snapshot's Task is not valid R4: %v\n%s", err, r.Body)
	}
	var task struct {
		ID, Status string
		Contained  []struct {
			ResourceType, Status, Type, Measure string
			Group                               []struct {
				Code struct {
					Coding []struct{ System, Code string }
				}
				Population []struct {
					Code struct {
						Coding []struct{ System, Code string }
					}
					Count int
				}
			}
		}
	}
	if err := json.Unmarshal(r.Body, &task); err != nil || len(task.Contained) != 1 {
		t.Fatalf("the snapshot: %v %s", err, r.Body)
	}
	if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/Task/"+task.ID) {
		t.Errorf("Location %q", loc)
	}
	mr := task.Contained[0]
	if task.Status != "completed" || mr.ResourceType != "MeasureReport" || mr.Status != "complete" || mr.Type != "summary" || len(mr.Group) != 10 ||
		mr.Group[0].Population[0].Code.Coding[0].Code != "initial-population" || mr.Group[0].Population[0].Code.Coding[0].System != "http://terminology.hl7.org/CodeSystem/measure-population" {
		t.Fatalf("the snapshot's shape: %s", r.Body)
	}
	items := qualityItems(t, e.do(http.MethodGet, "/$data-quality", ""))
	first := readTrend(t, e.do(http.MethodGet, "/$data-quality-trend", ""))
	if len(first) != 1 || first[0].task != task.ID || first[0].trigger != "on-demand" || len(first[0].changes) != 0 {
		t.Fatalf("the trend after one snapshot: %+v", first)
	}
	planted := 0
	for code, n := range first[0].counts {
		if n != len(items[code]) {
			t.Errorf("%s: the snapshot counts %d, the report lists %d", code, n, len(items[code]))
		}
		planted += n
	}
	if planted == 0 || first[0].counts["nhs-number-missing"] == 0 {
		t.Fatalf("the fixtures' gaps are not counted: %v", first[0].counts)
	}

	// Another council counts its own caseload only: it knows none of
	// these people, so every count is 0 (the counts are what the taker
	// may see, never another organisation's people).
	council := e.token
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "LA001", Role: "R1330", Purpose: "TREAT"})
	e.mustStatus(e.do(http.MethodPost, "/$data-quality-snapshot", ""), http.StatusCreated)
	for code, n := range readTrend(t, e.do(http.MethodGet, "/$data-quality-trend", ""))[0].counts {
		if n != 0 {
			t.Errorf("another council's snapshot counts %d for %s: SYN01's people", n, code)
		}
	}
	e.token = council

	// A new gap, the next day: a person known to the council (an
	// episode) with no NHS number and no GP.
	now = now.Add(24 * time.Hour)
	if _, err := e.store.Update(t.Context(), &fhir.Resource{Type: "Patient", ID: "planted-gap",
		Object: map[string]any{"resourceType": "Patient", "id": "planted-gap", "name": []any{map[string]any{"family": "Planted", "given": []any{"Gap"}}}, "birthDate": "1950-01-01",
			"meta": map[string]any{"tag": []any{map[string]any{"system": "https://socialcare-fhir.example.org/CodeSystem/source-organisation", "code": "SYN01"}}}}}, 0); err != nil {
		t.Fatal(err)
	}
	syn01 := people["01"].first(t, "Organization", func(o map[string]any) bool { return strings.Contains(mustJSON(t, o), `"SYN01"`) })
	e.mustStatus(e.do(http.MethodPost, "/EpisodeOfCare", `{"resourceType":"EpisodeOfCare","status":"active","patient":{"reference":"Patient/planted-gap"},"managingOrganization":{"reference":"`+syn01+`"}}`), http.StatusCreated)
	e.mustStatus(e.do(http.MethodPost, "/$data-quality-snapshot", ""), http.StatusCreated)

	// The daily job, later that day: one snapshot each for SYN01 and
	// LA001, even from two instances.
	now = now.Add(time.Hour)
	run, err := e.gw.RunQualitySnapshots(t.Context())
	if err != nil || run.Taken != 2 || run.Already != 0 {
		t.Fatalf("the daily job: %+v %v", run, err)
	}
	other := e.serve(t, cfg, nil)
	if run, err := other.gw.RunQualitySnapshots(t.Context()); err != nil || run.Taken != 0 || run.Already != 2 {
		t.Fatalf("a second instance's daily job: %+v %v", run, err)
	}

	got := readTrend(t, e.do(http.MethodGet, "/$data-quality-trend", ""))
	if len(got) != 3 || got[0].task != task.ID || got[2].trigger != "daily" || got[2].task != "data-quality-syn01-20261202" {
		t.Fatalf("the trend: %+v", got)
	}
	for _, code := range []string{"nhs-number-missing", "no-gp"} {
		if got[1].counts[code] != first[0].counts[code]+1 || got[1].changes[code] != 1 || got[2].changes[code] != 0 {
			t.Errorf("%s: counts %d, %d, %d with changes %v, %v", code, got[0].counts[code], got[1].counts[code], got[2].counts[code], got[1].changes, got[2].changes)
		}
	}
	if got[1].changes["review-overdue"] != 0 {
		t.Errorf("review-overdue changed: %v", got[1].changes)
	}
	if n := len(readTrend(t, e.do(http.MethodGet, "/$data-quality-trend?_count=2", ""))); n != 2 {
		t.Errorf("_count=2 gave %d snapshots", n)
	}

	// CSV and the page.
	r = e.do(http.MethodGet, "/$data-quality-trend?_format=csv", "")
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(rows) != 1+3*10 || strings.Join(rows[0], ",") != "date,snapshot,trigger,check,title,count,change" {
		t.Fatalf("CSV (%v): %s", err, r.Body)
	}
	found := false
	for _, row := range rows[1:] {
		if row[1] == got[1].task && row[3] == "nhs-number-missing" && row[6] == "1" {
			found = true
		}
		if row[1] == task.ID && row[6] != "" {
			t.Errorf("the first snapshot has a change: %v", row)
		}
	}
	if !found {
		t.Errorf("no CSV row with the planted gap's change:\n%s", r.Body)
	}
	r = e.do(http.MethodGet, "/$data-quality-trend?_format=html", "")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `data-check="no-gp"`) || !strings.Contains(html.UnescapeString(string(r.Body)), "(+1)") {
		t.Errorf("the page: %d %s", r.Status, r.Body)
	}

	// Bad parameters, all named.
	r = e.do(http.MethodGet, "/$data-quality-trend?_count=0&colour=blue", "")
	e.mustStatus(r, http.StatusBadRequest)
	if is := outcome(t, r); len(is) != 2 {
		t.Errorf("problems: %v", is)
	}

	// The daily job's snapshot is audited as the gateway's.
	evs, _, err := e.eng.Audit.Search(t.Context(), audit.Query{Subject: gateway.QualitySnapshotJob, Count: 10})
	if err != nil || len(evs) != 2 {
		t.Fatalf("the job's audit records: %d %v", len(evs), err)
	}
	if b, _ := json.Marshal(evs); !strings.Contains(string(b), "Task/data-quality-syn01-20261202") || !strings.Contains(string(b), "Task/data-quality-la001-20261202") {
		t.Errorf("the job's audit records: %s", b)
	}

	// Another council sees only its own; others are refused.
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "LA001", Role: "R1330", Purpose: "TREAT"})
	theirs := readTrend(t, e.do(http.MethodGet, "/$data-quality-trend", ""))
	if len(theirs) != 2 || theirs[1].task != "data-quality-la001-20261202" {
		t.Errorf("another council sees %+v, want its own two snapshots", theirs)
	}
	for _, tok := range []string{councilToken(t, "R1460", "TREAT"), mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "Y99001", Role: "R0260", Purpose: "TREAT"})} {
		e.token = tok
		for _, req := range [][2]string{{http.MethodGet, "/$data-quality-trend"}, {http.MethodPost, "/$data-quality-snapshot"}} {
			r := e.do(req[0], req[1], "")
			e.mustStatus(r, http.StatusForbidden)
			if !strings.Contains(string(r.Body), "QUALITY-9-data-quality") {
				t.Errorf("%s %s refused without naming the rule: %s", req[0], req[1], r.Body)
			}
		}
	}

	// A snapshot whose taker the policy does not let take one (a GP
	// practice, planted as if an earlier policy had allowed it): the next
	// day's job counts it as refused and takes none for it.
	la, err := e.store.Read(t.Context(), "Task", "data-quality-la001-20261202")
	if err != nil {
		t.Fatal(err)
	}
	js := string(la.JSON)
	for _, r := range [][2]string{{"data-quality-la001-20261202", "data-quality-y99001-20261201"}, {`"LA001"`, `"Y99001"`},
		{`"valueCode":"R1330"`, `"valueCode":"R0260"`}} {
		if !strings.Contains(js, r[0]) {
			t.Fatalf("LA001's snapshot has no %s: %s", r[0], js)
		}
		js = strings.ReplaceAll(js, r[0], r[1])
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(js), &obj); err != nil {
		t.Fatal(err)
	}
	delete(obj, "meta")
	if _, err := e.store.Update(t.Context(), &fhir.Resource{Type: "Task", ID: "data-quality-y99001-20261201", Object: obj}, 0); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	if run, err := e.gw.RunQualitySnapshots(t.Context()); err != nil || run.Taken != 2 || run.Refused != 1 {
		t.Fatalf("the next day's job with a refused taker: %+v %v", run, err)
	}
	if _, err := e.store.Read(t.Context(), "Task", "data-quality-y99001-20261203"); !errors.Is(err, fhir.ErrNotFound) {
		t.Errorf("a snapshot was taken for the refused taker: %v", err)
	}
}

package gateway_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

var qualityNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// qualityItems reads a $data-quality Parameters answer: check code to the
// resources its items name.
func qualityItems(t *testing.T, r *response) map[string][]string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("$data-quality: %d %s", r.Status, r.Body)
	}
	var p struct {
		ResourceType string
		Parameter    []struct {
			Name string
			Part []struct {
				Name         string
				ValueCode    string
				ValueInteger *int
				Part         []struct {
					Name           string
					ValueReference struct{ Reference string }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.ResourceType != "Parameters" {
		t.Fatalf("not a Parameters resource (%v): %s", err, r.Body)
	}
	out := map[string][]string{}
	for _, prm := range p.Parameter {
		if prm.Name != "check" {
			continue
		}
		code, count, n := "", -1, 0
		for _, part := range prm.Part {
			switch part.Name {
			case "code":
				code = part.ValueCode
			case "count":
				count = *part.ValueInteger
			case "item":
				n++
				for _, ip := range part.Part {
					if ip.Name == "resource" {
						out[code] = append(out[code], ip.ValueReference.Reference)
					}
				}
			}
		}
		if count != n {
			t.Errorf("check %s: count %d but %d items", code, count, n)
		}
		if _, ok := out[code]; !ok {
			out[code] = nil
		}
	}
	return out
}

// The council's data-quality report finds, in what the reader may read,
// exactly the gaps the records have: overdue reviews, people without a
// registered GP or a verified NHS number, unsigned entries and duplicate
// people; each item names a resource the reader can open.
func TestDataQualityReportFindsTheGaps(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy"), Clock: func() time.Time { return qualityNow }})
	people := loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	// A second Patient with person 01's NHS number, known to the council
	// (its episode), is a possible duplicate.
	p1 := people["01"]
	dup := e.do(http.MethodPost, "/Patient", `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"`+p1.nhs+`"}],"name":[{"family":"Other","given":["Someone"]}]}`)
	e.mustStatus(dup, http.StatusCreated)
	var dp struct{ ID string }
	_ = json.Unmarshal(dup.Body, &dp)
	council := p1.first(t, "Organization", func(o map[string]any) bool { return strings.Contains(mustJSON(t, o), `"SYN01"`) })
	e.mustStatus(e.do(http.MethodPost, "/EpisodeOfCare", `{"resourceType":"EpisodeOfCare","status":"active","patient":{"reference":"Patient/`+dp.ID+`"},"managingOrganization":{"reference":"`+council+`"}}`), http.StatusCreated)

	got := qualityItems(t, e.do(http.MethodGet, "/$data-quality", ""))

	// What the records say, read here from the translated resources.
	want := map[string][]string{}
	today := qualityNow.Format(time.DateOnly)
	readable := func(ref string) bool { return e.do(http.MethodGet, "/"+ref, "").Status == http.StatusOK }
	for _, p := range people {
		for _, pt := range p.byType["Patient"] {
			ref := "Patient/" + pt.ID
			if !readable(ref) {
				continue
			}
			if _, ok := pt.Object["generalPractitioner"]; !ok {
				want["no-gp"] = append(want["no-gp"], ref)
			}
			if !strings.Contains(mustJSON(t, pt.Object["identifier"]), "https://fhir.nhs.uk/Id/nhs-number") {
				want["nhs-number-missing"] = append(want["nhs-number-missing"], ref)
			}
		}
		for _, cp := range p.byType["CarePlan"] {
			if cp.Object["status"] != "active" || !readable("CarePlan/"+cp.ID) {
				continue
			}
			exts, _ := cp.Object["extension"].([]any)
			for _, x := range exts {
				m := x.(map[string]any)
				if strings.HasSuffix(m["url"].(string), "/next-review-date") && m["valueDate"].(string) < today {
					want["review-overdue"] = append(want["review-overdue"], "CarePlan/"+cp.ID)
				}
			}
		}
		for _, pv := range p.byType["Provenance"] {
			if _, signed := pv.Object["signature"]; !signed && readable("Provenance/"+pv.ID) {
				want["unsigned-entry"] = append(want["unsigned-entry"], "Provenance/"+pv.ID)
			}
		}
	}
	want["no-gp"] = append(want["no-gp"], "Patient/"+dp.ID)
	want["duplicate-nhs-number"] = []string{p1.patient, "Patient/" + dp.ID}
	for _, check := range []string{"no-gp", "nhs-number-missing", "review-overdue", "unsigned-entry", "duplicate-nhs-number"} {
		g, w := slices.Sorted(slices.Values(got[check])), slices.Sorted(slices.Values(want[check]))
		if !slices.Equal(slices.Compact(g), slices.Compact(w)) {
			t.Errorf("%s: report lists %v, the records give %v", check, g, w)
		}
	}
	if len(want["review-overdue"]) == 0 || len(want["unsigned-entry"]) == 0 {
		t.Errorf("the fixtures should have overdue reviews and unsigned entries to find: %v", want)
	}
	// Every item names something the reader may open.
	for check, refs := range got {
		for _, ref := range refs {
			if !readable(ref) {
				t.Errorf("%s lists %s, which the reader may not read", check, ref)
			}
		}
	}

	// One person's report holds only that person's items.
	one := qualityItems(t, e.do(http.MethodGet, "/"+p1.patient+"/$data-quality", ""))
	for check, refs := range one {
		for _, ref := range refs {
			if ref != p1.patient && !slices.ContainsFunc(slices.Collect(func(yield func(string) bool) {
				for typ, rs := range p1.byType {
					for _, r := range rs {
						if !yield(typ + "/" + r.ID) {
							return
						}
					}
				}
			}), func(s string) bool { return s == ref }) {
				t.Errorf("person 01's report, %s: %s is not one of person 01's records", check, ref)
			}
		}
	}
	if !slices.Contains(one["duplicate-nhs-number"], p1.patient) {
		t.Errorf("person 01's report does not show the possible duplicate: %v", one["duplicate-nhs-number"])
	}

	// CSV and a readable page.
	r := e.do(http.MethodGet, "/$data-quality?_format=csv", "")
	e.mustStatus(r, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "check" {
		t.Fatalf("CSV: %v %q", err, r.Body)
	}
	total := 0
	for _, refs := range got {
		total += len(refs)
	}
	if len(rows)-1 != total {
		t.Errorf("CSV has %d rows, the report %d items", len(rows)-1, total)
	}
	r = e.do(http.MethodGet, "/$data-quality?_format=html", "")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), "Care and support plan reviews overdue") {
		t.Errorf("the page: %s %.300s", r.Header.Get("Content-Type"), r.Body)
	}
}

// Only council staff whose role runs data reports may run it, and bad
// parameters are named.
func TestDataQualityIsForTheCouncil(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy"), Clock: func() time.Time { return qualityNow }})
	people := loadPeople(t, e)
	for name, tok := range map[string]string{
		"GP":            gpToken(t, "R0260", "TREAT"),
		"council carer": councilToken(t, "R1460", "TREAT"),
		"person":        mint(t, auth.DevClaims{Kind: auth.ShapePerson, NHSNumber: people["01"].nhs, Purpose: "PATRQT"}),
	} {
		e.token = tok
		r := e.do(http.MethodGet, "/$data-quality", "")
		if r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r), "QUALITY-9-data-quality") {
			t.Errorf("%s: %d %s, want 403 naming QUALITY-9-data-quality", name, r.Status, r.Body)
		}
	}
	e.token = councilToken(t, "R1330", "TREAT")
	for q, want := range map[string]string{"days=0": "days", "validate=maybe": "validate", "_format=pdf": "_format", "colour=blue": "colour"} {
		r := e.do(http.MethodGet, "/$data-quality?"+q, "")
		if r.Status != http.StatusBadRequest || !strings.Contains(diagnostics(t, r), want) {
			t.Errorf("?%s: %d %s, want 400 naming %s", q, r.Status, r.Body, want)
		}
	}
}

package sqlstore_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
)

// The patient an Encounter names as subject (and so as patient, compartment
// and access attribute) is one index row, and a code, given with a system
// or without, only its sc row (the system listed for the field); searches,
// includes and patient lookups find them, and find them the same in rows
// written one per field and every code, as before.
func TestSharedAndImpliedRowsAreFoundLikeRowsWrittenBefore(t *testing.T) {
	ctx := context.Background()
	s := sqlite(t)
	for _, js := range []string{
		`{"resourceType":"Patient","id":"p1"}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","subject":{"reference":"Patient/p1"},"period":{"start":"2026-03-01"}}`,
		`{"resourceType":"Encounter","id":"e2","status":"planned","subject":{"reference":"Patient/p2"},"period":{"start":"2026-03-02"}}`,
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"1"}]},"subject":{"reference":"Patient/p1"},
			"valueQuantity":{"value":2,"code":"mg"}}`,
	} {
		if _, err := s.Update(ctx, contract.Resource(t, js), 0); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(table string) []string {
		t.Helper()
		rs, err := s.DB().R.QueryContext(ctx, `SELECT f || '=' || v FROM "`+table+`" WHERE r = (SELECT rid FROM "`+table[:len(table)-3]+`" WHERE id = ?) ORDER BY f, v`, map[string]string{"Encounter_ix": "e1", "Observation_ix": "o1"}[table])
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			var r string
			if err := rs.Scan(&r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	enc := rows("Encounter_ix")
	for _, want := range []string{"~acl.pat+pat+sp.patient+sp.subject=Patient/p1", "sp.status.sc=|finished"} {
		if !slices.Contains(enc, want) {
			t.Errorf("Encounter rows %q lack %q", enc, want)
		}
	}
	for _, gone := range []string{"pat=Patient/p1", "sp.subject=Patient/p1", "sp.status.c=finished"} {
		if slices.Contains(enc, gone) {
			t.Errorf("Encounter rows %q hold %q, which a shared or sc row says", enc, gone)
		}
	}
	if obs := rows("Observation_ix"); slices.Contains(obs, "sp.code.c=1") || slices.Contains(obs, "sp.value-quantity.c=mg") {
		t.Errorf("Observation rows %q: a code with a system or without one keeps its c row", obs)
	}
	var listed int
	if err := s.DB().R.QueryRowContext(ctx, `SELECT count(*) FROM token_systems WHERE t = 'Observation' AND f = 'sp.code' AND s = 'http://snomed.info/sct'`).Scan(&listed); err != nil || listed != 1 {
		t.Errorf("token_systems lists the system Observation.code's sc rows stand for %d times, %v", listed, err)
	}

	queries := []struct{ typ, q string }{
		{"Encounter", "patient=p1"},
		{"Encounter", "subject=Patient/p1"},
		{"Encounter", "subject:missing=false&status=finished"},
		{"Encounter", "status=finished,planned"},
		{"Encounter", "status:not=finished"},
		{"Encounter", "status=|finished"},
		{"Encounter", "patient=p1&_include=Encounter:subject"},
		{"Patient", "_id=p1&_revinclude=Encounter:subject"},
		{"Observation", "value-quantity=2||mg"},
		{"Observation", "value-quantity=2"},
		{"Observation", "code=1&patient=p1"},
		{"Observation", "code=1"},
		{"Observation", "code=2,1"},
		{"Observation", "code=http://snomed.info/sct|"},
		{"Observation", "code=http://snomed.info/sct|1"},
		{"Observation", "code=|1"},
		{"Observation", "code:not=1"},
		{"Observation", "code:missing=false"},
	}
	answers := func() []string {
		t.Helper()
		var out []string
		for _, c := range queries {
			vals, _ := url.ParseQuery(c.q)
			q, err := search.Parse(c.typ, vals, search.Options{})
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.Search(ctx, q, nil)
			if err != nil {
				t.Fatalf("%s?%s: %v", c.typ, c.q, err)
			}
			got := c.typ + "?" + c.q + ":"
			for _, v := range page.Matches {
				got += " " + v.ID
			}
			for _, v := range page.Included {
				got += " +" + v.Type + "/" + v.ID
			}
			out = append(out, got)
		}
		vals, _ := url.ParseQuery("status=finished")
		q, _ := search.Parse("Encounter", vals, search.Options{})
		pats, err := s.Patients(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return append(out, "patients of finished encounters: "+strings.Join(pats, " "))
	}
	want := []string{
		"Encounter?patient=p1: e1",
		"Encounter?subject=Patient/p1: e1",
		"Encounter?subject:missing=false&status=finished: e1",
		"Encounter?status=finished,planned: e1 e2",
		"Encounter?status:not=finished: e2",
		"Encounter?status=|finished: e1",
		"Encounter?patient=p1&_include=Encounter:subject: e1 +Patient/p1",
		"Patient?_id=p1&_revinclude=Encounter:subject: p1 +Encounter/e1",
		"Observation?value-quantity=2||mg: o1",
		"Observation?value-quantity=2: o1",
		"Observation?code=1&patient=p1: o1",
		"Observation?code=1: o1",
		"Observation?code=2,1: o1",
		"Observation?code=http://snomed.info/sct|: o1",
		"Observation?code=http://snomed.info/sct|1: o1",
		"Observation?code=|1:",
		"Observation?code:not=1:",
		"Observation?code:missing=false: o1",
		"patients of finished encounters: Patient/p1",
	}
	if got := answers(); !slices.Equal(got, want) {
		t.Errorf("new rows:\n%q\nwant\n%q", got, want)
	}
	// As an earlier version wrote them: one row per field, every code.
	if err := s.DB().Exec(ctx,
		`DELETE FROM Encounter_ix WHERE f LIKE '~%'`,
		`INSERT INTO Encounter_ix (f, v, r) SELECT f.f, 'Patient/p1', e.rid FROM Encounter e, (SELECT 'pat' f UNION SELECT 'acl.pat' UNION SELECT 'sp.patient' UNION SELECT 'sp.subject') f WHERE e.id = 'e1'`,
		`INSERT INTO Encounter_ix (f, v, r) SELECT 'sp.status.c', substr(v, 2), r FROM Encounter_ix WHERE f = 'sp.status.sc'`,
		`INSERT INTO Observation_ix (f, v, r) SELECT 'sp.value-quantity.c', 'mg', rid FROM Observation WHERE id = 'o1'`,
		`INSERT INTO Observation_ix (f, v, r) SELECT 'sp.code.c', '1', rid FROM Observation WHERE id = 'o1'`,
		`DELETE FROM token_systems`,
	); err != nil {
		t.Fatal(err)
	}
	if got := answers(); !slices.Equal(got, want) {
		t.Errorf("rows written before:\n%q\nwant\n%q", got, want)
	}
}

package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
)

// The current version is stored once, in its head row; it goes into
// history when a newer version or a deletion takes the head, and every
// way of reading versions sees each version once with its own JSON, in a
// database written before this (a history row for the current version
// too, empty or a copy) once it is opened again.
func TestCurrentVersionKeptOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlstore.Open(ctx, dir, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close(ctx) }()
	historyJSON := func(id string) map[int64]string {
		t.Helper()
		rows, err := s.DB().R.QueryContext(ctx, `SELECT vid, json FROM "Patient_history" WHERE id = ? ORDER BY vid`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var vid int64
			var js string
			if err := rows.Scan(&vid, &js); err != nil {
				t.Fatal(err)
			}
			out[vid] = js
		}
		return out
	}
	family := func(js []byte) string {
		i := strings.Index(string(js), `"family":"`)
		if i < 0 {
			return ""
		}
		rest := string(js[i+len(`"family":"`):])
		return rest[:strings.IndexByte(rest, '"')]
	}
	put := func(name string) {
		t.Helper()
		if _, err := s.Update(ctx, contract.Resource(t, `{"resourceType":"Patient","id":"p","name":[{"family":"`+name+`"}]}`), 0); err != nil {
			t.Fatal(err)
		}
	}

	put("One")
	if h := historyJSON("p"); len(h) != 0 {
		t.Errorf("history rows while version 1 is the head: %v", h)
	}
	put("Two")
	put("Three")
	h := historyJSON("p")
	if _, ok := h[3]; len(h) != 2 || family([]byte(h[1])) != "One" || family([]byte(h[2])) != "Two" || ok {
		t.Errorf("history rows after two updates: %v", h)
	}
	want := map[int64]string{1: "One", 2: "Two", 3: "Three"}
	check := func(when string) {
		t.Helper()
		for vid, name := range want {
			v, err := s.VRead(ctx, "Patient", "p", vid)
			if err != nil || family(v.JSON) != name {
				t.Errorf("%s: vread %d = %q, %v; want %s", when, vid, v.JSON, err, name)
			}
		}
		vs, _, err := s.History(ctx, "Patient", "p", store.HistoryOptions{Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, v := range vs {
			if name, ok := want[v.VersionID]; ok {
				seen++
				if family(v.JSON) != name {
					t.Errorf("%s: history version %d = %q, want %s", when, v.VersionID, v.JSON, name)
				}
			}
		}
		if seen != len(want) {
			t.Errorf("%s: history lists %d of the %d versions", when, seen, len(want))
		}
		seen = 0
		if err := s.Versions(ctx, "Patient", func(v *store.Version) error {
			if name, ok := want[v.VersionID]; ok && v.ID == "p" {
				seen++
				if family(v.JSON) != name {
					t.Errorf("%s: Versions gives version %d = %q, want %s", when, v.VersionID, v.JSON, name)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if seen != len(want) {
			t.Errorf("%s: Versions gives %d of the %d versions", when, seen, len(want))
		}
	}
	check("after updates")

	if _, err := s.Delete(ctx, "Patient", "p", 0); err != nil {
		t.Fatal(err)
	}
	if h := historyJSON("p"); len(h) != 4 || family([]byte(h[3])) != "Three" || h[4] != "" {
		t.Errorf("history rows after the deletion: %v", h)
	}
	if _, err := s.VRead(ctx, "Patient", "p", 4); !errors.Is(err, fhir.ErrGone) {
		t.Errorf("vread of the deletion: %v, want gone", err)
	}
	check("after the deletion")
	put("Four") // back from deleted: version 5
	want[5] = "Four"
	check("after it came back")

	if h := historyJSON("p"); len(h) != 4 {
		t.Errorf("history rows after it came back: %v", h)
	}

	// A database written before: the head's JSON in its history row too
	// (as the earliest versions wrote it), and another resource's current
	// version there with no JSON (as the versions since wrote it).
	put2 := func(id, name string) {
		t.Helper()
		if _, err := s.Update(ctx, contract.Resource(t, `{"resourceType":"Patient","id":"`+id+`","name":[{"family":"`+name+`"}]}`), 0); err != nil {
			t.Fatal(err)
		}
	}
	put2("q", "Q1")
	put2("q", "Q2")
	if err := s.DB().Exec(ctx,
		`INSERT INTO "Patient_history" (id, vid, lu, del, json) SELECT id, vid, lu, 0, json FROM "Patient" WHERE id = 'p'`,
		`INSERT INTO "Patient_history" (id, vid, lu, del, json) SELECT id, vid, lu, 0, '' FROM "Patient" WHERE id = 'q'`,
		`PRAGMA user_version = 3`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err = sqlstore.Open(ctx, dir, sqlstore.Options{}); err != nil {
		t.Fatal(err)
	}
	check("in a database written before, opened again")
	if h := historyJSON("p"); len(h) != 4 {
		t.Errorf("history rows of p after the upgrade: %v", h)
	}
	if h := historyJSON("q"); len(h) != 1 || family([]byte(h[1])) != "Q1" {
		t.Errorf("history rows of q after the upgrade: %v", h)
	}
	if v, err := s.VRead(ctx, "Patient", "q", 2); err != nil || family(v.JSON) != "Q2" {
		t.Errorf("vread q/2 after the upgrade: %q, %v", v.JSON, err)
	}
	put("Five")
	want[6] = "Five"
	check("after an update of such a database")
}

// A batch that writes the same resource twice (PrepareAll reads the
// current versions of the whole batch at once) makes two versions, the
// second from the first, and keeps only the second's index rows.
func TestPrepareAllWritesOneResourceTwice(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if _, err := s.Update(ctx, contract.Resource(t, `{"resourceType":"Patient","id":"p","name":[{"family":"Zero"}]}`), 0); err != nil {
		t.Fatal(err)
	}
	batch := []*fhir.Resource{
		contract.Resource(t, `{"resourceType":"Patient","id":"p","name":[{"family":"One"}]}`),
		contract.Resource(t, `{"resourceType":"Patient","id":"q","name":[{"family":"New"}]}`),
		contract.Resource(t, `{"resourceType":"Patient","id":"p","name":[{"family":"Two"}]}`),
	}
	write, _, err := s.PrepareAll(batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	wrs, err := write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		vid     int64
		created bool
	}{{2, false}, {1, true}, {3, false}} {
		if wrs[i].Version.VersionID != want.vid || wrs[i].Created != want.created {
			t.Errorf("write %d: version %d created %v, want %d %v", i, wrs[i].Version.VersionID, wrs[i].Created, want.vid, want.created)
		}
	}
	v, err := s.Read(ctx, "Patient", "p")
	if err != nil {
		t.Fatal(err)
	}
	if v.VersionID != 3 || !strings.Contains(string(v.JSON), `"Two"`) {
		t.Errorf("Patient/p is version %d %s, want version 3 named Two", v.VersionID, v.JSON)
	}
	rows := func(name string) int {
		var n int
		if err := s.DB().R.QueryRowContext(ctx, `SELECT count(*) FROM "Patient_ix" WHERE f LIKE 'sp.%' AND lower(v) = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	fresh := rows("new") // a resource written once
	if fresh == 0 {
		t.Fatal("no index rows of the family name New")
	}
	for name, want := range map[string]int{"zero": 0, "one": 0, "two": fresh} {
		if n := rows(name); n != want {
			t.Errorf("%d index rows of family %q, want %d", n, name, want)
		}
	}
}

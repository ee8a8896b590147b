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

// The current version's JSON is stored once, in its head row; it moves to
// its history row when a newer version or a deletion takes the head, and
// every way of reading versions sees each version's own JSON, in a
// database written before this (JSON in every history row) too.
func TestCurrentJSONKeptOnce(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
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
	if h := historyJSON("p"); h[1] != "" {
		t.Errorf("version 1's history row holds its JSON while it is the head: %q", h[1])
	}
	put("Two")
	put("Three")
	h := historyJSON("p")
	if family([]byte(h[1])) != "One" || family([]byte(h[2])) != "Two" || h[3] != "" {
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
	if h := historyJSON("p"); family([]byte(h[3])) != "Three" || h[4] != "" {
		t.Errorf("history rows after the deletion: %v", h)
	}
	if _, err := s.VRead(ctx, "Patient", "p", 4); !errors.Is(err, fhir.ErrGone) {
		t.Errorf("vread of the deletion: %v, want gone", err)
	}
	check("after the deletion")
	put("Four") // back from deleted: version 5
	want[5] = "Four"
	check("after it came back")

	// A database written before: the head's JSON in its history row too.
	if _, err := s.DB().W.ExecContext(ctx, `UPDATE "Patient_history" SET json = (SELECT json FROM "Patient" WHERE id = 'p') WHERE id = 'p' AND vid = 5`); err != nil {
		t.Fatal(err)
	}
	check("with the JSON in both rows")
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

// Package contract is the store contract suite: what the gateway codes
// against, run on both engines (the MongoDB engine in package store and the
// SQLite engine in package sqlstore) with real databases. A difference
// between the engines is a failing case on one of them.
package contract

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/storage"
)

// Engine is what the suite runs against: the store contract both engines
// keep (storage.Resources), and Close.
type Engine interface {
	storage.Resources
	Close(ctx context.Context) error
}

// Opener opens an engine with its data in dir, stamping lastUpdated with
// clock. Opening the same dir again after Close sees the same data.
type Opener func(tb testing.TB, dir string, clock func() time.Time) Engine

// Contract runs the store contract suite against an engine. Every case
// is a subtest; a difference between engines is a failing case on one
// of them.
func Contract(t *testing.T, open Opener) {
	t.Run("Search", func(t *testing.T) { contractSearch(t, open) })
	t.Run("Versions", func(t *testing.T) { contractVersions(t, open) })
	t.Run("IfMatchRace", func(t *testing.T) { contractRace(t, open) })
	t.Run("PagingWhileInserting", func(t *testing.T) { contractPaging(t, open) })
	t.Run("RestrictAndIncludes", func(t *testing.T) { contractRestrict(t, open) })
	t.Run("Patients", func(t *testing.T) { contractPatients(t, open) })
	t.Run("Facts", func(t *testing.T) { contractFacts(t, open) })
	t.Run("ShareFacts", func(t *testing.T) { contractShareFacts(t, open) })
	t.Run("FactSets", func(t *testing.T) { contractFactSets(t, open) })
	t.Run("Restart", func(t *testing.T) { contractRestart(t, open) })
	t.Run("Purge", func(t *testing.T) { contractPurge(t, open) })
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t.Add(-time.Millisecond)
	c.mu.Unlock()
}

// fresh opens an empty engine for one test (closed when the test ends)
// and returns it with put, which stores a resource given as JSON as an
// update-as-create and fails the test on any error.
func fresh(t *testing.T, open Opener) (Engine, func(js string)) {
	t.Helper()
	ctx := context.Background()
	e := open(t, t.TempDir(), nil)
	t.Cleanup(func() { _ = e.Close(ctx) })
	put := func(js string) {
		t.Helper()
		if _, err := e.Update(ctx, Resource(t, js), 0); err != nil {
			t.Fatal(err)
		}
	}
	return e, put
}

// Resource decodes JSON into a resource for a test; it fails the test on
// bad JSON.
func Resource(tb testing.TB, js string) *fhir.Resource {
	tb.Helper()
	obj, err := fhir.DecodeObject([]byte(js))
	if err != nil {
		tb.Fatalf("decode %s: %v", js, err)
	}
	id, _ := obj["id"].(string)
	return &fhir.Resource{Type: obj["resourceType"].(string), ID: id, Object: obj}
}

func parse(tb testing.TB, typ, query string) *search.Query {
	tb.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		tb.Fatal(err)
	}
	q, err := search.Parse(typ, v, search.Options{})
	if err != nil {
		tb.Fatalf("parse %s?%s: %v", typ, query, err)
	}
	return q
}

// all walks every page of q and returns the matches' ids in order.
func all(tb testing.TB, e Engine, q *search.Query, restrict store.Restrict) []string {
	tb.Helper()
	var ids []string
	for range 1000 {
		page, err := e.Search(context.Background(), q, restrict)
		if err != nil {
			tb.Fatalf("search %s: %v", q.Type, err)
		}
		for _, v := range page.Matches {
			ids = append(ids, v.ID)
		}
		if page.Next == "" {
			return ids
		}
		next := *q
		next.Cursor = page.Next
		q = &next
	}
	tb.Fatal("more than 1000 pages")
	return nil
}

func contractSearch(t *testing.T, open Opener) {
	ctx := context.Background()
	c := &clock{}
	e := open(t, t.TempDir(), c.now)
	defer e.Close(ctx)
	for _, r := range searchResources {
		lu, err := time.Parse(time.RFC3339, r.lu)
		if err != nil {
			t.Fatal(err)
		}
		c.set(lu)
		res := Resource(t, r.resource)
		if _, err := e.Update(ctx, res, 0); err != nil {
			t.Fatalf("store %s/%s: %v", res.Type, res.ID, err)
		}
		if r.del {
			c.set(lu)
			if _, err := e.Delete(ctx, res.Type, res.ID, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range searchCases {
		t.Run(tc.rt+"?"+tc.query, func(t *testing.T) {
			for _, count := range []int{100, 2} {
				q := parse(t, tc.rt, tc.query+"&_total=accurate&_count="+fmt.Sprint(count))
				got := all(t, e, q, nil)
				if len(q.Sort) == 0 {
					slices.Sort(got)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("_count=%d: got %v, want %v", count, got, tc.want)
				}
				page, err := e.Search(ctx, q, nil)
				if err != nil {
					t.Fatal(err)
				}
				if page.Total == nil || *page.Total != int64(len(tc.want)) {
					t.Errorf("total %v, want %d", page.Total, len(tc.want))
				}
			}
		})
	}
}

func contractVersions(t *testing.T, open Opener) {
	ctx := context.Background()
	// A clock that ticks a millisecond a write: versions written within
	// one millisecond of each other would make _since depend on timing.
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := open(t, t.TempDir(), c.now)
	defer e.Close(ctx)
	p := func(gender string) *fhir.Resource {
		return Resource(t, `{"resourceType":"Patient","id":"p1","gender":"`+gender+`"}`)
	}
	if _, err := e.Read(ctx, "Patient", "p1"); !errors.Is(err, fhir.ErrNotFound) {
		t.Fatalf("read of nothing: %v", err)
	}
	wr, err := e.Update(ctx, p("female"), 0)
	if err != nil || !wr.Created || wr.Version.VersionID != 1 {
		t.Fatalf("update as create: %+v %v", wr, err)
	}
	if wr, err = e.Update(ctx, p("female"), 0); err != nil || !wr.Unchanged || wr.Version.VersionID != 1 {
		t.Fatalf("unchanged: %+v %v", wr, err)
	}
	if _, err = e.Update(ctx, p("male"), 5); !errors.Is(err, fhir.ErrVersionConflict) {
		t.Fatalf("If-Match 5 on version 1: %v", err)
	}
	if wr, err = e.Update(ctx, p("male"), 1); err != nil || wr.Created || wr.Version.VersionID != 2 {
		t.Fatalf("If-Match 1: %+v %v", wr, err)
	}
	if _, err := e.Update(ctx, p("other"), store.Absent); !errors.Is(err, fhir.ErrVersionConflict) {
		t.Fatalf("Absent on a live resource: %v", err)
	}
	if _, err := e.Update(ctx, Resource(t, `{"resourceType":"Patient","id":"nope"}`), 3); !errors.Is(err, fhir.ErrVersionConflict) {
		t.Fatalf("If-Match on nothing: %v", err)
	}
	v, err := e.Read(ctx, "Patient", "p1")
	if err != nil || v.VersionID != 2 || !strings.Contains(string(v.JSON), `"male"`) || !strings.Contains(string(v.JSON), `"versionId":"2"`) {
		t.Fatalf("read: %+v %v", v, err)
	}
	if v, err := e.VRead(ctx, "Patient", "p1", 1); err != nil || !strings.Contains(string(v.JSON), `"female"`) {
		t.Fatalf("vread 1: %v", err)
	}
	if _, err := e.VRead(ctx, "Patient", "p1", 9); !errors.Is(err, fhir.ErrNotFound) {
		t.Fatalf("vread 9: %v", err)
	}
	if _, err := e.Delete(ctx, "Patient", "p1", 1); !errors.Is(err, fhir.ErrVersionConflict) {
		t.Fatalf("delete If-Match 1: %v", err)
	}
	d, err := e.Delete(ctx, "Patient", "p1", 0)
	if err != nil || !d.Deleted || d.VersionID != 3 {
		t.Fatalf("delete: %+v %v", d, err)
	}
	if d, err := e.Delete(ctx, "Patient", "p1", 0); err != nil || d.VersionID != 3 {
		t.Fatalf("delete again: %+v %v", d, err)
	}
	if v, err := e.Read(ctx, "Patient", "p1"); !errors.Is(err, fhir.ErrGone) || v == nil || v.VersionID != 3 {
		t.Fatalf("read deleted: %+v %v", v, err)
	}
	if _, err := e.VRead(ctx, "Patient", "p1", 3); !errors.Is(err, fhir.ErrGone) {
		t.Fatalf("vread deletion: %v", err)
	}
	if ids := all(t, e, parse(t, "Patient", "gender=male"), nil); len(ids) != 0 {
		t.Fatalf("a deleted resource is found: %v", ids)
	}
	if _, err := e.Delete(ctx, "Patient", "never", 0); !errors.Is(err, fhir.ErrNotFound) {
		t.Fatalf("delete of nothing: %v", err)
	}
	hist, more, err := e.History(ctx, "Patient", "p1", store.HistoryOptions{Count: 10})
	if err != nil || more || len(hist) != 3 || hist[0].VersionID != 3 || !hist[0].Deleted || hist[2].VersionID != 1 {
		t.Fatalf("history: %d versions, more %v, %v", len(hist), more, err)
	}
	page1, more, err := e.History(ctx, "Patient", "p1", store.HistoryOptions{Count: 2})
	if err != nil || !more || len(page1) != 2 {
		t.Fatalf("history page 1: %d %v %v", len(page1), more, err)
	}
	last := page1[1]
	page2, more, err := e.History(ctx, "Patient", "p1", store.HistoryOptions{Count: 2, Before: &store.HistoryKey{LastUpdated: last.LastUpdated, ID: last.ID, VersionID: last.VersionID}})
	if err != nil || more || len(page2) != 1 || page2[0].VersionID != 1 {
		t.Fatalf("history page 2: %v %v %v", page2, more, err)
	}
	if _, _, err := e.History(ctx, "Patient", "never", store.HistoryOptions{Count: 2}); !errors.Is(err, fhir.ErrNotFound) {
		t.Fatalf("history of nothing: %v", err)
	}
	// Revived by an update after deletion: a new version, created.
	if wr, err := e.Update(ctx, p("female"), store.Absent); err != nil || !wr.Created || wr.Version.VersionID != 4 {
		t.Fatalf("revive: %+v %v", wr, err)
	}
	cv, err := e.Create(ctx, Resource(t, `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`))
	if err != nil || cv.ID == "" || cv.VersionID != 1 {
		t.Fatalf("create: %+v %v", cv, err)
	}
	all, _, err := e.History(ctx, "Patient", "", store.HistoryOptions{Count: 10})
	if err != nil || len(all) != 4 {
		t.Fatalf("type history: %d, %v", len(all), err)
	}
	since, _, err := e.History(ctx, "Patient", "", store.HistoryOptions{Count: 10, Since: all[1].LastUpdated})
	if err != nil || len(since) != 2 {
		t.Fatalf("type history _since: %d, %v", len(since), err)
	}
}

// Of writers racing from one version with If-Match, exactly one wins.
func contractRace(t *testing.T, open Opener) {
	ctx := context.Background()
	e := open(t, t.TempDir(), nil)
	defer e.Close(ctx)
	if _, err := e.Update(ctx, Resource(t, `{"resourceType":"Patient","id":"r1"}`), 0); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.Update(ctx, Resource(t, fmt.Sprintf(`{"resourceType":"Patient","id":"r1","gender":"g%d"}`, i)), 1)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, fhir.ErrVersionConflict):
			t.Errorf("a losing writer got %v, want a version conflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers won, want 1", won)
	}
	if v, err := e.Read(ctx, "Patient", "r1"); err != nil || v.VersionID != 2 {
		t.Fatalf("after the race: %+v %v", v, err)
	}
	// Without If-Match every writer succeeds, each on its own version.
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.Update(ctx, Resource(t, fmt.Sprintf(`{"resourceType":"Patient","id":"r1","gender":"h%d"}`, i)), 0)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("update without If-Match: %v", err)
		}
	}
	if v, err := e.Read(ctx, "Patient", "r1"); err != nil || v.VersionID != 2+n {
		t.Fatalf("after %d updates: %+v %v", n, v, err)
	}
}

// Walking every page yields each match exactly once, in order, while
// another client inserts matching resources.
func contractPaging(t *testing.T, open Opener) {
	ctx := context.Background()
	e := open(t, t.TempDir(), nil)
	defer e.Close(ctx)
	obs := func(i int) *fhir.Resource {
		return Resource(t, fmt.Sprintf(`{"resourceType":"Observation","id":"o%03d","status":"final","code":{"text":"x"},
			"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2026-0%d-%02dT10:00:00Z"}`, i, 1+i%9, 1+i%28))
	}
	const n = 40
	for i := range n {
		if _, err := e.Update(ctx, obs(i), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, sort := range []string{"", "&_sort=-_lastUpdated", "&_sort=date", "&_sort=-date"} {
		q := parse(t, "Observation", "patient=p1&_count=7"+sort)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := n; i < n+30; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.Update(ctx, obs(i+1000*len(sort)), 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
		seen := map[string]int{}
		for _, id := range all(t, e, q, nil) {
			seen[id]++
		}
		close(stop)
		wg.Wait()
		for i := range n {
			if id := fmt.Sprintf("o%03d", i); seen[id] != 1 {
				t.Errorf("sort %q: %s seen %d times", sort, id, seen[id])
			}
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("sort %q: %s seen %d times", sort, id, k)
			}
		}
		// Backward from the last page gives the pages in reverse.
		page, err := e.Search(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		next := *q
		next.Cursor = page.Next
		p2, err := e.Search(ctx, &next, nil)
		if err != nil || p2.Prev == "" {
			t.Fatalf("second page: %v, prev %q", err, p2.Prev)
		}
		back := *q
		back.Cursor = p2.Prev
		p1, err := e.Search(ctx, &back, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(p1.Matches), ids(page.Matches); !slices.Equal(got, want) {
			t.Errorf("sort %q: previous of page 2 is %v, want %v", sort, got, want)
		}
	}
	bad := parse(t, "Observation", "patient=p1")
	bad.Cursor = "eyJiIjpmYWxzZSwidiI6W3siJG5lIjpudWxsfV19" // {"b":false,"v":[{"$ne":null}]}
	if _, err := e.Search(ctx, bad, nil); err == nil {
		t.Fatal("a cursor carrying a query document was accepted")
	}
}

func ids(vs []*store.Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// The restriction (the policy's filter, in its stored-field names) limits
// matches, totals and included resources alike.
func contractRestrict(t *testing.T, open Opener) {
	ctx := context.Background()
	e := open(t, t.TempDir(), nil)
	defer e.Close(ctx)
	for _, js := range []string{
		`{"resourceType":"Patient","id":"a","gender":"female"}`,
		`{"resourceType":"Patient","id":"b","gender":"male"}`,
		`{"resourceType":"Organization","id":"o1","name":"Org"}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","subject":{"reference":"Patient/a"},"serviceProvider":{"reference":"Organization/o1"},"period":{"start":"2026-01-01"}}`,
		`{"resourceType":"Encounter","id":"e2","status":"finished","subject":{"reference":"Patient/b"},"serviceProvider":{"reference":"Organization/o1"},"period":{"start":"2026-01-02"}}`,
		`{"resourceType":"Encounter","id":"e3","status":"finished","subject":{"reference":"Patient/a"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"period":{"start":"2026-01-03"}}`,
		`{"resourceType":"Provenance","id":"pv1","target":[{"reference":"Encounter/e1"}],"recorded":"2026-01-01T10:00:00Z","agent":[{"who":{"reference":"Organization/o1"}}]}`,
		`{"resourceType":"Provenance","id":"pv2","target":[{"reference":"Encounter/e2"}],"recorded":"2026-01-01T10:00:00Z","agent":[{"who":{"reference":"Organization/o1"}}]}`,
	} {
		if _, err := e.Update(ctx, Resource(t, js), 0); err != nil {
			t.Fatal(err)
		}
	}
	onlyA := func(_ context.Context, typ string) (*cond.Node, error) {
		switch typ {
		case "Patient", "Encounter":
			return cond.AllOf(cond.OneOf(cond.AccessPatient, []string{"Patient/a"}),
				cond.NoneOf(cond.Is(cond.AccessLabels, "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"))), nil
		case "Provenance":
			return cond.Never(), nil
		}
		return nil, nil
	}
	for _, tc := range []struct {
		typ, query string
		want       []string
	}{
		{"Encounter", "", []string{"e1"}},
		{"Encounter", "_id=e1,e2,e3", []string{"e1"}},
		{"Encounter", "patient=a", []string{"e1"}},
		{"Encounter", "patient=b", nil},
		{"Patient", "", []string{"a"}},
		{"Provenance", "", nil},
		{"Organization", "", []string{"o1"}},
	} {
		q := parse(t, tc.typ, tc.query+"&_total=accurate")
		got := all(t, e, q, onlyA)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s?%s restricted: %v, want %v", tc.typ, tc.query, got, tc.want)
		}
		page, err := e.Search(ctx, q, onlyA)
		if err != nil {
			t.Fatal(err)
		}
		if *page.Total != int64(len(tc.want)) {
			t.Errorf("%s?%s restricted total %d, want %d", tc.typ, tc.query, *page.Total, len(tc.want))
		}
	}
	inc := func(query string, restrict store.Restrict) []string {
		page, err := e.Search(ctx, parse(t, "Encounter", query), restrict)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range page.Included {
			out = append(out, v.Type+"/"+v.ID)
		}
		slices.Sort(out)
		return out
	}
	if got, want := inc("_include=Encounter:patient", nil), []string{"Patient/a", "Patient/b"}; !slices.Equal(got, want) {
		t.Errorf("_include: %v, want %v", got, want)
	}
	if got, want := inc("_include=Encounter:service-provider&_include=Encounter:patient", onlyA), []string{"Organization/o1", "Patient/a"}; !slices.Equal(got, want) {
		t.Errorf("restricted _include: %v, want %v", got, want)
	}
	if got, want := inc("_revinclude=Provenance:target", nil), []string{"Provenance/pv1", "Provenance/pv2"}; !slices.Equal(got, want) {
		t.Errorf("_revinclude: %v, want %v", got, want)
	}
	if got := inc("_revinclude=Provenance:target", onlyA); len(got) != 0 {
		t.Errorf("restricted _revinclude: %v, want none", got)
	}
	failing := func(context.Context, string) (*cond.Node, error) { return nil, errors.New("policy unavailable") }
	if _, err := e.Search(ctx, parse(t, "Encounter", ""), failing); err == nil {
		t.Error("a failing restriction did not fail the search")
	}
	for _, n := range []*cond.Node{
		cond.Is("acl.cat", "visit"), // a storage name, not a condition field
		cond.Is("nonsense", "x"),
		cond.Compare(cond.AccessCategories, cond.Prefix, "vis"),
		cond.Is(cond.AccessPatient, []string{"Patient/a"}),
		{Op: cond.Op(200), Field: cond.AccessPatient, Value: "Patient/a"},
	} {
		unknown := func(context.Context, string) (*cond.Node, error) { return n, nil }
		if _, err := e.Search(ctx, parse(t, "Encounter", ""), unknown); err == nil {
			t.Errorf("a restriction %v the engine cannot run ran", n)
		}
	}
}

// Patients among some patients is exactly the unrestricted answer limited
// to them, also for a record in two patients' compartments.
func contractPatients(t *testing.T, open Opener) {
	ctx := context.Background()
	e := open(t, t.TempDir(), nil)
	defer e.Close(ctx)
	team := func(id string, patients ...string) *fhir.Resource {
		var parts []string
		for _, p := range append(patients, "Organization/o1") {
			parts = append(parts, `{"member":{"reference":"`+p+`"}}`)
		}
		return Resource(t, `{"resourceType":"CareTeam","id":"`+id+`","status":"active","participant":[`+strings.Join(parts, ",")+`]}`)
	}
	for _, r := range []*fhir.Resource{team("t1", "Patient/a", "Patient/b"), team("t2", "Patient/c"), team("t3", "Patient/d")} {
		if _, err := e.Update(ctx, r, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Delete(ctx, "CareTeam", "t3", 0); err != nil {
		t.Fatal(err)
	}
	q := parse(t, "CareTeam", "participant=Organization/o1")
	got, err := e.Patients(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	allPatients := []string{"Patient/a", "Patient/b", "Patient/c"}
	if !slices.Equal(got, allPatients) {
		t.Fatalf("all patients %v, want %v", got, allPatients)
	}
	for _, among := range [][]string{{"Patient/a"}, {"Patient/b"}, {"Patient/b", "Patient/c"}, {"Patient/x"}, {"Patient/d"}} {
		got, err := e.Patients(ctx, q, among...)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.DeleteFunc(slices.Clone(allPatients), func(p string) bool { return !slices.Contains(among, p) })
		if !slices.Equal(got, want) {
			t.Errorf("among %v: %v, want %v", among, got, want)
		}
	}
}

// An acknowledged write survives closing and reopening the engine.
func contractRestart(t *testing.T, open Opener) {
	ctx := context.Background()
	dir := t.TempDir()
	e := open(t, dir, nil)
	if _, err := e.Update(ctx, Resource(t, `{"resourceType":"Patient","id":"p1","gender":"female"}`), 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e = open(t, dir, nil)
	defer e.Close(ctx)
	wr, err := e.Update(ctx, Resource(t, `{"resourceType":"Patient","id":"p1","gender":"male"}`), 0)
	if err != nil || wr.Version.VersionID != 2 {
		t.Fatalf("after restart the write made %+v, %v; want version 2", wr, err)
	}
	if ids := all(t, e, parse(t, "Patient", "gender=male"), nil); !slices.Equal(ids, []string{"p1"}) {
		t.Fatalf("after restart: %v", ids)
	}
}

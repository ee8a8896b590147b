package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/gateway"
)

// everythingEnv is the fixture people under the baseline policy, with a
// person the fixtures' GP practice may read and one it may not.
func everythingEnv(t *testing.T) (e *env, seen, unseen *person) {
	t.Helper()
	e = newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	e.token = gpToken(t, "R0260", "TREAT")
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range people {
			if !yield(k) {
				return
			}
		}
	}) {
		p := people[k]
		switch e.do(http.MethodGet, "/"+p.patient, "").Status {
		case http.StatusOK:
			if seen == nil {
				seen = p
			}
		case http.StatusForbidden:
			if unseen == nil {
				unseen = p
			}
		}
	}
	if seen == nil || unseen == nil {
		t.Fatal("the fixtures need a person the GP may read and one it may not")
	}
	return e, seen, unseen
}

// Patient/$everything gives exactly what the caller could read of the
// person's compartment one resource at a time, with the same redactions:
// the Patient first, then type by type, paged by _count.
func TestEverythingIsWhatTheCallerMayReadOfTheCompartment(t *testing.T) {
	e, p, _ := everythingEnv(t)
	// What the GP may read, resource by resource, and how it reads.
	want := map[string]string{}
	for typ, rs := range p.byType {
		if typ == "AuditEvent" || typ != "Patient" && !slices.Contains(search.CompartmentTypes(), typ) {
			continue // not in the compartment (Organization, Practitioner...), or not records of care
		}
		for _, res := range rs {
			ref := typ + "/" + res.ID
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
	t.Logf("the GP reads %d of the person's resources: %v", len(want), slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}))
	if len(want) < 3 {
		t.Fatalf("the GP reads only %d of the person's resources: nothing to page", len(want))
	}
	// Every page, following next links, _count=4.
	path := "/" + p.patient + "/$everything?_count=4"
	got := map[string]string{}
	var order []string
	for pages := 0; path != ""; pages++ {
		if pages > 200 {
			t.Fatal("more than 200 pages")
		}
		r := e.do(http.MethodGet, path, "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var b struct {
			Type  string
			Entry []struct {
				Resource json.RawMessage
				Search   struct{ Mode string }
			}
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		if b.Type != "searchset" || len(b.Entry) > 4 || len(b.Entry) < 4 && link(t, r, "next") != "" {
			t.Fatalf("page %d: type %q with %d entries, want a searchset of 4 (fewer on the last page only)", pages, b.Type, len(b.Entry))
		}
		for _, en := range b.Entry {
			var head struct{ ResourceType, ID string }
			if err := json.Unmarshal(en.Resource, &head); err != nil {
				t.Fatal(err)
			}
			ref := head.ResourceType + "/" + head.ID
			if _, dup := got[ref]; dup {
				t.Errorf("%s comes twice", ref)
			}
			got[ref] = compact(string(en.Resource))
			order = append(order, ref)
		}
		path = strings.TrimPrefix(link(t, r, "next"), e.srv.URL)
	}
	if len(order) == 0 || order[0] != p.patient {
		t.Fatalf("the first entry is %v, want the Patient %s", order[:min(1, len(order))], p.patient)
	}
	for ref, body := range want {
		if g, ok := got[ref]; !ok {
			t.Errorf("%s is readable but not in $everything", ref)
		} else if g != body {
			t.Errorf("%s differs from its read (redactions must be the same):\n got %s\nwant %s", ref, g, body)
		}
	}
	for ref := range got {
		if _, ok := want[ref]; !ok {
			t.Errorf("%s is in $everything but is not one of the person's resources the GP may read", ref)
		}
	}
	// Types come in order: the Patient, then alphabetically.
	types := make([]string, len(order))
	for i, ref := range order {
		types[i], _, _ = strings.Cut(ref, "/")
	}
	if !slices.IsSortedFunc(types[1:], strings.Compare) {
		t.Errorf("types after the Patient are not in alphabetical order: %v", slices.Compact(types))
	}

	// The whole interaction is audited, naming what it returned.
	events, _, err := e.eng.Audit.Search(context.Background(), audit.Query{Patient: p.patient, Count: 1})
	if err != nil || len(events) == 0 {
		t.Fatalf("audit search: %v (%d events)", err, len(events))
	}
	audited, _ := json.Marshal(events[0])
	if !strings.Contains(string(audited), "$everything") {
		t.Errorf("the newest audit record of the person is not the $everything: %s", audited)
	}
}

// _type and _since narrow what comes back; the Patient is first only when
// its type is asked for.
func TestEverythingTypeAndSince(t *testing.T) {
	e, p, _ := everythingEnv(t)
	r := e.do(http.MethodGet, "/"+p.patient+"/$everything?_type=Encounter,Patient&_count=100", "")
	e.mustStatus(r, http.StatusOK)
	ids, _ := entries(t, r)
	if len(ids) < 2 || ids[0] != p.patient {
		t.Fatalf("_type=Encounter,Patient: %v, want the Patient first then Encounters", ids)
	}
	for _, id := range ids[1:] {
		if !strings.HasPrefix(id, "Encounter/") {
			t.Errorf("_type=Encounter,Patient returned %s", id)
		}
	}
	r = e.do(http.MethodGet, "/"+p.patient+"/$everything?_since=2999-01-01T00:00:00Z", "")
	e.mustStatus(r, http.StatusOK)
	if ids, _ := entries(t, r); len(ids) != 0 {
		t.Errorf("_since in the future returned %v", ids)
	}
}

// A caller the policy refuses the person gets the Patient's refusal, and
// bad parameters get a 400 naming each of them.
func TestEverythingRefusalsAndBadParameters(t *testing.T) {
	e, seen, unseen := everythingEnv(t)
	e.mustStatus(e.do(http.MethodGet, "/"+unseen.patient+"/$everything", ""), http.StatusForbidden)
	e.mustStatus(e.do(http.MethodGet, "/Patient/no-such-person/$everything", ""), http.StatusNotFound)
	e.mustStatus(e.do(http.MethodPost, "/"+seen.patient+"/$everything", ""), http.StatusMethodNotAllowed)
	for q, want := range map[string]string{
		"_count=0":             "_count",
		"_count=abc":           "_count",
		"_since=2026-01-01":    "_since",
		"_type=Organization":   "_type",
		"_cursor=nonsense":     "_cursor",
		"start=2026-01-01":     "start",
		"colour=blue":          "colour",
		"_count=0&colour=blue": "colour",
	} {
		r := e.do(http.MethodGet, "/"+seen.patient+"/$everything?"+q, "")
		if r.Status != http.StatusBadRequest || !strings.Contains(diagnostics(t, r), want) {
			t.Errorf("?%s: %d %s, want 400 naming %s", q, r.Status, r.Body, want)
		}
	}
	r := e.do(http.MethodGet, "/"+seen.patient+"/$everything?colour=blue", "", "Prefer", "handling=lenient")
	e.mustStatus(r, http.StatusOK)
}

package gateway_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

func obs(patient string, i int) string {
	return fmt.Sprintf(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"1912002"}]},
	"subject":{"reference":"Patient/%s"},"effectiveDateTime":"2026-0%d-%02dT10:00:00Z","valueString":"entry %d"}`, patient, 1+i%9, 1+i%28, i)
}

func (e *env) put(path, body string) {
	e.t.Helper()
	e.mustStatus(e.do("PUT", path, body), http.StatusCreated)
}

func entries(t *testing.T, r *response) (ids []string, modes []string) {
	t.Helper()
	for _, en := range asSlice(r.json(t)["entry"]) {
		m := en.(map[string]any)
		res := m["resource"].(map[string]any)
		ids = append(ids, res["resourceType"].(string)+"/"+res["id"].(string))
		modes = append(modes, m["search"].(map[string]any)["mode"].(string))
	}
	return ids, modes
}

func link(t *testing.T, r *response, rel string) string {
	t.Helper()
	for _, l := range asSlice(r.json(t)["link"]) {
		m := l.(map[string]any)
		if m["relation"] == rel {
			return m["url"].(string)
		}
	}
	return ""
}

// Walking every page yields each match exactly once, while other clients
// insert matching resources concurrently.
func TestPagingWhileInserting(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	e.put("/Patient/p1", strings.Replace(patientAda, `"resourceType":"Patient",`, `"resourceType":"Patient","id":"p1",`, 1))
	const n = 60
	for i := range n {
		e.mustStatus(e.do("POST", "/Observation", obs("p1", i)), http.StatusCreated)
	}
	for _, sort := range []string{"", "&_sort=-_lastUpdated", "&_sort=date", "&_sort=-date"} {
		seen := map[string]int{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // a bounded concurrent writer
			defer wg.Done()
			for i := range 30 {
				select {
				case <-stop:
					return
				default:
				}
				e.do("POST", "/Observation", obs("p1", 1000+i))
			}
		}()
		next := "/Observation?patient=p1&_count=7" + sort
		pages := 0
		for next != "" {
			r := e.do("GET", next, "")
			e.mustStatus(r, http.StatusOK)
			ids, _ := entries(t, r)
			for _, id := range ids {
				seen[id]++
			}
			next = strings.TrimPrefix(link(t, r, "next"), e.srv.URL)
			pages++
			if pages > 200 {
				t.Fatal("paging does not end")
			}
		}
		close(stop)
		wg.Wait()
		for id, c := range seen {
			if c != 1 {
				t.Errorf("sort %q: %s seen %d times", sort, id, c)
			}
		}
		if len(seen) < n {
			t.Errorf("sort %q: saw %d resources, want at least the %d present at the start", sort, len(seen), n)
		}
	}
}

func TestPreviousLink(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	for i := range 10 {
		e.put(fmt.Sprintf("/Patient/p%02d", i), strings.Replace(patientAda, `"resourceType":"Patient",`, fmt.Sprintf(`"resourceType":"Patient","id":"p%02d",`, i), 1))
	}
	r1 := e.do("GET", "/Patient?_count=4&_sort=_id", "")
	r2 := e.do("GET", strings.TrimPrefix(link(t, r1, "next"), e.srv.URL), "")
	back := e.do("GET", strings.TrimPrefix(link(t, r2, "previous"), e.srv.URL), "")
	a, _ := entries(t, r1)
	b, _ := entries(t, back)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("previous page %v, want %v", b, a)
	}
	if link(t, r1, "previous") != "" {
		t.Error("first page has a previous link")
	}
}

func TestSearchResultParameters(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	e.put("/Organization/gp1", `{"resourceType":"Organization","id":"gp1","name":"Riverside Practice"}`)
	e.put("/Patient/p1", `{"resourceType":"Patient","id":"p1","name":[{"family":"Lovelace","given":["Ada"]}],"birthDate":"1936-12-10","gender":"female","generalPractitioner":[{"reference":"Organization/gp1"}]}`)
	e.put("/Patient/p2", `{"resourceType":"Patient","id":"p2","name":[{"family":"Turing","given":["Alan"]}],"birthDate":"1942-06-23","gender":"male"}`)
	e.put("/Encounter/e1", `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH"},"subject":{"reference":"Patient/p1"},"period":{"start":"2026-11-20T08:00:00Z","end":"2026-11-20T08:45:00Z"}}`)
	e.put("/Provenance/v1", `{"resourceType":"Provenance","id":"v1","target":[{"reference":"Patient/p1"}],"recorded":"2026-11-20T09:00:00Z","agent":[{"who":{"display":"Care worker"}}]}`)

	check := func(query string, want ...string) {
		t.Helper()
		r := e.do("GET", query, "")
		e.mustStatus(r, http.StatusOK)
		ids, modes := entries(t, r)
		got := []string{}
		for i := range ids {
			got = append(got, ids[i]+"@"+modes[i])
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s\n got %v\nwant %v", query, got, want)
		}
	}
	check("/Patient?family=love", "Patient/p1@match")
	check("/Patient?name:exact=Ada", "Patient/p1@match")
	check("/Patient?birthdate=lt1940", "Patient/p1@match")
	check("/Patient?birthdate=1942", "Patient/p2@match")
	check("/Patient?gender=male,female&_sort=-_id", "Patient/p2@match", "Patient/p1@match")
	check("/Patient?general-practitioner:missing=true", "Patient/p2@match")
	check("/Patient?_id=p1&_include=Patient:general-practitioner", "Patient/p1@match", "Organization/gp1@include")
	check("/Patient?_id=p1&_revinclude=Provenance:target", "Patient/p1@match", "Provenance/v1@include")
	check("/Encounter?patient=p1&_include=Encounter:patient", "Encounter/e1@match", "Patient/p1@include")
	check("/Encounter?date=2026-11-20", "Encounter/e1@match")
	check("/Encounter?date=gt2026-11-21")

	r := e.do("GET", "/Patient?_summary=count", "")
	e.mustStatus(r, http.StatusOK)
	if m := r.json(t); m["total"] != float64(2) || m["entry"] != nil {
		t.Errorf("_summary=count: %s", r.Body)
	}
	r = e.do("GET", "/Patient?_total=accurate&_count=1", "")
	if m := r.json(t); m["total"] != float64(2) || len(asSlice(m["entry"])) != 1 {
		t.Errorf("_total=accurate: %s", r.Body)
	}
	r = e.do("GET", "/Patient?_id=p1&_elements=gender", "")
	res := asSlice(r.json(t)["entry"])[0].(map[string]any)["resource"].(map[string]any)
	if res["gender"] != "female" || res["name"] != nil || !strings.Contains(string(r.Body), "SUBSETTED") {
		t.Errorf("_elements: %s", r.Body)
	}
	// POST _search gives the same answer as GET.
	req := e.do("POST", "/Patient/_search", "", "Content-Type", "application/x-www-form-urlencoded")
	e.mustStatus(req, http.StatusOK)
	form := url.Values{"family": {"turing"}}.Encode()
	r = e.doForm("/Patient/_search", form)
	ids, _ := entries(t, r)
	if strings.Join(ids, ",") != "Patient/p2" {
		t.Errorf("POST _search: %v", ids)
	}
	// Lenient handling ignores unknown parameters and leaves them out of self.
	r = e.do("GET", "/Patient?colour=blue&family=turing", "", "Prefer", "handling=lenient")
	e.mustStatus(r, http.StatusOK)
	if self := link(t, r, "self"); strings.Contains(self, "colour") || !strings.Contains(self, "family=turing") {
		t.Errorf("self link %q", self)
	}
}

func (e *env) doForm(path, form string) *response {
	e.t.Helper()
	return e.do("POST", path, form, "Content-Type", "application/x-www-form-urlencoded")
}

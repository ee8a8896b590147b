package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/policy"
)

func mongo(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), storetest.Server(t, ""), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func sqlite(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// randomResource is an Observation or Encounter with values drawn from
// small pools, so that random queries match some and miss others.
func randomResource(t *testing.T, r *rand.Rand, i int) *fhir.Resource {
	patient := fmt.Sprintf("Patient/p%d", r.IntN(6))
	date := fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
	status := []string{"final", "amended", "preliminary"}[r.IntN(3)]
	if r.IntN(2) == 0 {
		ident := fmt.Sprintf(`{"system":"urn:sys%d","value":"v%d"}`, r.IntN(3), r.IntN(2))
		if r.IntN(3) == 0 {
			ident = fmt.Sprintf(`{"system":"urn:sys%d"}`, r.IntN(3))
		}
		js := fmt.Sprintf(`{"resourceType":"Observation","id":"o%d","identifier":[`+ident+`],"status":%q,"code":{"coding":[{"system":"http://snomed.info/sct","code":"%d"}],"text":"code %d"},
			"subject":{"reference":%q},"effectiveDateTime":%q,"valueQuantity":{"value":%d.%d,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}`,
			i, status, 100+r.IntN(4), r.IntN(4), patient, date, r.IntN(20), r.IntN(10))
		return contract.Resource(t, js)
	}
	estatus := []string{"finished", "in-progress", "planned"}[r.IntN(3)]
	js := fmt.Sprintf(`{"resourceType":"Encounter","id":"e%d","status":%q,"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH"},
		"subject":{"reference":%q},"serviceProvider":{"reference":"Organization/org%d"},"period":{"start":%q}}`, i, estatus, patient, r.IntN(3), date)
	return contract.Resource(t, js)
}

func randomQuery(r *rand.Rand, typ string) string {
	v := url.Values{}
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	for range 1 + r.IntN(3) {
		switch r.IntN(5) {
		case 0:
			v.Add("patient", pick("p0", "p1", "Patient/p2", "p3,p4", "p9"))
		case 1:
			v.Add("date", pick("ge", "le", "gt", "lt", "eq", "ne", "sa", "eb", "")+fmt.Sprintf("2026-%02d", 1+r.IntN(12)))
		case 2:
			if typ == "Observation" {
				v.Add("status", pick("final", "amended,preliminary"))
			} else {
				v.Add("status", pick("finished", "planned,in-progress"))
			}
		case 3:
			if typ == "Observation" {
				if r.IntN(2) == 0 {
					v.Add(pick("code", "code:not"), pick("101", "http://snomed.info/sct|102", "103,100", "http://snomed.info/sct|", "http://loinc.org|,103"))
				} else {
					// An identifier's system is searched with and without a
					// value, and some identifiers have none.
					v.Add(pick("identifier", "identifier:not"), pick("urn:sys0|", "urn:sys1|v1", "v0", "urn:sys2|,urn:sys0|v0"))
				}
			} else {
				v.Add("service-provider", pick("org0", "Organization/org1", "org2,org0"))
			}
		case 4:
			if typ == "Observation" {
				v.Add("value-quantity", pick("gt", "le", "ne", "")+fmt.Sprintf("%d", r.IntN(20)))
			} else {
				v.Add("_lastUpdated", "gt2000-01-01")
			}
		}
	}
	v.Set("_sort", pick("_id", "-date", "date", "-_lastUpdated"))
	v.Set("_count", pick("3", "50"))
	return v.Encode()
}

// Random resources, random queries: both engines give the same answers,
// page by page, with the same totals.
func TestEnginesAgree(t *testing.T) {
	ctx := context.Background()
	m, s := mongo(t), sqlite(t)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 120 {
		res := randomResource(t, r, i)
		for _, e := range []contract.Engine{m, s} {
			c := &fhir.Resource{Type: res.Type, ID: res.ID, Object: clone(res.Object)}
			if _, err := e.Update(ctx, c, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range []string{"o3", "e5", "o8", "e9"} {
		typ := map[byte]string{'o': "Observation", 'e': "Encounter"}[id[0]]
		for _, e := range []contract.Engine{m, s} {
			_, _ = e.Delete(ctx, typ, id, 0)
		}
	}
	for n := range 150 {
		typ := []string{"Observation", "Encounter"}[n%2]
		raw := randomQuery(r, typ)
		vals, _ := url.ParseQuery(raw + "&_total=accurate")
		q, err := search.Parse(typ, vals, search.Options{})
		if err != nil {
			t.Fatalf("%s?%s: %v", typ, raw, err)
		}
		got := [2][]string{}
		totals := [2]int64{}
		restrict := randomRestriction(r)
		for k, e := range []contract.Engine{m, s} {
			qq := *q
			for range 100 {
				page, err := e.Search(ctx, &qq, restrict)
				if err != nil {
					t.Fatalf("%s?%s: %v", typ, raw, err)
				}
				totals[k] = *page.Total
				for _, v := range page.Matches {
					got[k] = append(got[k], v.ID)
				}
				if page.Next == "" {
					break
				}
				qq.Cursor = page.Next
			}
		}
		if !slices.Equal(got[0], got[1]) || totals[0] != totals[1] {
			t.Errorf("%s?%s:\nmongodb %v (total %d)\nsqlite  %v (total %d)", typ, raw, got[0], totals[0], got[1], totals[1])
		}
	}
}

// randomRestriction is nil or a policy-shaped filter on the access
// attributes: patients in a list, categories refused, alternatives.
func randomRestriction(r *rand.Rand) store.Restrict {
	pats := func() *cond.Node {
		var a []string
		for i := range 6 {
			if r.IntN(2) == 0 {
				a = append(a, fmt.Sprintf("Patient/p%d", i))
			}
		}
		return cond.OneOf(cond.AccessPatient, a)
	}
	var f *cond.Node
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		f = pats()
	case 2:
		f = cond.AllOf(pats(), cond.NoneOf(cond.OneOf(cond.AccessCategories, []string{"visit", "financial"})))
	case 3:
		f = cond.AnyOf(
			cond.AllOf(pats(), cond.Is(cond.AccessCategories, "visit")),
			cond.AllOf(pats(), cond.NoneOf(cond.Is(cond.AccessCategories, "visit"))),
		)
	case 4:
		f = cond.AllOf(cond.NoneOf(cond.Is(cond.AccessPatient, "Patient/p1")), cond.Present(cond.AccessOrgs))
	case 5:
		f = cond.Never()
	}
	return func(context.Context, string) (*cond.Node, error) { return f, nil }
}

func clone(m map[string]any) map[string]any {
	obj, err := fhir.DecodeObject(must(fhir.MarshalResource(m)))
	if err != nil {
		panic(err)
	}
	return obj
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Every version, deletions included, copies from one engine to the other
// and back unchanged, and the copy answers searches as the original does.
func TestCopyBetweenEngines(t *testing.T) {
	ctx := context.Background()
	src := sqlite(t)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		res := randomResource(t, r, i%25) // some resources get several versions
		if _, err := src.Update(ctx, res, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Delete(ctx, "Observation", "o1", 0); err != nil && !isNotFound(err) {
		t.Fatal(err)
	}
	dump := func(e interface {
		Versions(context.Context, string, func(*store.Version) error) error
	}) map[string][]*store.Version {
		out := map[string][]*store.Version{}
		for _, typ := range []string{"Observation", "Encounter"} {
			if err := e.Versions(ctx, typ, func(v *store.Version) error { out[typ] = append(out[typ], v); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	orig := dump(src)
	dst := mongo(t)
	for _, vs := range orig {
		if err := dst.Restore(ctx, vs); err != nil {
			t.Fatal(err)
		}
	}
	back := sqlite(t)
	for _, vs := range dump(dst) {
		if err := back.Restore(ctx, vs); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []interface {
		Versions(context.Context, string, func(*store.Version) error) error
	}{dst, back} {
		got := dump(e)
		for typ, vs := range orig {
			if len(got[typ]) != len(vs) {
				t.Fatalf("%s: %d versions copied, want %d", typ, len(got[typ]), len(vs))
			}
			for i, v := range vs {
				g := got[typ][i]
				if g.ID != v.ID || g.VersionID != v.VersionID || !g.LastUpdated.Equal(v.LastUpdated) || g.Deleted != v.Deleted || string(g.JSON) != string(v.JSON) {
					t.Fatalf("%s version %d: %+v, want %+v", typ, i, g, v)
				}
			}
		}
	}
	for _, query := range []string{"patient=p1", "status=final&_sort=-date", "date=ge2026-06"} {
		vals, _ := url.ParseQuery(query)
		q, _ := search.Parse("Observation", vals, search.Options{})
		var want []string
		for k, e := range []contract.Engine{src, dst, back} {
			page, err := e.Search(ctx, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, v := range page.Matches {
				ids = append(ids, fmt.Sprintf("%s/%d", v.ID, v.VersionID))
			}
			if k == 0 {
				want = ids
			} else if !slices.Equal(ids, want) {
				t.Errorf("%s on copy %d: %v, want %v", query, k, ids, want)
			}
		}
	}
}

func isNotFound(err error) bool { return errors.Is(err, fhir.ErrNotFound) }

// The access attributes a search returns beside each resource are the
// ones the policy package works out from its JSON.
func TestAttributesKeptAreTheJSONs(t *testing.T) {
	ctx := context.Background()
	s := sqlite(t)
	for _, js := range []string{
		`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"HH"},"subject":{"reference":"Patient/a"},
		  "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}],
		  "tag":[{"system":"https://socialcare-fhir.example.org/CodeSystem/source-organisation","code":"SYN01"}]}}`,
		`{"resourceType":"Organization","id":"o1","name":"x"}`,
		`{"resourceType":"Flag","id":"f1","status":"active","code":{"text":"x"},"subject":{"reference":"Patient/b"}}`,
	} {
		if _, err := s.Update(ctx, contract.Resource(t, js), 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range []string{"Encounter", "Organization", "Flag"} {
		q, _ := search.Parse(typ, url.Values{}, search.Options{})
		page, err := s.Search(ctx, q, nil)
		if err != nil || len(page.Matches) != 1 {
			t.Fatalf("%s: %v", typ, err)
		}
		v := page.Matches[0]
		obj, _ := fhir.DecodeObject(v.JSON)
		want := policy.Attributes(typ, obj)
		if v.Attrs == nil || !reflect.DeepEqual(*v.Attrs, want) {
			t.Errorf("%s: attributes %+v, want %+v", typ, v.Attrs, want)
		}
		r, err := s.Read(ctx, typ, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Attrs == nil || !reflect.DeepEqual(*r.Attrs, want) {
			t.Errorf("%s read: attributes %+v, want %+v", typ, r.Attrs, want)
		}
	}
}

// Once the engine is closed (shutting down), every call is unavailable
// (a 503 the client retries), not an internal error.
func TestClosedIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, contract.Resource(t, `{"resourceType":"Patient","id":"p1"}`), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	q, _ := search.Parse("Patient", url.Values{}, search.Options{})
	_, readErr := s.Read(ctx, "Patient", "p1")
	_, writeErr := s.Update(ctx, contract.Resource(t, `{"resourceType":"Patient","id":"p2"}`), 0)
	_, searchErr := s.Search(ctx, q, nil)
	for name, err := range map[string]error{"ping": s.Ping(ctx), "read": readErr, "write": writeErr, "search": searchErr} {
		if !errors.Is(err, fhir.ErrUnavailable) {
			t.Errorf("%s after close: %v; want fhir.ErrUnavailable", name, err)
		}
	}
}

package synth

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// caseloadEnd is a fixed end, so that the tests do not depend on the day
// they run (the relationship checks use the same day as "now").
var caseloadEnd = time.Date(2025, time.December, 1, 0, 0, 0, 0, time.UTC)

// Every synthetic number is a valid, never-issued 999 number, and no two
// people share one, over the whole range.
func TestNHSNumberAtDistinctAndValid(t *testing.T) {
	seen := make([]bool, 1000000) // by the number's six digits after 999
	for i := 0; i < MaxPeople; i++ {
		n, err := NHSNumberAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != 10 || !strings.HasPrefix(n, "999") || !fhir.ValidNHSNumber(n) {
			t.Fatalf("NHSNumberAt(%d) = %s: not a valid 999 number", i, n)
		}
		k := 0
		for _, c := range n[3:9] {
			k = k*10 + int(c-'0')
		}
		if seen[k] {
			t.Fatalf("NHSNumberAt(%d) = %s was already given to another person", i, n)
		}
		seen[k] = true
		if strings.HasPrefix(n, "99900") {
			t.Fatalf("NHSNumberAt(%d) = %s is in the fixtures' and tests' range", i, n)
		}
	}
	for _, i := range []int{-1, MaxPeople} {
		if _, err := NHSNumberAt(i); err == nil {
			t.Errorf("NHSNumberAt(%d) accepted", i)
		}
	}
}

// Generate's people have distinct numbers too (they used to share some).
func TestGenerateNHSNumbersDistinct(t *testing.T) {
	seen := map[string]bool{}
	err := Generate(50, 1, 1, caseloadEnd, func(rec *socialcare.Record) error {
		if seen[rec.Person.NHSNumber] {
			t.Errorf("%s: NHS number %s used twice", rec.Person.ID, rec.Person.NHSNumber)
		}
		seen[rec.Person.NHSNumber] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func caseload(t testing.TB, opt Options) []*socialcare.Record {
	t.Helper()
	var out []*socialcare.Record
	if err := Caseload(opt, func(rec *socialcare.Record) error { out = append(out, rec); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func marshal(t testing.TB, rec *socialcare.Record) []byte {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every record is one the gateway accepts; the same seed gives the same
// bytes, and person i is the same whatever the number of people.
func TestCaseloadValidAndDeterministic(t *testing.T) {
	opt := Options{People: 40, Months: 2, Seed: 7, End: caseloadEnd}
	a, b := caseload(t, opt), caseload(t, opt)
	opt.People = 10
	prefix := caseload(t, opt)
	opt.People, opt.Seed = 40, 8
	other := caseload(t, opt)
	same := 0
	for i, rec := range a {
		data := marshal(t, rec)
		if _, err := socialcare.Decode(data, caseloadEnd); err != nil {
			t.Fatalf("person %d does not decode: %v", i, err)
		}
		if !bytes.Equal(data, marshal(t, b[i])) {
			t.Fatalf("person %d differs between two runs with the same seed", i)
		}
		if i < len(prefix) && !bytes.Equal(data, marshal(t, prefix[i])) {
			t.Fatalf("person %d differs when fewer people are made", i)
		}
		if bytes.Equal(data, marshal(t, other[i])) {
			same++
		}
	}
	if same == len(a) {
		t.Error("another seed gives the same people")
	}
}

func TestCaseloadOptions(t *testing.T) {
	for _, opt := range []Options{
		{People: 0, Months: 1},
		{People: 1, Months: 0},
		{People: 1, Months: MaxMonths + 1},
		{People: MaxPeople + 1, Months: 1},
		{People: 1, Months: 1, End: time.Now().AddDate(0, 0, 2)},
	} {
		if err := Caseload(opt, func(*socialcare.Record) error { return nil }); err == nil {
			t.Errorf("%+v accepted", opt)
		}
		if _, err := EstimateCaseload(opt); err == nil {
			t.Errorf("estimate of %+v accepted", opt)
		}
	}
}

// translated is a set of people's FHIR resources, by type and id.
type translated struct {
	byKey   map[string]map[string]any
	json    map[string][]byte
	order   []string
	shared  int // resources made by more than one record
	records int
}

func translateAll(t testing.TB, recs []*socialcare.Record) *translated {
	t.Helper()
	tr := &translated{byKey: map[string]map[string]any{}, json: map[string][]byte{}}
	for _, rec := range recs {
		// Through JSON, as the gateway receives it.
		dec, err := socialcare.Decode(marshal(t, rec), caseloadEnd)
		if err != nil {
			t.Fatalf("%s: %v", rec.Person.ID, err)
		}
		res, err := socialcare.Translate(dec)
		if err != nil {
			t.Fatal(err)
		}
		tr.records++
		for _, r := range res {
			key := r.Type + "/" + r.ID
			var data []byte
			switch r.Type {
			case "Organization", "Practitioner", "PractitionerRole":
				if data, err = json.Marshal(r.Object); err != nil {
					t.Fatal(err)
				}
			}
			if prev, ok := tr.json[key]; ok {
				if data == nil {
					t.Fatalf("%s is made by two records (%s): only directory resources may be shared", key, rec.Person.ID)
				}
				if !bytes.Equal(prev, data) {
					t.Fatalf("%s differs between records, so every import would make a new version:\n%s\n%s", key, prev, data)
				}
				tr.shared++
				continue
			}
			tr.json[key] = data
			tr.byKey[key] = r.Object
			tr.order = append(tr.order, key)
		}
	}
	return tr
}

func (tr *translated) of(typ string) []map[string]any {
	var out []map[string]any
	for _, k := range tr.order {
		if strings.HasPrefix(k, typ+"/") {
			out = append(out, tr.byKey[k])
		}
	}
	return out
}

func refOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

func firstRef(v any) string {
	l, _ := v.([]any)
	if len(l) == 0 {
		return ""
	}
	return refOf(l[0])
}

// ods is the ODS code of an Organization reference.
func (tr *translated) ods(ref string) string {
	o := tr.byKey[ref]
	ids, _ := o["identifier"].([]any)
	for _, id := range ids {
		m := id.(map[string]any)
		if m["system"] == socialcare.SystemODS {
			return m["value"].(string)
		}
	}
	return ""
}

// The people have the relationships the access policy decides on, with
// organisations of the policy's data sharing agreement: a registered GP
// practice (spread over the agreement's practices), care package lines
// naming care providers (and the community trust's reablement service),
// visits by providers and trusts within the relationship window, several a
// day for some.
func TestCaseloadRelationships(t *testing.T) {
	var dsa struct {
		DSA struct {
			Organisations map[string]struct{ Kind string } `json:"organisations"`
		} `json:"dsa"`
	}
	data, err := os.ReadFile("../../../policy/data.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dsa); err != nil {
		t.Fatal(err)
	}
	kind := func(ods string) string { return dsa.DSA.Organisations[ods].Kind }

	const people = 100
	tr := translateAll(t, caseload(t, Options{People: people, Months: 1, Seed: 1, End: caseloadEnd}))
	for _, o := range tr.of("Organization") {
		if ods := tr.ods("Organization/" + o["id"].(string)); ods != "" && kind(ods) == "" {
			t.Errorf("organisation %s is not in the data sharing agreement", ods)
		}
	}
	gps := map[string]int{}
	for _, p := range tr.of("Patient") {
		gp := tr.ods(firstRef(p["generalPractitioner"]))
		if kind(gp) != "gp-practice" {
			t.Fatalf("Patient/%s: registered with %q, not a GP practice of the agreement", p["id"], gp)
		}
		gps[gp]++
	}
	for ods, o := range dsa.DSA.Organisations {
		if o.Kind == "gp-practice" && gps[ods] == 0 {
			t.Errorf("nobody is registered with %s", ods)
		}
	}
	active := map[string]bool{}
	for _, e := range tr.of("EpisodeOfCare") {
		if e["status"] == "active" {
			active[refOf(e["patient"])] = true
		}
	}
	if len(active) != people {
		t.Errorf("%d people have an active episode; want all %d", len(active), people)
	}
	performers := map[string]int{} // by kind
	trustPatients := map[string]bool{}
	for _, sr := range tr.of("ServiceRequest") {
		ods := tr.ods(firstRef(sr["performer"]))
		if ods == "" {
			continue // a direct payment
		}
		k := kind(ods)
		if k != "care-provider" && k != "nhs-trust" {
			t.Errorf("ServiceRequest/%s names %s (%s) as provider", sr["id"], ods, k)
		}
		performers[k]++
		if k == "nhs-trust" && sr["status"] == "active" {
			trustPatients[refOf(sr["subject"])] = true
		}
	}
	window := caseloadEnd.AddDate(0, 0, -180).Format(time.DateOnly)
	perDay := map[string]int{}
	maxPerDay := 0
	for _, enc := range tr.of("Encounter") {
		ods := tr.ods(refOf(enc["serviceProvider"]))
		p, _ := enc["period"].(map[string]any)
		start, _ := p["start"].(string)
		if kind(ods) == "nhs-trust" && start >= window {
			trustPatients[refOf(enc["subject"])] = true
		}
		exts, _ := enc["extension"].([]any)
		for _, e := range exts {
			if m := e.(map[string]any); m["url"] == socialcare.ExtPlannedPeriod { // a visit
				key := refOf(enc["subject"]) + m["valuePeriod"].(map[string]any)["start"].(string)[:10]
				perDay[key]++
				maxPerDay = max(maxPerDay, perDay[key])
			}
		}
	}
	if performers["care-provider"] < people/2 || performers["nhs-trust"] == 0 {
		t.Errorf("care package providers by kind: %v", performers)
	}
	if len(trustPatients) < people/10 || len(trustPatients) > people/2 {
		t.Errorf("%d of %d people have a care relationship with an NHS trust; want about a fifth", len(trustPatients), people)
	}
	if maxPerDay != 4 {
		t.Errorf("at most %d visits a day; want up to 4", maxPerDay)
	}
	t.Logf("GP practices %v; providers by kind %v; %d people related to a trust", gps, performers, len(trustPatients))
}

// The estimate is close to what the translator makes, and the shared
// directory resources are identical in every record.
func TestEstimateCaseload(t *testing.T) {
	for _, c := range []struct{ people, months int }{{100, 1}, {40, 3}, {7, 1}, {20, MaxMonths}} {
		if testing.Short() && c.months > 3 {
			continue
		}
		opt := Options{People: c.people, Months: c.months, Seed: 3, End: caseloadEnd}
		tr := translateAll(t, caseload(t, opt))
		got := len(tr.order)
		est, err := EstimateCaseload(opt)
		if err != nil {
			t.Fatal(err)
		}
		dir := len(tr.of("Organization")) + len(tr.of("Practitioner")) + len(tr.of("PractitionerRole"))
		off := float64(est.Resources-got) / float64(got)
		t.Logf("%d people × %d months: %d resources (%.1f a person, %d directory); estimate %d (%.1f a person, %d directory), %+.1f%%",
			c.people, c.months, got, float64(got-dir)/float64(c.people), dir, est.Resources, est.PerPerson, est.Directory, 100*off)
		if math.Abs(off) > 0.03 && c.people >= 40 {
			t.Errorf("estimate %d is %+.1f%% off %d", est.Resources, 100*off, got)
		}
		if math.Abs(off) > 0.15 {
			t.Errorf("estimate %d is %+.1f%% off %d", est.Resources, 100*off, got)
		}
	}
}

func TestPeopleFor(t *testing.T) {
	for _, target := range []int{10000, 100000, 1000000} {
		for _, months := range []int{1, 3, MaxMonths} {
			opt := Options{Months: months, Seed: 1, End: caseloadEnd}
			n, err := PeopleFor(target, opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.People = n
			est, err := EstimateCaseload(opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d resources over %d months: %d people, estimated at %d", target, months, n, est.Resources)
			// Within 2%, or half the nearest person's resources when people
			// are few.
			opt.People = n + 1
			next, _ := EstimateCaseload(opt)
			if diff := math.Abs(float64(est.Resources - target)); diff > max(0.02*float64(target), float64(next.Resources-est.Resources)) {
				t.Errorf("PeopleFor(%d) = %d people, estimated at %d resources", target, n, est.Resources)
			}
		}
	}
}

// The busiest person's record stays under the gateway's limits at the
// longest history: the request body limit (4 MB by default) and the 15 MB
// limit on a record's translation.
func TestCaseloadLargestRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	recs := caseload(t, Options{People: 20, Months: MaxMonths, Seed: 1, End: caseloadEnd})
	var big *socialcare.Record
	for _, r := range recs {
		if big == nil || len(r.Visits)+len(r.Medications) > len(big.Visits)+len(big.Medications) {
			big = r
		}
	}
	data := marshal(t, big)
	res, err := socialcare.Translate(big)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, r := range res {
		b, _ := fhir.MarshalResource(r.Object)
		size += len(b)
	}
	t.Logf("%s: %d visits, %d doses; record %d KB, %d resources, %d KB translated", big.Person.ID, len(big.Visits), len(big.Medications), len(data)>>10, len(res), size>>10)
	if len(data) > 4<<20 || size > 15<<20 {
		t.Errorf("record %d bytes, translation %d bytes: too large", len(data), size)
	}
}

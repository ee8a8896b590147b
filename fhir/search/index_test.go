package search

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// decode parses a resource as the gateway does: numbers stay json.Number.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// asJSON renders a BSON value as parsed JSON, dates as {"$date": RFC 3339},
// so that comparisons ignore key order.
func asJSON(t testing.TB, doc any) any {
	t.Helper()
	b, err := json.Marshal(plain(doc))
	if err != nil {
		t.Fatalf("marshal %v: %v", doc, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func plain(v any) any {
	switch v := v.(type) {
	case bson.M:
		m := map[string]any{}
		for k, e := range v {
			m[k] = plain(e)
		}
		return m
	case bson.D:
		m := map[string]any{}
		for _, e := range v {
			m[e.Key] = plain(e.Value)
		}
		return m
	case bson.A:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	case bson.DateTime:
		return map[string]any{"$date": v.Time().UTC().Format(time.RFC3339Nano)}
	}
	return v
}

func parseJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("expected JSON %s: %v", s, err)
	}
	return v
}

func TestIndex(t *testing.T) {
	tests := []struct {
		note     string
		rt       string
		resource string
		want     string // the sp document
		patients []string
	}{
		{
			note: "patient demographics",
			rt:   "Patient",
			resource: `{"resourceType":"Patient","id":"p1",
				"meta":{"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},
				"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],
				"active":true,
				"name":[{"family":"Ó Briain","given":["Siobhán","Mary"],"prefix":["Ms"]}],
				"gender":"female","birthDate":"1941-03-07",
				"deceasedDateTime":"2024-05-01T10:15:00+01:00",
				"address":[{"line":["1 High Street"],"city":"Leeds","postalCode":"LS1 4AB"}],
				"generalPractitioner":[{"reference":"Organization/gp1"}],
				"managingOrganization":{"reference":"https://example.org/fhir/Organization/la1/_history/3"}}`,
			want: `{
				"_id": null,
				"_profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],
				"_security": {"c":["R"],"sc":["http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"],"s":["http://terminology.hl7.org/CodeSystem/v3-Confidentiality"]},
				"identifier": {"c":["9990000018"],"sc":["https://fhir.nhs.uk/Id/nhs-number|9990000018"],"s":["https://fhir.nhs.uk/Id/nhs-number"]},
				"active": {"c":["true"],"sc":["|true"]},
				"name": {"n":["o briain","siobhan","mary","ms"],"e":["Ó Briain","Siobhán","Mary","Ms"]},
				"family": {"n":["o briain"],"e":["Ó Briain"]},
				"given": {"n":["siobhan","mary"],"e":["Siobhán","Mary"]},
				"gender": {"c":["female"],"sc":["http://hl7.org/fhir/administrative-gender|female"],"s":["http://hl7.org/fhir/administrative-gender"]},
				"birthdate": {"lo":{"$date":"1941-03-07T00:00:00Z"},"hi":{"$date":"1941-03-08T00:00:00Z"}},
				"death-date": {"lo":{"$date":"2024-05-01T09:15:00Z"},"hi":{"$date":"2024-05-01T09:15:01Z"}},
				"address": {"n":["1 high street","leeds","ls1 4ab"],"e":["1 High Street","Leeds","LS1 4AB"]},
				"address-postalcode": {"n":["ls1 4ab"],"e":["LS1 4AB"]},
				"general-practitioner": ["Organization/gp1"],
				"organization": ["Organization/la1"],
				"_sort": {
					"_lastUpdated": null,
					"birthdate": {"a":{"$date":"1941-03-07T00:00:00Z"},"d":{"$date":"1941-03-08T00:00:00Z"}},
					"death-date": {"a":{"$date":"2024-05-01T09:15:00Z"},"d":{"$date":"2024-05-01T09:15:01Z"}}
				}
			}`,
			patients: []string{"Patient/p1"},
		},
		{
			note: "observation with quantity, period and patient subject",
			rt:   "Observation",
			resource: `{"resourceType":"Observation","id":"o1","status":"final",
				"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
				"code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}],"text":"Weight"},
				"subject":{"reference":"Patient/p1"},
				"performer":[{"reference":"Practitioner/pr1"},{"reference":"#contained"}],
				"effectivePeriod":{"start":"2024-01-02T09:00:00Z"},
				"valueQuantity":{"value":71.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`,
			want: `{
				"status": {"c":["final"],"sc":["|final"]},
				"category": {"c":["vital-signs"],"sc":["http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"],"s":["http://terminology.hl7.org/CodeSystem/observation-category"]},
				"code": {"c":["29463-7"],"sc":["http://loinc.org|29463-7"],"s":["http://loinc.org"],"t":["body weight","weight"]},
				"subject": ["Patient/p1"],
				"patient": ["Patient/p1"],
				"performer": ["Practitioner/pr1"],
				"date": {"lo":{"$date":"2024-01-02T09:00:00Z"},"hi":{"$date":"9999-12-31T23:59:59.999Z"}},
				"value-quantity": {"v":71.5,"sc":["http://unitsofmeasure.org|kg"],"c":["kg"]},
				"_sort": {"date": {"a":{"$date":"2024-01-02T09:00:00Z"},"d":{"$date":"9999-12-31T23:59:59.999Z"}}}
			}`,
			patients: []string{"Patient/p1"},
		},
		{
			note: "medication administration: choice types and missing date",
			rt:   "MedicationAdministration",
			resource: `{"resourceType":"MedicationAdministration","id":"ma1","status":"completed",
				"medicationCodeableConcept":{"text":"Paracetamol 500mg tablets"},
				"subject":{"reference":"Patient/p2"},
				"performer":[{"actor":{"reference":"Patient/p2"}},{"actor":{"reference":"Practitioner/pr1"}}]}`,
			want: `{
				"status": {"c":["completed"],"sc":["|completed"]},
				"code": {"t":["paracetamol 500mg tablets"]},
				"subject": ["Patient/p2"],
				"patient": ["Patient/p2"],
				"performer": ["Patient/p2","Practitioner/pr1"],
				"_sort": {"effective-time": {"a":{"$date":"9999-12-31T23:59:59.999Z"},"d":{"$date":"0001-01-01T00:00:00Z"}}}
			}`,
			patients: []string{"Patient/p2"},
		},
		{
			note: "provenance: any target, patient only from Patient targets",
			rt:   "Provenance",
			resource: `{"resourceType":"Provenance","id":"pv1",
				"target":[{"reference":"Observation/o1"},{"reference":"Patient/p1"},{"reference":"urn:uuid:0f6b0d5e"}],
				"recorded":"2024-01-02T09:00:00.123Z",
				"agent":[{"who":{"reference":"Organization/la1"}}]}`,
			want: `{
				"target": ["Observation/o1","Patient/p1"],
				"patient": ["Patient/p1"],
				"recorded": {"lo":{"$date":"2024-01-02T09:00:00.123Z"},"hi":{"$date":"2024-01-02T09:00:00.124Z"}},
				"agent": ["Organization/la1"],
				"_sort": {"recorded": {"a":{"$date":"2024-01-02T09:00:00.123Z"},"d":{"$date":"2024-01-02T09:00:00.124Z"}}}
			}`,
			patients: []string{"Patient/p1"},
		},
		{
			note: "timing events: the stored range spans all of them",
			rt:   "Observation",
			resource: `{"resourceType":"Observation","status":"final","code":{"text":"x"},
				"effectiveTiming":{"event":["2024-03-01","2024-01-15T08:00:00Z"]}}`,
			want: `{
				"status": {"c":["final"],"sc":["|final"]},
				"code": {"t":["x"]},
				"date": {"lo":{"$date":"2024-01-15T08:00:00Z"},"hi":{"$date":"2024-03-02T00:00:00Z"}},
				"_sort": {"date": {"a":{"$date":"2024-01-15T08:00:00Z"},"d":{"$date":"2024-03-02T00:00:00Z"}}}
			}`,
		},
		{
			note:     "unknown type",
			rt:       "Unknown",
			resource: `{"resourceType":"Unknown"}`,
			want:     `{}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			sp, patients := Index(tc.rt, decode(t, tc.resource))
			got := asJSON(t, sp)
			want := parseJSON(t, tc.want).(map[string]any)
			// Sort keys exist for every sortable date parameter; the
			// expectations list only the interesting ones (or null to skip).
			dropNulls(want)
			if gotSort, ok := got.(map[string]any)["_sort"].(map[string]any); ok {
				if wantSort, ok := want["_sort"].(map[string]any); ok {
					for k := range gotSort {
						if _, listed := wantSort[k]; !listed {
							delete(gotSort, k)
						}
					}
				}
			}
			if !reflect.DeepEqual(got, any(want)) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("sp mismatch\ngot:  %s\nwant: %s", g, w)
			}
			if !slices.Equal(patients, tc.patients) {
				t.Errorf("patients = %v, want %v", patients, tc.patients)
			}
		})
	}
}

func dropNulls(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(v)
		}
	}
}

// TestIndexSortKeysOnEveryDocument checks that every SortField the parser
// can produce names a field Index always writes.
func TestIndexSortKeysOnEveryDocument(t *testing.T) {
	for rt := range definitions {
		sp, _ := Index(rt, map[string]any{"resourceType": rt})
		for _, p := range Params(rt) {
			if !p.Sortable || p.Name == "_id" || p.Name == "_lastUpdated" {
				continue
			}
			sorts, _ := sp["_sort"].(bson.M)
			keys, ok := sorts[p.Name].(bson.M)
			if !ok || keys["a"] == nil || keys["d"] == nil {
				t.Errorf("%s: empty resource has no sort keys for %s", rt, p.Name)
			}
			if _, set := sp[p.Name]; set {
				t.Errorf("%s: empty resource has a value for %s", rt, p.Name)
			}
		}
	}
}

func TestIndexKeys(t *testing.T) {
	keys := IndexKeys("Observation")
	for _, want := range []string{"lu", "sp.code.sc", "sp.code.c", "sp.date.lo", "sp.date.hi", "sp._sort.date.a", "sp._sort.date.d", "sp.subject", "sp.value-quantity.v", "sp.name.n"} {
		if want == "sp.name.n" {
			if slices.Contains(keys, want) {
				t.Errorf("Observation index keys include %s", want)
			}
			continue
		}
		if !slices.Contains(keys, want) {
			t.Errorf("Observation index keys lack %s: %v", want, keys)
		}
	}
	for rt := range definitions {
		keys := IndexKeys(rt)
		if len(keys) > 50 {
			t.Errorf("%s: %d index keys leave too little room under MongoDB's 64 indexes", rt, len(keys))
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("%s: index key %s twice", rt, k)
			}
			seen[k] = true
		}
	}
	if IndexKeys("Unknown") != nil {
		t.Error("index keys for an unknown type")
	}
}

package search

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
)

// e2eResources are stored as the store stores them: _id, del, lu, pat, sp.
var e2eResources = []struct {
	rt, lu   string
	del      bool
	resource string
}{
	{"Patient", "2024-01-01T10:00:00Z", false, `{"resourceType":"Patient","id":"p1",
		"meta":{"tag":[{"system":"https://example.org/tags","code":"demo"}]},
		"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],
		"active":true,"name":[{"family":"Ó Briain","given":["Siobhán"]}],"gender":"female","birthDate":"1941-03-07",
		"address":[{"line":["1 High Street"],"city":"Leeds","postalCode":"LS1 4AB"}],
		"generalPractitioner":[{"reference":"Organization/gp1"}]}`},
	{"Patient", "2024-02-01T10:00:00Z", false, `{"resourceType":"Patient","id":"p2",
		"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000026"}],
		"name":[{"family":"Smith","given":["John"]}],"gender":"male","birthDate":"1950-12-31",
		"deceasedDateTime":"2024-05-01T10:15:00+01:00","address":[{"postalCode":"LS2 7XY"}]}`},
	{"Patient", "2024-03-01T10:00:00Z", false, `{"resourceType":"Patient","id":"p3",
		"name":[{"family":"Smithson","given":["Mary"]}],"birthDate":"1941-07-01"}`},
	{"Patient", "2024-03-02T10:00:00Z", true, `{"resourceType":"Patient","id":"p9","name":[{"given":["Siobhan"]}]}`},
	{"Organization", "2024-01-01T09:00:00Z", false, `{"resourceType":"Organization","id":"gp1","name":"Leeds GP Practice"}`},
	{"Organization", "2024-01-01T09:00:00Z", false, `{"resourceType":"Organization","id":"la1","name":"Leeds City Council","alias":["LCC"]}`},
	{"Practitioner", "2024-01-01T09:00:00Z", false, `{"resourceType":"Practitioner","id":"pr1","name":[{"family":"Jones"}]}`},
	{"Observation", "2024-01-02T09:05:00Z", false, `{"resourceType":"Observation","id":"o1","status":"final",
		"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],
		"code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
		"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/pr1"}],
		"effectiveDateTime":"2024-01-02T09:00:00Z",
		"valueQuantity":{"value":71.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`},
	{"Observation", "2024-02-10T09:00:00Z", false, `{"resourceType":"Observation","id":"o2","status":"amended",
		"code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
		"subject":{"reference":"Patient/p1"},
		"effectivePeriod":{"start":"2024-02-01","end":"2024-02-10"},
		"valueQuantity":{"value":5.4,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`},
	{"Observation", "2024-01-01T01:00:00Z", false, `{"resourceType":"Observation","id":"o3","status":"final",
		"code":{"text":"Mood"},"subject":{"reference":"Patient/p2"},
		"effectiveDateTime":"2023-12-31T23:30:00-01:00"}`},
	{"Observation", "2024-01-01T01:00:00Z", false, `{"resourceType":"Observation","id":"o4","status":"preliminary",
		"code":{"text":"Dose"},"subject":{"reference":"Patient/p3"},
		"valueQuantity":{"value":5.35,"unit":"mg"}}`},
	{"Encounter", "2024-01-01T12:00:00Z", false, `{"resourceType":"Encounter","id":"e1","status":"finished",
		"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH"},
		"subject":{"reference":"Patient/p1"},"period":{"start":"2024-01-01T10:00:00Z","end":"2024-01-01T11:00:00Z"}}`},
	{"Encounter", "2024-03-01T12:00:00Z", false, `{"resourceType":"Encounter","id":"e2","status":"in-progress",
		"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
		"subject":{"reference":"Patient/p2"},"period":{"start":"2024-03-01"}}`},
	{"Provenance", "2024-01-02T09:05:00Z", false, `{"resourceType":"Provenance","id":"pv1",
		"target":[{"reference":"Observation/o1"},{"reference":"Patient/p1"}],"recorded":"2024-01-02T09:05:00Z",
		"agent":[{"who":{"reference":"Organization/la1"}}]}`},
	{"MedicationAdministration", "2024-01-05T08:00:00Z", false, `{"resourceType":"MedicationAdministration","id":"ma1","status":"completed",
		"medicationCodeableConcept":{"text":"Paracetamol"},"subject":{"reference":"Patient/p2"},
		"effectiveDateTime":"2024-01-05T08:00:00Z"}`},
	{"Flag", "2024-01-05T08:00:00Z", false, `{"resourceType":"Flag","id":"f1","status":"active",
		"code":{"text":"Key safe"},"subject":{"reference":"Patient/p1"},"period":{"start":"2023-06-01"}}`},
}

func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	db := storetest.Database(t, "search_e2e")
	for _, r := range e2eResources {
		res := decode(t, r.resource)
		sp, pat := Index(r.rt, res)
		lu, err := time.Parse(time.RFC3339, r.lu)
		if err != nil {
			t.Fatal(err)
		}
		doc := bson.D{
			{Key: "_id", Value: res["id"]}, {Key: "vid", Value: int64(1)}, {Key: "lu", Value: bson.NewDateTimeFromTime(lu)},
			{Key: "del", Value: r.del}, {Key: "json", Value: r.resource}, {Key: "pat", Value: pat}, {Key: "sp", Value: sp},
		}
		if _, err := db.Collection(r.rt).InsertOne(ctx, doc); err != nil {
			t.Fatalf("insert %s/%v: %v", r.rt, res["id"], err)
		}
	}
	for _, rt := range []string{"Patient", "Observation"} {
		for _, key := range IndexKeys(rt) {
			if _, err := db.Collection(rt).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: key, Value: 1}}}); err != nil {
				t.Fatalf("index %s %s: %v", rt, key, err)
			}
		}
	}

	tests := []struct {
		rt, query string
		want      []string // ids; in order when the query sorts, else any order
	}{
		// string: prefix, accents and case folded, :exact, :contains, injection
		{"Patient", "name=siob", []string{"p1"}},
		{"Patient", "name=SIOBHÁN", []string{"p1"}},
		{"Patient", "name=o bri", []string{"p1"}},
		{"Patient", "name=smith", []string{"p2", "p3"}},
		{"Patient", "family:exact=Smith", []string{"p2"}},
		{"Patient", "family:exact=smith", nil},
		{"Patient", "name:contains=THS", []string{"p3"}},
		{"Patient", `name={"$ne":null}`, nil},
		{"Patient", "name=.*", nil},
		{"Patient", "name=$where", nil},
		{"Patient", "address-postalcode=ls1", []string{"p1"}},
		{"Patient", "name:missing=false", []string{"p1", "p2", "p3"}},
		// token
		{"Patient", "gender=female", []string{"p1"}},
		{"Patient", "gender=http://hl7.org/fhir/administrative-gender|male", []string{"p2"}},
		{"Patient", "gender=|male", nil},
		{"Patient", "gender:not=male", []string{"p1", "p3"}},
		{"Patient", "gender:missing=true", []string{"p3"}},
		{"Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018", []string{"p1"}},
		{"Patient", "identifier=9990000026", []string{"p2"}},
		{"Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|", []string{"p1", "p2"}},
		{"Patient", "active=true", []string{"p1"}},
		{"Patient", "_tag=https://example.org/tags|demo", []string{"p1"}},
		{"Patient", "_id=p1,p3", []string{"p1", "p3"}},
		// date prefixes and precision
		{"Patient", "birthdate=1941", []string{"p1", "p3"}},
		{"Patient", "birthdate=1941-03", []string{"p1"}},
		{"Patient", "birthdate=1941-03-07", []string{"p1"}},
		{"Patient", "birthdate=ge1941-07-01", []string{"p2", "p3"}},
		{"Patient", "birthdate=gt1941-07-01", []string{"p2"}},
		{"Patient", "birthdate=lt1941-07-01", []string{"p1"}},
		{"Patient", "birthdate=le1941-07-01", []string{"p1", "p3"}},
		{"Patient", "birthdate=sa1941-03-07", []string{"p2", "p3"}},
		{"Patient", "birthdate=eb1950-12-31", []string{"p1", "p3"}},
		{"Patient", "birthdate=ne1941-03-07", []string{"p2", "p3"}},
		{"Patient", "birthdate=ge1941&birthdate=lt1942", []string{"p1", "p3"}},
		{"Patient", "birthdate=1941-03-07,1950-12-31", []string{"p1", "p2"}},
		{"Patient", "death-date=2024-05-01", []string{"p2"}},
		{"Patient", "death-date:missing=false", []string{"p2"}},
		{"Patient", "_lastUpdated=gt2024-02-01", []string{"p3"}},
		{"Patient", "_lastUpdated=ge2024-02-01", []string{"p2", "p3"}},
		{"Patient", "_lastUpdated=2024-02-01T10:00:00Z", []string{"p2"}},
		{"Patient", "_lastUpdated=lt2024-02-01T10:00:00Z", []string{"p1"}},
		{"Patient", "_lastUpdated=le2024-02-01T10:00:00Z", []string{"p1", "p2"}},
		// reference forms
		{"Patient", "general-practitioner=gp1", []string{"p1"}},
		{"Patient", "general-practitioner=Organization/gp1", []string{"p1"}},
		{"Patient", "general-practitioner:Organization=gp1", []string{"p1"}},
		{"Patient", "general-practitioner=https://example.org/fhir/Organization/gp1", []string{"p1"}},
		{"Patient", "general-practitioner=Practitioner/gp1", nil},
		{"Patient", "general-practitioner:missing=true", []string{"p2", "p3"}},
		// sorting: missing values last, _id breaks ties
		{"Patient", "_sort=birthdate", []string{"p1", "p3", "p2"}},
		{"Patient", "_sort=-birthdate", []string{"p2", "p3", "p1"}},
		{"Patient", "_sort=-_lastUpdated", []string{"p3", "p2", "p1"}},
		{"Patient", "_sort=death-date,_id", []string{"p2", "p1", "p3"}},
		{"Patient", "_sort=-death-date,-_id", []string{"p2", "p3", "p1"}},
		// observations: token with system, :text, quantity, dates with periods and timezones
		{"Observation", "code=http://loinc.org|29463-7", []string{"o1", "o2"}},
		{"Observation", "code=29463-7", []string{"o1", "o2"}},
		{"Observation", "code=http://snomed.info/sct|29463-7", nil},
		{"Observation", "code:text=body", []string{"o1", "o2"}},
		{"Observation", "code:text=mood", []string{"o3"}},
		{"Observation", "category=vital-signs", []string{"o1"}},
		{"Observation", "category:missing=true", []string{"o2", "o3", "o4"}},
		{"Observation", "status=final,amended", []string{"o1", "o2", "o3"}},
		{"Observation", "status:not=final", []string{"o2", "o4"}},
		{"Observation", "value-quantity=71.5", []string{"o1"}},
		{"Observation", "value-quantity=5.4", []string{"o2", "o4"}},
		{"Observation", "value-quantity=5.40", []string{"o2"}},
		{"Observation", "value-quantity=5.4|http://unitsofmeasure.org|kg", []string{"o2"}},
		{"Observation", "value-quantity=5.4||mg", []string{"o4"}},
		{"Observation", "value-quantity=gt10", []string{"o1"}},
		{"Observation", "value-quantity=le5.4", []string{"o2", "o4"}},
		{"Observation", "value-quantity=ne5.4", []string{"o1"}},
		{"Observation", "value-quantity:missing=true", []string{"o3"}},
		{"Observation", "date=2024-01-02", []string{"o1"}},
		{"Observation", "date=2024-02", []string{"o2"}},
		{"Observation", "date=2024-02-05", nil},
		{"Observation", "date=ge2024-02-05", []string{"o2"}},
		{"Observation", "date=2024-01-01", []string{"o3"}},
		{"Observation", "date=lt2024-01-01", nil},
		{"Observation", "date=2023-12-31T23:30:00-01:00", []string{"o3"}},
		{"Observation", "date:missing=true", []string{"o4"}},
		{"Observation", "patient=p1", []string{"o1", "o2"}},
		{"Observation", "subject=Patient/p2", []string{"o3"}},
		{"Observation", "patient=p1&status=amended", []string{"o2"}},
		{"Observation", "performer=pr1", []string{"o1"}},
		{"Observation", "_sort=date", []string{"o3", "o1", "o2", "o4"}},
		{"Observation", "_sort=-date", []string{"o2", "o1", "o3", "o4"}},
		// periods: open ends are unbounded
		{"Encounter", "class=HH", []string{"e1"}},
		{"Encounter", "date=2024-01-01", []string{"e1"}},
		{"Encounter", "date=ge2024-06-01", []string{"e2"}},
		{"Encounter", "date=lt2024-02-01", []string{"e1"}},
		{"Encounter", "date=sa2024-01-01", []string{"e2"}},
		{"Flag", "date=le2023-07-01&patient=p1", []string{"f1"}},
		{"Provenance", "target=Observation/o1", []string{"pv1"}},
		{"Provenance", "target=o1", []string{"pv1"}},
		{"Provenance", "patient=p1", []string{"pv1"}},
		{"Provenance", "agent:Organization=la1", []string{"pv1"}},
		{"MedicationAdministration", "effective-time=2024-01-05&code:text=para", []string{"ma1"}},
		{"Organization", "name=lcc", []string{"la1"}},
		{"Organization", "name=leeds", []string{"gp1", "la1"}},
	}
	for _, tc := range tests {
		t.Run(tc.rt+"?"+tc.query, func(t *testing.T) {
			q, err := Parse(tc.rt, mustQuery(t, tc.query), Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			filter := bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "del", Value: false}}, q.Filter}}}
			sort := bson.D{}
			for _, s := range q.Sort {
				dir := 1
				if s.Desc {
					dir = -1
				}
				sort = append(sort, bson.E{Key: s.Field, Value: dir})
			}
			if !slices.ContainsFunc(q.Sort, func(s SortField) bool { return s.Field == "_id" }) {
				sort = append(sort, bson.E{Key: "_id", Value: 1})
			}
			cur, err := db.Collection(tc.rt).Find(ctx, filter, options.Find().SetSort(sort).SetProjection(bson.D{{Key: "_id", Value: 1}}))
			if err != nil {
				t.Fatalf("find %v: %v", filter, err)
			}
			var docs []struct {
				ID string `bson:"_id"`
			}
			if err := cur.All(ctx, &docs); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				got = append(got, d.ID)
			}
			if len(q.Sort) == 0 {
				slices.Sort(got)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v\nfilter: %v", got, tc.want, q.Filter)
			}
		})
	}

	// The compartment written beside each resource.
	var pv struct {
		Pat []string `bson:"pat"`
	}
	if err := db.Collection("Provenance").FindOne(ctx, bson.D{{Key: "_id", Value: "pv1"}}).Decode(&pv); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pv.Pat, []string{"Patient/p1"}) {
		t.Errorf("Provenance compartment = %v", pv.Pat)
	}
}

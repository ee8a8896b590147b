package search

import (
	"errors"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("query %q: %v", raw, err)
	}
	return v
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		rt, query string
		want      string // the condition as cond.Node.String gives it
	}{
		{"Patient", "", `true`},
		// token
		{"Patient", "gender=female", `sp.gender.c = "female"`},
		{"Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018", `sp.identifier.sc = "https://fhir.nhs.uk/Id/nhs-number|9990000018"`},
		{"Patient", "identifier=|abc", `sp.identifier.sc = "|abc"`},
		{"Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|", `sp.identifier.s = "https://fhir.nhs.uk/Id/nhs-number"`},
		{"Patient", `identifier=a\|b`, `sp.identifier.c = "a|b"`},
		{"Observation", "code=http://loinc.org|29463-7,http://loinc.org|8302-2", `or(sp.code.sc = "http://loinc.org|29463-7", sp.code.sc = "http://loinc.org|8302-2")`},
		{"Observation", "status:not=final,amended", `not(or(sp.status.c = "final", sp.status.c = "amended"))`},
		{"Observation", "code:text=Body", `sp.code.t prefix "body"`},
		{"Observation", "code:missing=true", `not(exists sp.code)`},
		{"Patient", "active=true", `sp.active.c = "true"`},
		{"Patient", "_id=a1,b-2", `or(_id = "a1", _id = "b-2")`},
		{"Patient", "_tag=http://example.org/tags|x", `sp._tag.sc = "http://example.org/tags|x"`},
		// string
		{"Patient", "name=Siobhán", `sp.name.n prefix "siobhan"`},
		{"Patient", "name:exact=Siobhán", `sp.name.e = "Siobhán"`},
		{"Patient", "family:contains=bri.*", `sp.family.n contains "bri.*"`},
		{"Patient", `name={"$ne":null}`, `sp.name.n prefix "{\"$ne\":null}"`},
		{"Patient", "name=$where", `sp.name.n prefix "$where"`},
		{"Patient", `name=a\,b`, `sp.name.n prefix "a,b"`},
		{"Patient", "name:missing=false", `exists sp.name`},
		// repeated parameters are ANDed
		{"Patient", "given=mary&given=sio", `and(sp.given.n prefix "mary", sp.given.n prefix "sio")`},
		// date
		{"Patient", "birthdate=1941", `and(sp.birthdate.lo >= 1941-01-01T00:00:00Z, sp.birthdate.hi <= 1942-01-01T00:00:00Z)`},
		{"Patient", "birthdate=eq1941-03", `and(sp.birthdate.lo >= 1941-03-01T00:00:00Z, sp.birthdate.hi <= 1941-04-01T00:00:00Z)`},
		{"Patient", "birthdate=ne1941-03-07", `or(sp.birthdate.lo < 1941-03-07T00:00:00Z, sp.birthdate.hi > 1941-03-08T00:00:00Z)`},
		{"Patient", "birthdate=gt1941-03-07", `sp.birthdate.hi > 1941-03-08T00:00:00Z`},
		{"Patient", "birthdate=lt1941-03-07", `sp.birthdate.lo < 1941-03-07T00:00:00Z`},
		{"Patient", "birthdate=ge1941-03-07", `sp.birthdate.hi > 1941-03-07T00:00:00Z`},
		{"Patient", "birthdate=le1941-03-07", `sp.birthdate.lo < 1941-03-08T00:00:00Z`},
		{"Patient", "birthdate=sa1941-03-07", `sp.birthdate.lo >= 1941-03-08T00:00:00Z`},
		{"Patient", "birthdate=eb1941-03-07", `sp.birthdate.hi <= 1941-03-07T00:00:00Z`},
		{"Encounter", "date=ge2024-01-02T10:00:00+01:00", `sp.date.hi > 2024-01-02T09:00:00Z`},
		{"Encounter", "date=ge2024-01-02T10:00 01:00", `sp.date.hi > 2024-01-02T09:00:00Z`},
		{"Encounter", "date=2024-01-02T10:00", `and(sp.date.lo >= 2024-01-02T10:00:00Z, sp.date.hi <= 2024-01-02T10:01:00Z)`},
		{"Patient", "_lastUpdated=gt2024-01-02", `lu >= 2024-01-03T00:00:00Z`},
		{"Patient", "_lastUpdated=2024-01-02", `and(lu >= 2024-01-02T00:00:00Z, lu < 2024-01-03T00:00:00Z)`},
		{"Patient", "_lastUpdated=le2024-01-02T10:00:00.5Z", `lu < 2024-01-02T10:00:00.501Z`},
		// reference
		{"Observation", "subject=Patient/p1", `sp.subject = "Patient/p1"`},
		{"Observation", "patient=p1", `sp.patient = "Patient/p1"`},
		{"Observation", "subject=p1", `sp.subject in ["Group/p1", "Patient/p1"]`},
		{"Observation", "performer=pr1", `sp.performer in ["CareTeam/pr1", "Organization/pr1", "Patient/pr1", "Practitioner/pr1", "PractitionerRole/pr1", "RelatedPerson/pr1"]`},
		{"Observation", "subject:Patient=p1", `sp.subject = "Patient/p1"`},
		{"Observation", "subject=https://example.org/fhir/Patient/p1/_history/2", `sp.subject = "Patient/p1"`},
		{"Observation", "performer:missing=true", `not(exists sp.performer)`},
		// quantity
		{"Observation", "value-quantity=5.4", `and(sp.value-quantity.v >= 5.35, sp.value-quantity.v < 5.45)`},
		{"Observation", "value-quantity=gt70|http://unitsofmeasure.org|kg", `and(sp.value-quantity.v > 70, sp.value-quantity.sc = "http://unitsofmeasure.org|kg")`},
		{"Observation", "value-quantity=le100||kg", `and(sp.value-quantity.v <= 100, sp.value-quantity.c = "kg")`},
		{"Observation", "value-quantity=ne5", `or(sp.value-quantity.v < 4.5, sp.value-quantity.v >= 5.5)`},
		// uri
		{"Patient", "_profile=https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient", `sp._profile = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"`},
		// empty values are ignored; result parameters are not filters
		{"Patient", "name=&_count=5&_format=json&_pretty=true", `true`},
	}
	for _, tc := range tests {
		t.Run(tc.rt+"?"+tc.query, func(t *testing.T) {
			q, err := Parse(tc.rt, mustQuery(t, tc.query), Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := q.Filter.String(); got != tc.want {
				t.Errorf("filter\ngot:  %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestParseResultParameters(t *testing.T) {
	tests := []struct {
		query string
		opt   Options
		check func(t *testing.T, q *Query)
	}{
		{"", Options{}, func(t *testing.T, q *Query) {
			if q.Count != DefaultCount || q.Total != "" || q.Summary != "" || len(q.Self) != 0 {
				t.Errorf("defaults: %+v", q)
			}
		}},
		{"", Options{DefaultCount: 20, MaxCount: 10}, func(t *testing.T, q *Query) {
			if q.Count != 10 {
				t.Errorf("Count = %d, want the cap 10", q.Count)
			}
		}},
		{"_count=0", Options{}, func(t *testing.T, q *Query) {
			if q.Count != 0 || q.Self.Get("_count") != "0" {
				t.Errorf("Count = %d, self %v", q.Count, q.Self)
			}
		}},
		{"_count=5000", Options{MaxCount: 1000}, func(t *testing.T, q *Query) {
			if q.Count != 1000 || q.Self.Get("_count") != "1000" {
				t.Errorf("Count = %d, self %v; want clamped to 1000", q.Count, q.Self)
			}
		}},
		{"_sort=-date,_lastUpdated,_id", Options{}, func(t *testing.T, q *Query) {
			want := []SortField{{Param: "date", Field: "sp._sort.date.d", Desc: true}, {Param: "_lastUpdated", Field: "lu"}, {Param: "_id", Field: "_id"}}
			if !reflect.DeepEqual(q.Sort, want) || q.Self.Get("_sort") != "-date,_lastUpdated,_id" {
				t.Errorf("Sort = %+v, self %v", q.Sort, q.Self)
			}
		}},
		{"_total=estimate&_summary=count", Options{}, func(t *testing.T, q *Query) {
			if q.Total != "accurate" || q.Summary != "count" || q.Self.Get("_total") != "estimate" {
				t.Errorf("Total %q Summary %q", q.Total, q.Summary)
			}
		}},
		{"_elements=status,code,status", Options{}, func(t *testing.T, q *Query) {
			if !slices.Equal(q.Elements, []string{"status", "code"}) || q.Self.Get("_elements") != "status,code" {
				t.Errorf("Elements %v", q.Elements)
			}
		}},
		{"_include=Observation:patient&_include=Observation:performer:Practitioner&_cursor=abc", Options{}, func(t *testing.T, q *Query) {
			want := []Include{{Source: "Observation", Param: "patient", Field: "sp.patient"}, {Source: "Observation", Param: "performer", Target: "Practitioner", Field: "sp.performer"}}
			if !reflect.DeepEqual(q.Include, want) {
				t.Errorf("Include %+v", q.Include)
			}
			if q.Cursor != "abc" || q.Self.Has("_cursor") {
				t.Errorf("Cursor %q self %v", q.Cursor, q.Self)
			}
		}},
		{"_revinclude=Provenance:target&code=x&_format=json", Options{}, func(t *testing.T, q *Query) {
			want := []Include{{Source: "Provenance", Param: "target", Field: "sp.target"}}
			if !reflect.DeepEqual(q.RevInclude, want) {
				t.Errorf("RevInclude %+v", q.RevInclude)
			}
			self := url.Values{"_revinclude": {"Provenance:target"}, "code": {"x"}}
			if !reflect.DeepEqual(q.Self, self) {
				t.Errorf("Self = %v, want %v", q.Self, self)
			}
		}},
		{"unknown=1&code:below=x&subject.name=x&_has:Provenance:target:agent=x&_include:iterate=Observation:patient&code=y", Options{Lenient: true}, func(t *testing.T, q *Query) {
			if !reflect.DeepEqual(q.Self, url.Values{"code": {"y"}}) || len(q.Include) != 0 {
				t.Errorf("lenient Self = %v", q.Self)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse("Observation", mustQuery(t, tc.query), tc.opt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if q.Type != "Observation" {
				t.Errorf("Type = %q", q.Type)
			}
			tc.check(t, q)
		})
	}
}

func TestParseErrors(t *testing.T) {
	type issue struct{ code, expr string }
	tests := []struct {
		rt, query string
		lenient   bool
		want      []issue
	}{
		{"Patient", "unknown=1", false, []issue{{"not-supported", "unknown"}}},
		{"Patient", "_id[$ne]=x", false, []issue{{"not-supported", "_id[$ne]"}}},
		{"Patient", "birthdate=1941-13-01", false, []issue{{"invalid", "birthdate"}}},
		{"Patient", "birthdate=1941-02-30", true, []issue{{"invalid", "birthdate"}}},
		{"Patient", "birthdate=xx1941", false, []issue{{"invalid", "birthdate"}}},
		{"Patient", "birthdate=ap1941", false, []issue{{"not-supported", "birthdate"}}},
		{"Patient", "birthdate={\"$gt\":\"\"}", false, []issue{{"invalid", "birthdate"}}},
		{"Patient", "_count=-1", false, []issue{{"invalid", "_count"}}},
		{"Patient", "_count=ten", false, []issue{{"invalid", "_count"}}},
		{"Patient", "_count=1&_count=2", false, []issue{{"invalid", "_count"}}},
		{"Patient", "_sort=name", false, []issue{{"invalid", "_sort"}}},
		{"Patient", "_sort=nonsense", false, []issue{{"invalid", "_sort"}}},
		{"Patient", "_sort=birthdate,-birthdate", false, []issue{{"invalid", "_sort"}}},
		{"Patient", "_total=maybe", false, []issue{{"invalid", "_total"}}},
		{"Patient", "_summary=text", false, []issue{{"not-supported", "_summary"}}},
		{"Patient", "_elements=name,meta.tag", false, []issue{{"invalid", "_elements"}}},
		{"Patient", "_elements=$where", false, []issue{{"invalid", "_elements"}}},
		{"Patient", "identifier=a|b|c", false, []issue{{"invalid", "identifier"}}},
		{"Patient", "identifier=|", false, []issue{{"invalid", "identifier"}}},
		{"Patient", "gender=male,", false, []issue{{"invalid", "gender"}}},
		{"Patient", "gender:missing=yes", false, []issue{{"invalid", "gender:missing"}}},
		{"Patient", "gender:below=x", false, []issue{{"not-supported", "gender:below"}}},
		{"Patient", "_id=a/b", false, []issue{{"invalid", "_id"}}},
		{"Patient", "_id:not=a", false, []issue{{"not-supported", "_id:not"}}},
		{"Patient", "general-practitioner=Patient/1", false, []issue{{"invalid", "general-practitioner"}}},
		{"Patient", "general-practitioner=a b", false, []issue{{"invalid", "general-practitioner"}}},
		{"Patient", "general-practitioner:identifier=x|y", false, []issue{{"not-supported", "general-practitioner:identifier"}}},
		{"Patient", "organization:Practitioner=1", false, []issue{{"invalid", "organization:Practitioner"}}},
		{"Patient", "organization.name=x", false, []issue{{"not-supported", "organization.name"}}},
		{"Patient", "_has:Observation:patient:code=x", false, []issue{{"not-supported", "_has:Observation:patient:code"}}},
		{"Observation", "value-quantity=ap5", false, []issue{{"not-supported", "value-quantity"}}},
		{"Observation", "value-quantity=5e3", false, []issue{{"invalid", "value-quantity"}}},
		{"Observation", "value-quantity=5|kg", false, []issue{{"invalid", "value-quantity"}}},
		{"Observation", "value-quantity=5|http://unitsofmeasure.org|", false, []issue{{"invalid", "value-quantity"}}},
		{"Observation", "_include=Patient:general-practitioner", false, []issue{{"invalid", "_include"}}},
		{"Observation", "_include=Observation:code", false, []issue{{"invalid", "_include"}}},
		{"Observation", "_include=Observation:subject:Organization", false, []issue{{"invalid", "_include"}}},
		{"Observation", "_include=*", false, []issue{{"not-supported", "_include"}}},
		{"Observation", "_include:iterate=Observation:patient", false, []issue{{"not-supported", "_include:iterate"}}},
		{"Observation", "_revinclude=Encounter:patient", false, []issue{{"invalid", "_revinclude"}}},
		// every problem is reported at once, in parameter order
		{"Patient", "birthdate=bad&_count=x&name:fuzzy=a&unknown=1&gender=male", false, []issue{
			{"invalid", "_count"}, {"invalid", "birthdate"}, {"not-supported", "name:fuzzy"}, {"not-supported", "unknown"},
		}},
		// lenient mode drops unsupported parameters but not malformed values
		{"Patient", "birthdate=bad&unknown=1", true, []issue{{"invalid", "birthdate"}}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse(tc.rt, mustQuery(t, tc.query), Options{Lenient: tc.lenient})
			if err == nil {
				t.Fatalf("no error; filter %v", q.Filter)
			}
			var fe *fhir.Error
			if !errors.As(err, &fe) || fe.Status != 400 {
				t.Fatalf("error %v is not a 400 *fhir.Error", err)
			}
			var got []issue
			for _, is := range fe.Issues {
				if is.Severity != "error" || is.Diagnostics == "" || len(is.Expression) != 1 {
					t.Errorf("malformed issue %+v", is)
					continue
				}
				got = append(got, issue{is.Code, is.Expression[0]})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("issues = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

func TestParseUnknownType(t *testing.T) {
	_, err := Parse("Nope", nil, Options{})
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != 400 {
		t.Fatalf("got %v", err)
	}
}

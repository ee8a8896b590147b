package search

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// FuzzParse checks that Parse never panics, that every error is a 400
// *fhir.Error with issues, and that no key of a filter comes from the
// client: every field is a stored field this package names.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "name=smith", "birthdate=ge1941-03&birthdate=lt1942", "identifier=a|b|c",
		`name={"$ne":null}`, "_id[$ne]=x", "name=$where", "code:not=a,b", "subject:Patient=1",
		"value-quantity=5.4|http://unitsofmeasure.org|kg", "_sort=-date,_id", "_count=0",
		"_include=Observation:patient", "_revinclude=Provenance:target", "date=2024-01-02T10:00:00+01:00",
		`name=a\,b\|c\$`, "subject.name=x", "_has:Observation:patient:code=1", "_elements=a,b",
	} {
		f.Add("Observation", seed, false)
		f.Add("Patient", seed, true)
	}
	allowed := map[string]bool{cond.ID: true, cond.LastUpdated: true}
	f.Fuzz(func(t *testing.T, rt, raw string, lenient bool) {
		params, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := Parse(rt, params, Options{Lenient: lenient})
		if err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) || fe.Status != 400 || len(fe.Issues) == 0 {
				t.Fatalf("error %v is not a 400 *fhir.Error with issues", err)
			}
			return
		}
		for _, f := range q.Filter.Fields() {
			if !allowed[f] && !strings.HasPrefix(f, "sp.") {
				t.Fatalf("filter field %q not produced by the package", f)
			}
		}
		if q.Count < 0 {
			t.Fatalf("negative count %d", q.Count)
		}
	})
}

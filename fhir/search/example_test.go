package search_test

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/socialcare-fhir/gateway/fhir/search"
)

func ExampleParse() {
	params, _ := url.ParseQuery("patient=p1&date=ge2024-01&_sort=-date&_count=20")
	q, err := search.Parse("Observation", params, search.Options{DefaultCount: 50, MaxCount: 1000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Filter)
	fmt.Println(q.Sort[0].Field, q.Count, q.Self.Encode())
	// Output:
	// and(sp.date.hi > 2024-01-01T00:00:00Z, sp.patient = "Patient/p1")
	// sp._sort.date.d 20 _count=20&_sort=-date&date=ge2024-01&patient=p1
}

func ExampleIndex() {
	sp, patients := search.Index("Observation", map[string]any{
		"resourceType": "Observation",
		"status":       "final",
		"subject":      map[string]any{"reference": "Patient/p1"},
	})
	status, _ := json.Marshal(sp["status"]) // sorted keys: a stable output
	fmt.Println(string(status), sp["patient"], patients)
	// Output:
	// {"c":["final"],"sc":["|final"]} [Patient/p1] [Patient/p1]
}

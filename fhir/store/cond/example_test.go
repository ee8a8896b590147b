package cond_test

import (
	"fmt"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// A restriction as the access policy builds one: the caller's patients,
// and no restricted record.
func ExampleNode_Eval() {
	n := cond.AllOf(
		cond.OneOf(cond.AccessPatient, []string{"Patient/a", "Patient/b"}),
		cond.NoneOf(cond.Is(cond.AccessLabels, "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R")),
	)
	record := map[string][]any{
		cond.AccessPatient: {"Patient/a"},
		cond.AccessLabels:  {},
	}
	fmt.Println(n)
	fmt.Println(n.Eval(func(f string) ([]any, bool) { vs, ok := record[f]; return vs, ok }))
	// Output:
	// and(access.patient in ["Patient/a", "Patient/b"], not(access.labels = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"))
	// true
}

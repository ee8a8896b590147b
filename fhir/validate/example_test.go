package validate_test

import (
	"errors"
	"fmt"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/validate"
)

func ExampleResource() {
	body := []byte(`{"resourceType": "Observation", "status": "done", "code": {"text": "Fall"},
		"effectiveDateTime": "2024-03-01T07:45:00"}`)
	_, err := validate.Resource(body)
	var e *fhir.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status)
		for _, is := range e.Issues {
			fmt.Println(is.Expression[0], "-", is.Code)
		}
	}
	// Output:
	// 422
	// Observation.effectiveDateTime - value
	// Observation.status - value
}

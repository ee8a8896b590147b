package validate

import (
	"errors"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func asFHIRError(t *testing.T, err error) *fhir.Error {
	t.Helper()
	var e *fhir.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *fhir.Error", err, err)
	}
	return e
}

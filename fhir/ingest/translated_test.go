package ingest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

// What the translator builds is checked as a REST write is: a resource
// breaking an R4 invariant refuses the record with a 422 naming it.
func TestTranslatedResourcesMustBeValidR4(t *testing.T) {
	ok := fhir.Resource{Type: "Observation", ID: "o1", Object: map[string]any{
		"resourceType": "Observation", "id": "o1", "status": "final",
		"code":          map[string]any{"text": "weight"},
		"valueQuantity": map[string]any{"value": 70, "unit": "kg"},
	}}
	if err := checkTranslated([]fhir.Resource{ok}); err != nil {
		t.Fatalf("a valid Observation was refused: %v", err)
	}
	bad := fhir.Resource{Type: "Observation", ID: "o2", Object: map[string]any{
		"resourceType": "Observation", "id": "o2", "status": "final",
		"code":             map[string]any{"text": "weight"},
		"valueQuantity":    map[string]any{"value": 70, "unit": "kg"},
		"dataAbsentReason": map[string]any{"text": "not measured"},
	}}
	err := checkTranslated([]fhir.Resource{ok, bad})
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
		t.Fatalf("an Observation breaking obs-6: %v, want a 422", err)
	}
	if !strings.Contains(fe.Error(), "obs-6") || !strings.Contains(fe.Error(), "Observation") {
		t.Errorf("the refusal %q does not name the resource type and obs-6", fe.Error())
	}
}

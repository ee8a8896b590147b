package validate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/validate"
)

func TestBundleChecksTheEnvelopeAndEveryEntry(t *testing.T) {
	good := map[string]any{"resourceType": "Bundle", "type": "document", "timestamp": "2025-03-10T12:00:00Z",
		"identifier": map[string]any{"system": "urn:x", "value": "1"},
		"entry": []any{map[string]any{"fullUrl": "urn:uuid:0b1d3c1e-8f5e-4d3c-9b1a-2c3d4e5f6a7b",
			"resource": map[string]any{"resourceType": "Patient", "id": "p", "gender": "female"}}}}
	if err := validate.Bundle(good); err != nil {
		t.Fatalf("a valid Bundle: %v", err)
	}
	bad := map[string]any{"resourceType": "Bundle", "type": "dossier", "colour": "blue",
		"entry": []any{map[string]any{"resource": map[string]any{"resourceType": "Patient", "gender": "sometimes"}}}}
	err := validate.Bundle(bad)
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != 422 {
		t.Fatalf("want a 422, got %v", err)
	}
	var where []string
	for _, i := range fe.Issues {
		where = append(where, i.Expression...)
	}
	for _, want := range []string{"Bundle.type", "Bundle.colour", "Bundle.entry[0].resource.gender"} {
		if !strings.Contains(strings.Join(where, " "), want) {
			t.Errorf("no issue at %s (issues at %v)", want, where)
		}
	}
	if validate.Bundle(map[string]any{"resourceType": "Patient"}) == nil {
		t.Error("a Patient passed as a Bundle")
	}
}

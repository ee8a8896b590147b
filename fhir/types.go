package fhir

import "slices"

// ResourceTypes are the resource types the gateway serves, in the order the
// CapabilityStatement lists them.
var ResourceTypes = []string{
	"AdverseEvent", "AuditEvent", "Basic", "CarePlan", "CareTeam", "Composition",
	"Consent", "DocumentReference", "Encounter", "EpisodeOfCare", "Flag", "Goal",
	"Group", "Medication", "MedicationAdministration", "Observation", "Organization",
	"Patient", "Practitioner", "PractitionerRole", "Provenance", "RelatedPerson",
	"ServiceRequest", "Task",
}

// Supported reports whether resourceType is served by the gateway.
func Supported(resourceType string) bool {
	_, ok := slices.BinarySearch(ResourceTypes, resourceType)
	return ok
}

// Resource is a validated resource in its FHIR JSON form.
type Resource struct {
	// Type is the resourceType.
	Type string
	// ID is the logical id; empty when the client sent none.
	ID string
	// Object is the decoded JSON object. Numbers are json.Number so that
	// decimals keep their precision.
	Object map[string]any
}

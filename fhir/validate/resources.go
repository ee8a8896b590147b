package validate

import (
	"reflect"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// resourceModels maps each served resource type (fhir.ResourceTypes) to its
// samply model struct.
var resourceModels = map[string]reflect.Type{
	"AdverseEvent":             reflect.TypeFor[models.AdverseEvent](),
	"AuditEvent":               reflect.TypeFor[models.AuditEvent](),
	"Basic":                    reflect.TypeFor[models.Basic](),
	"CarePlan":                 reflect.TypeFor[models.CarePlan](),
	"CareTeam":                 reflect.TypeFor[models.CareTeam](),
	"Composition":              reflect.TypeFor[models.Composition](),
	"Consent":                  reflect.TypeFor[models.Consent](),
	"DocumentReference":        reflect.TypeFor[models.DocumentReference](),
	"Encounter":                reflect.TypeFor[models.Encounter](),
	"EpisodeOfCare":            reflect.TypeFor[models.EpisodeOfCare](),
	"Flag":                     reflect.TypeFor[models.Flag](),
	"Goal":                     reflect.TypeFor[models.Goal](),
	"Group":                    reflect.TypeFor[models.Group](),
	"Medication":               reflect.TypeFor[models.Medication](),
	"MedicationAdministration": reflect.TypeFor[models.MedicationAdministration](),
	"Observation":              reflect.TypeFor[models.Observation](),
	"Organization":             reflect.TypeFor[models.Organization](),
	"Patient":                  reflect.TypeFor[models.Patient](),
	"Practitioner":             reflect.TypeFor[models.Practitioner](),
	"PractitionerRole":         reflect.TypeFor[models.PractitionerRole](),
	"Provenance":               reflect.TypeFor[models.Provenance](),
	"RelatedPerson":            reflect.TypeFor[models.RelatedPerson](),
	"ServiceRequest":           reflect.TypeFor[models.ServiceRequest](),
	"Task":                     reflect.TypeFor[models.Task](),
}

// containedModels are the resource types accepted only contained in a
// served resource (the case-file audit keeps a council's checklist and a
// review inside its Tasks, fhir/casefile; a data-quality snapshot keeps
// its counts as a MeasureReport inside its Task, gateway/quality_trend.go):
// they are validated by their models as a served type is, but are not
// served on their own.
var containedModels = map[string]reflect.Type{
	"MeasureReport":         reflect.TypeFor[models.MeasureReport](),
	"Questionnaire":         reflect.TypeFor[models.Questionnaire](),
	"QuestionnaireResponse": reflect.TypeFor[models.QuestionnaireResponse](),
}

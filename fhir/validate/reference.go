package validate

import (
	"net/url"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// checkReference checks a Reference.reference string and returns the
// problem, or "" when it is well formed. Accepted: "#" and "#id" (contained),
// "urn:uuid:" and "urn:oid:" (Bundle-local), absolute http and https URLs,
// and relative "Type/id" or "Type/id/_history/vid" with Type an R4 resource
// type.
func checkReference(s string) string {
	switch {
	case strings.HasPrefix(s, "#"):
		if s != "#" && !fhir.ValidID(s[1:]) {
			return "is not a valid local reference (#id)"
		}
		return ""
	case strings.HasPrefix(s, "urn:uuid:"):
		if !reUUID.MatchString(s) {
			return "is not a valid urn:uuid: reference"
		}
		return ""
	case strings.HasPrefix(s, "urn:oid:"):
		if !reOID.MatchString(s) {
			return "is not a valid urn:oid: reference"
		}
		return ""
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || strings.ContainsFunc(s, isSpace) {
			return "is not a valid absolute URL"
		}
		return ""
	}
	typ, rest, ok := strings.Cut(s, "/")
	if !ok || !r4ResourceTypes[typ] {
		return "must be Type/id with an R4 resource type, an absolute http(s) URL, urn:uuid:, urn:oid: or #id"
	}
	id, vid, versioned := strings.Cut(rest, "/_history/")
	if !fhir.ValidID(id) || (versioned && !fhir.ValidID(vid)) {
		return "must be Type/id or Type/id/_history/vid with valid ids"
	}
	return ""
}

// r4ResourceTypes are the names of all FHIR R4 resource types (those of the
// samply R4 models, without the abstract Resource and DomainResource).
var r4ResourceTypes = map[string]bool{
	"Account":                           true,
	"ActivityDefinition":                true,
	"AdverseEvent":                      true,
	"AllergyIntolerance":                true,
	"Appointment":                       true,
	"AppointmentResponse":               true,
	"AuditEvent":                        true,
	"Basic":                             true,
	"Binary":                            true,
	"BiologicallyDerivedProduct":        true,
	"BodyStructure":                     true,
	"Bundle":                            true,
	"CapabilityStatement":               true,
	"CarePlan":                          true,
	"CareTeam":                          true,
	"CatalogEntry":                      true,
	"ChargeItem":                        true,
	"ChargeItemDefinition":              true,
	"Claim":                             true,
	"ClaimResponse":                     true,
	"ClinicalImpression":                true,
	"CodeSystem":                        true,
	"Communication":                     true,
	"CommunicationRequest":              true,
	"CompartmentDefinition":             true,
	"Composition":                       true,
	"ConceptMap":                        true,
	"Condition":                         true,
	"Consent":                           true,
	"Contract":                          true,
	"Coverage":                          true,
	"CoverageEligibilityRequest":        true,
	"CoverageEligibilityResponse":       true,
	"DetectedIssue":                     true,
	"Device":                            true,
	"DeviceDefinition":                  true,
	"DeviceMetric":                      true,
	"DeviceRequest":                     true,
	"DeviceUseStatement":                true,
	"DiagnosticReport":                  true,
	"DocumentManifest":                  true,
	"DocumentReference":                 true,
	"EffectEvidenceSynthesis":           true,
	"Encounter":                         true,
	"Endpoint":                          true,
	"EnrollmentRequest":                 true,
	"EnrollmentResponse":                true,
	"EpisodeOfCare":                     true,
	"EventDefinition":                   true,
	"Evidence":                          true,
	"EvidenceVariable":                  true,
	"ExampleScenario":                   true,
	"ExplanationOfBenefit":              true,
	"FamilyMemberHistory":               true,
	"Flag":                              true,
	"Goal":                              true,
	"GraphDefinition":                   true,
	"Group":                             true,
	"GuidanceResponse":                  true,
	"HealthcareService":                 true,
	"ImagingStudy":                      true,
	"Immunization":                      true,
	"ImmunizationEvaluation":            true,
	"ImmunizationRecommendation":        true,
	"ImplementationGuide":               true,
	"InsurancePlan":                     true,
	"Invoice":                           true,
	"Library":                           true,
	"Linkage":                           true,
	"List":                              true,
	"Location":                          true,
	"Measure":                           true,
	"MeasureReport":                     true,
	"Media":                             true,
	"Medication":                        true,
	"MedicationAdministration":          true,
	"MedicationDispense":                true,
	"MedicationKnowledge":               true,
	"MedicationRequest":                 true,
	"MedicationStatement":               true,
	"MedicinalProduct":                  true,
	"MedicinalProductAuthorization":     true,
	"MedicinalProductContraindication":  true,
	"MedicinalProductIndication":        true,
	"MedicinalProductIngredient":        true,
	"MedicinalProductInteraction":       true,
	"MedicinalProductManufactured":      true,
	"MedicinalProductPackaged":          true,
	"MedicinalProductPharmaceutical":    true,
	"MedicinalProductUndesirableEffect": true,
	"MessageDefinition":                 true,
	"MessageHeader":                     true,
	"MolecularSequence":                 true,
	"NamingSystem":                      true,
	"NutritionOrder":                    true,
	"Observation":                       true,
	"ObservationDefinition":             true,
	"OperationDefinition":               true,
	"OperationOutcome":                  true,
	"Organization":                      true,
	"OrganizationAffiliation":           true,
	"Parameters":                        true,
	"Patient":                           true,
	"PaymentNotice":                     true,
	"PaymentReconciliation":             true,
	"Person":                            true,
	"PlanDefinition":                    true,
	"Practitioner":                      true,
	"PractitionerRole":                  true,
	"Procedure":                         true,
	"Provenance":                        true,
	"Questionnaire":                     true,
	"QuestionnaireResponse":             true,
	"RelatedPerson":                     true,
	"RequestGroup":                      true,
	"ResearchDefinition":                true,
	"ResearchElementDefinition":         true,
	"ResearchStudy":                     true,
	"ResearchSubject":                   true,
	"RiskAssessment":                    true,
	"RiskEvidenceSynthesis":             true,
	"Schedule":                          true,
	"SearchParameter":                   true,
	"ServiceRequest":                    true,
	"Slot":                              true,
	"Specimen":                          true,
	"SpecimenDefinition":                true,
	"StructureDefinition":               true,
	"StructureMap":                      true,
	"Subscription":                      true,
	"Substance":                         true,
	"SubstanceNucleicAcid":              true,
	"SubstancePolymer":                  true,
	"SubstanceProtein":                  true,
	"SubstanceReferenceInformation":     true,
	"SubstanceSourceMaterial":           true,
	"SubstanceSpecification":            true,
	"SupplyDelivery":                    true,
	"SupplyRequest":                     true,
	"Task":                              true,
	"TerminologyCapabilities":           true,
	"TestReport":                        true,
	"TestScript":                        true,
	"ValueSet":                          true,
	"VerificationResult":                true,
	"VisionPrescription":                true,
}

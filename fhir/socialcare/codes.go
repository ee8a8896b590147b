package socialcare

import (
	"strings"

	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// Base is the project's base URI. Every project identifier system, code
// system and extension lives under it (see docs/social-care-mapping.md).
const Base = "https://socialcare-fhir.example.org"

// Project code systems, identifier systems and extensions.
const (
	SystemSourceID        = Base + "/Id/source/"      // + <ODS>/<kind>
	SystemCQCLocation     = Base + "/Id/cqc-location" // CQC location ids
	CSStatementKind       = Base + "/CodeSystem/statement-kind"
	CSSecurity            = Base + "/CodeSystem/security-label"
	CSSourceOrganisation  = Base + "/CodeSystem/source-organisation" // meta.tag: ODS code of the writer
	CSRecordCategory      = Base + "/CodeSystem/record-category"     // meta.tag: access policy category
	CSObservation         = Base + "/CodeSystem/observation-code"
	CSObservationCategory = Base + "/CodeSystem/observation-category"
	CSCarePlanCategory    = Base + "/CodeSystem/care-plan-category"
	CSEncounterType       = Base + "/CodeSystem/encounter-type"
	CSVisitStatus         = Base + "/CodeSystem/visit-status"
	CSMedicationSupport   = Base + "/CodeSystem/medication-support-level"
	CSMedicationOutcome   = Base + "/CodeSystem/medication-outcome"
	CSIncidentType        = Base + "/CodeSystem/incident-type"
	CSHarm                = Base + "/CodeSystem/harm-level"
	CSFlagCode            = Base + "/CodeSystem/flag-code"
	CSBasicType           = Base + "/CodeSystem/basic-type"
	CSRelationship        = Base + "/CodeSystem/relationship"
	CSSharingDecision     = Base + "/CodeSystem/sharing-decision"
	CSTransactionDir      = Base + "/CodeSystem/transaction-direction"
	CSCLDServiceType      = Base + "/CodeSystem/cld-service-type"
	CSCLDServiceComponent = Base + "/CodeSystem/cld-service-component"
	CSCLDDelivery         = Base + "/CodeSystem/cld-delivery-mechanism"
	CSCLDPSR              = Base + "/CodeSystem/cld-primary-support-reason"
	CSCLDEventType        = Base + "/CodeSystem/cld-event-type"
	CSCLDEventOutcome     = Base + "/CodeSystem/cld-event-outcome"

	ExtPackageLine       = Base + "/StructureDefinition/care-package-line"
	ExtAgreedWithPerson  = Base + "/StructureDefinition/agreed-with-person"
	ExtNextReviewDate    = Base + "/StructureDefinition/next-review-date"
	ExtPlannedPeriod     = Base + "/StructureDefinition/planned-period"
	ExtVisitStatus       = Base + "/StructureDefinition/visit-status"
	ExtEventOutcome      = Base + "/StructureDefinition/event-outcome"
	ExtCarersPerVisit    = Base + "/StructureDefinition/carers-per-visit"
	ExtIncidentNarrative = Base + "/StructureDefinition/incident-description"
	ExtHarm              = Base + "/StructureDefinition/harm-level"
	ExtActionTaken       = Base + "/StructureDefinition/action-taken"
	ExtPeopleInformed    = Base + "/StructureDefinition/people-informed"
	ExtLPAType           = Base + "/StructureDefinition/lpa-type"
	ExtAmount            = Base + "/StructureDefinition/transaction-amount"
	ExtDirection         = Base + "/StructureDefinition/transaction-direction"
	ExtPurpose           = Base + "/StructureDefinition/transaction-purpose"
	ExtSharingPurpose    = Base + "/StructureDefinition/sharing-purpose"
	ExtReceipt           = Base + "/StructureDefinition/receipt-reference"
)

// Project security labels (code system CSSecurity).
const (
	LabelSafeguarding        = "safeguarding"
	LabelPersonalFinance     = "personal-finance"
	LabelProfessionalOpinion = "professional-opinion"
	LabelThirdParty          = "third-party-confidential"
)

// Record categories (code system CSRecordCategory) the translator tags
// resources with: the access policy's vocabulary (docs/policy-guide.md) for
// the resources whose type alone does not name their category.
const (
	CategoryCarePlan    = "care-plan"
	CategoryCarePackage = "care-package"
	CategoryVisit       = "visit"
	CategoryFinancial   = "financial"
)

// External systems.
const (
	SystemNHSNumber   = "https://fhir.nhs.uk/Id/nhs-number"
	SystemODS         = "https://fhir.nhs.uk/Id/ods-organization-code"
	SystemSNOMED      = "http://snomed.info/sct"
	SystemDMD         = "https://dmd.nhs.uk"
	SystemUCUM        = "http://unitsofmeasure.org"
	SystemSDSJobRole  = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName"
	ExtNHSVerify      = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
	CSNHSVerify       = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
	csConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	csActCode         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	csRoleClass       = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	csParticipation   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	csProvAgentType   = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	csConsentScope    = "http://terminology.hl7.org/CodeSystem/consentscope"
	csFlagCategory    = "http://terminology.hl7.org/CodeSystem/flag-category"
	csObsCategory     = "http://terminology.hl7.org/CodeSystem/observation-category"
	csLOINC           = "http://loinc.org"
	ukCoreProfile     = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
)

// SNOMED CT codes, each found in a published source (see
// /work/shared/reference/uk-standards.md). No other SNOMED code is used.
const (
	snomedHomeVisit     = "439708006" // Home visit
	snomedSocialService = "310134006" // Social services
	snomedCarePlan      = "734163000" // Care plan
	snomedAssessment    = "710824005" // Assessment of health and social care needs
	snomedFall          = "1912002"   // Fall
)

// codeList is an immutable list of allowed values matched without regard
// to case; canonical returns the value's spelling in the list.
type codeList []string

func (l codeList) canonical(v string) (string, bool) {
	for _, c := range l {
		if strings.EqualFold(c, v) {
			return c, true
		}
	}
	return "", false
}

// Client Level Data defined lists. Service types and event outcomes are the
// CLD release 2 spellings; release 1 spellings differ only in case and are
// accepted. Primary support reasons and delivery mechanisms are as listed in
// NHS England's CLD transformation code. Service components: only the values
// confirmed in sources so far (see docs/social-care-mapping.md).
var (
	cldServiceTypes = codeList{
		"Long term support: Community",
		"Long term support: Nursing care",
		"Long term support: Residential care",
		"Long term support: Prison",
		"Short term support: ST-Max",
		"Short term support: Ongoing low level",
		"Short term support: Other short term",
		"Unpaid carer support: Direct to unpaid carer",
		"Unpaid carer support: Support involving the person cared-for",
	}
	cldServiceComponents = codeList{
		"Home support or domiciliary care",
		"Direct payment",
		"Reablement",
		"Shared Lives",
		"Equipment",
		"Carer Respite",
	}
	cldDeliveryMechanisms = codeList{
		"Direct Payment",
		"CASSR Managed Personal Budget",
		"CASSR Commissioned Support",
		"Self-Funder Metering Only",
	}
	cldPrimarySupportReasons = codeList{
		"Physical Support: Access & mobility only",
		"Physical Support: Personal care support",
		"Sensory Support: Support for visual impairment",
		"Sensory Support: Support for hearing impairment",
		"Sensory Support: Support for dual impairment",
		"Support with Memory & Cognition",
		"Learning Disability Support",
		"Mental Health Support",
		"Social Support: Substance misuse support",
		"Social Support: Asylum seeker support",
		"Social Support: Support for Social Isolation/Other",
		"Social Support: Support to Carer",
		"Unknown",
	}
	cldEventOutcomes = codeList{
		"Admitted to hospital",
		"Continuation of support or services",
		"NFA: Deceased",
		"NFA: Information and advice or signposting",
		"NFA: No services offered for other reason",
		"NFA: Other",
		"NFA: Referral to NHS services or NHS funded social care",
		"NFA: Referral to other service within the local authority",
		"NFA: Responsibility moved to another local authority",
		"NFA: Self-funded client or under 12wk disregard",
		"NFA: Support declined",
		"NFA: Support ended as planned",
		"NFA: Support ended for other reason",
		"Progress to assessment, review or reassessment",
		"Progress to reablement/ST-Max",
		"Progress to support planning or services",
	}
)

// Enumerations of the record format.
var (
	genders            = codeList{"male", "female", "other", "unknown"}
	contactRoles       = codeList{"next-of-kin", "unpaid-carer", "lasting-power-of-attorney"}
	lpaTypes           = codeList{"health-and-welfare", "property-and-financial-affairs"}
	episodeStatuses    = codeList{"planned", "waitlist", "active", "onhold", "finished", "cancelled"}
	planStatuses       = codeList{"draft", "active", "on-hold", "revoked", "completed"}
	goalStatuses       = codeList{"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "rejected"}
	lineStatuses       = codeList{"draft", "active", "on-hold", "revoked", "completed"}
	weekDays           = codeList{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	assessmentTypes    = codeList{"assessment", "review"}
	settings           = codeList{"home", "virtual", "office"}
	visitStatuses      = codeList{"completed", "in-progress", "planned", "missed", "cancelled"}
	statementKinds     = codeList{"fact", "opinion"}
	supportLevels      = codeList{"prompt", "assist", "administer"}
	medicationOutcomes = codeList{"taken", "refused", "missed", "not-available"}
	incidentTypes      = codeList{"fall", "injury", "medication-error", "safeguarding-concern", "other"}
	harmLevels         = codeList{"none", "low", "moderate", "severe", "death"}
	changeTypes        = codeList{"circumstances", "health", "physical-condition", "care-needs"}
	directions         = codeList{"paid-out", "received"}
	decisionTypes      = codeList{"objection", "consent"}
	thirdPartyKinds    = codeList{"organisation", "person"}
	sharingBases       = codeList{"consent", facts.BasisSafeguardingDuty}
)

// verificationWords maps the retired word codes of NHS number verification
// status to the current numeric codes. Only the word codes confirmed in
// published UK Core material are accepted.
var verificationWords = map[string]string{
	"number-present-and-verified":   "01",
	"number-present-but-not-traced": "02",
}

// verificationCodes are the current verification status codes.
var verificationCodes = codeList{"01", "02", "03", "04", "05", "06", "07", "08"}

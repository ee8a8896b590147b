package policy

import (
	"slices"
	"strings"
)

// Code systems the gateway's own labels and tags use. The translator uses
// the same base.
const (
	CodeSystemBase = "https://socialcare-fhir.example.org/CodeSystem/"
	// SecurityLabelSystem holds labels HL7 has no code for: the Label*
	// codes below, as the social care translator emits them.
	SecurityLabelSystem = CodeSystemBase + "security-label"
	// CategorySystem codes, in meta.tag or in a resource's category
	// element, name a record category from [Categories].
	CategorySystem = CodeSystemBase + "record-category"
	// SourceOrgSystem codes, in meta.tag, are the ODS codes of the
	// organisations that wrote the record.
	SourceOrgSystem = CodeSystemBase + "source-organisation"
	// ConfidentialitySystem is HL7's confidentiality code system (R, V
	// restrict a record to cleared role classes).
	ConfidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
)

// Project security label codes (system [SecurityLabelSystem]), spelt as
// docs/social-care-mapping.md defines them.
const (
	// LabelSafeguarding adds the safeguarding category.
	LabelSafeguarding = "safeguarding"
	// LabelPersonalFinance adds the financial category.
	LabelPersonalFinance = "personal-finance"
	// LabelProfessionalOpinion adds the opinion category.
	LabelProfessionalOpinion = "professional-opinion"
	// LabelThirdParty marks content a person may not see in their own
	// record (SELF-6-third-party).
	LabelThirdParty = "third-party-confidential"
)

// Record categories: the fixed vocabulary the policy data speaks.
const (
	CatDemographics = "demographics"
	CatContacts     = "contacts"
	CatDirectory    = "directory"
	CatCarePlan     = "care-plan"
	CatCarePackage  = "care-package"
	CatVisit        = "visit"
	CatMedication   = "medication"
	CatIncident     = "incident"
	CatAlert        = "alert"
	CatSafeguarding = "safeguarding"
	CatFinancial    = "financial"
	CatOpinion      = "opinion"
	CatConsent      = "consent"
	CatProvenance   = "provenance"
	CatAudit        = "audit"
	// CatRightsRequest is a person's request under their data protection
	// rights (a Task: rectification, subject access).
	CatRightsRequest = "rights-request"
	// CatCohort is a Group: a list of people an organisation defined for
	// itself (a trust's patients with active episodes), read and written
	// by that organisation only (COHORT-11-own-cohort).
	CatCohort = "cohort"
	CatOther  = "other"
)

// Categories returns the record category vocabulary, in the order the
// policy guide lists it.
func Categories() []string {
	return []string{
		CatDemographics, CatContacts, CatDirectory, CatCarePlan, CatCarePackage,
		CatVisit, CatMedication, CatIncident, CatAlert, CatSafeguarding,
		CatFinancial, CatOpinion, CatConsent, CatProvenance, CatAudit, CatRightsRequest, CatCohort, CatOther,
	}
}

// typeCategory is a resource type's own category. A fixed one always
// applies; an overridable one applies only when no category tag is present
// (a CarePlan tagged care-package is a care package, not a care plan).
type typeCategory struct {
	cat   string
	fixed bool
}

// typeCategories is an immutable table: resource type to its category.
var typeCategories = map[string]typeCategory{
	"Patient":                  {CatDemographics, true},
	"RelatedPerson":            {CatContacts, true},
	"CareTeam":                 {CatContacts, true},
	"Organization":             {CatDirectory, true},
	"Practitioner":             {CatDirectory, true},
	"PractitionerRole":         {CatDirectory, true},
	"Medication":               {CatDirectory, true},
	"MedicationAdministration": {CatMedication, true},
	"AdverseEvent":             {CatIncident, true},
	"Flag":                     {CatAlert, true},
	"Consent":                  {CatConsent, true},
	"Provenance":               {CatProvenance, true},
	"AuditEvent":               {CatAudit, true},
	"Task":                     {CatRightsRequest, true},
	"Group":                    {CatCohort, true},
	"CarePlan":                 {CatCarePlan, false},
	"Goal":                     {CatCarePlan, false},
	"EpisodeOfCare":            {CatCarePackage, false},
	"ServiceRequest":           {CatCarePackage, false},
	"Encounter":                {CatVisit, false},
}

// labelCategories is an immutable table: project security label code to the
// category it adds.
var labelCategories = map[string]string{
	LabelSafeguarding:        CatSafeguarding,
	LabelPersonalFinance:     CatFinancial,
	LabelProfessionalOpinion: CatOpinion,
}

// patientElements are the elements that point at the person a record is
// about, in the order tried (FHIR R4: subject on most clinical resources,
// patient on EpisodeOfCare, Consent and RelatedPerson, for on Task).
var patientElements = []string{"subject", "patient", "for"}

// Attributes extracts what the policy decides on from a resource in its
// FHIR JSON form. It never fails: missing or malformed elements give fewer
// attributes, and a record with no category is "other".
func Attributes(resourceType string, resource map[string]any) ResourceAttributes {
	var a ResourceAttributes
	a.Patient = patientOf(resourceType, resource)

	meta, _ := resource["meta"].(map[string]any)
	var tagged []string
	for _, c := range codings(meta["tag"]) {
		switch c.system {
		case CategorySystem:
			tagged = append(tagged, c.code)
		case SourceOrgSystem:
			a.AuthorOrgs = append(a.AuthorOrgs, c.code)
		}
	}
	for _, cc := range list(resource["category"]) {
		m, _ := cc.(map[string]any)
		for _, c := range codings(m["coding"]) {
			if c.system == CategorySystem {
				tagged = append(tagged, c.code)
			}
		}
	}
	var cats []string
	tc, known := typeCategories[resourceType]
	switch {
	case known && tc.fixed:
		cats = append(cats, tc.cat)
	case len(tagged) == 0 && known:
		cats = append(cats, tc.cat)
	}
	// Unknown tag codes are kept: the policy refuses categories outside its
	// vocabulary, which is safer than guessing.
	cats = append(cats, tagged...)
	for _, c := range codings(meta["security"]) {
		if c.system == "" || c.code == "" {
			continue
		}
		a.Labels = append(a.Labels, c.system+"|"+c.code)
		if c.system == SecurityLabelSystem {
			if cat, ok := labelCategories[c.code]; ok {
				cats = append(cats, cat)
			}
		}
	}
	if len(cats) == 0 {
		cats = append(cats, CatOther)
	}
	a.Categories = sortedSet(cats)
	a.Labels = sortedSet(a.Labels)
	a.AuthorOrgs = sortedSet(a.AuthorOrgs)
	return a
}

func patientOf(resourceType string, resource map[string]any) string {
	if resourceType == "Patient" {
		if id, _ := resource["id"].(string); id != "" {
			return "Patient/" + id
		}
		return ""
	}
	for _, el := range patientElements {
		ref, _ := resource[el].(map[string]any)
		if s, _ := ref["reference"].(string); strings.HasPrefix(s, "Patient/") && len(s) > len("Patient/") {
			return s
		}
	}
	if resourceType == "Provenance" {
		// Provenance names its person only as a target (the R4 patient
		// search parameter is target.where(resolve() is Patient)).
		for _, t := range list(resource["target"]) {
			ref, _ := t.(map[string]any)
			if s, _ := ref["reference"].(string); strings.HasPrefix(s, "Patient/") && len(s) > len("Patient/") {
				return s
			}
		}
	}
	return ""
}

type coding struct{ system, code string }

// codings reads a JSON array of Coding objects, skipping anything else.
func codings(v any) []coding {
	var out []coding
	for _, e := range list(v) {
		m, _ := e.(map[string]any)
		system, _ := m["system"].(string)
		code, _ := m["code"].(string)
		if code != "" {
			out = append(out, coding{system, code})
		}
	}
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func sortedSet(ss []string) []string {
	if len(ss) == 0 {
		return []string{}
	}
	slices.Sort(ss)
	return slices.Compact(ss)
}

package search

import (
	"slices"
	"strings"
)

// definitions holds every supported parameter per resource type, sorted by
// name. It is built once and never modified. Names, types, expressions and
// targets follow the R4 (4.0.1) SearchParameter definitions; the few
// parameters R4 does not define (Flag category and status, AdverseEvent
// patient) say so in their Documentation.
var definitions = buildDefinitions()

const (
	administrativeGender = "http://hl7.org/fhir/administrative-gender"
	gatewayDefined       = " (defined by this gateway; not an R4 search parameter)"
)

func buildDefinitions() map[string][]def {
	m := map[string][]def{
		"Patient": {
			str("name", "Patient.name", "A server defined search that may match any of the string fields in the HumanName, including family, given, prefix, suffix, and/or text", "name"),
			str("family", "Patient.name.family", "A portion of the family name of the patient", "name.family"),
			str("given", "Patient.name.given", "A portion of the given name of the patient", "name.given"),
			str("address", "Patient.address", "A server defined search that may match any of the string fields in the Address, including line, city, district, state, country, postalCode, and/or text", "address"),
			str("address-postalcode", "Patient.address.postalCode", "A postalCode specified in an address", "address.postalCode"),
			date("birthdate", "Patient.birthDate", "The patient's date of birth", "birthDate"),
			date("death-date", "(Patient.deceased as dateTime)", "The date of death has been provided and satisfies this search value", "deceased[dateTime]"),
			withSystem(tok("gender", "Patient.gender", "Gender of the patient", "gender"), administrativeGender),
			tok("active", "Patient.active", "Whether the patient record is active", "active"),
			ref("general-practitioner", "Patient.generalPractitioner", "Patient's nominated general practitioner, not the organization that manages the record", served("Organization", "Practitioner", "PractitionerRole"), "generalPractitioner"),
			ref("organization", "Patient.managingOrganization", "The organization that is the custodian of the patient record", served("Organization"), "managingOrganization"),
		},
		"RelatedPerson": {
			ref("patient", "RelatedPerson.patient", "The patient this related person is related to", served("Patient"), "patient"),
			str("name", "RelatedPerson.name", "A server defined search that may match any of the string fields in the HumanName, including family, given, prefix, suffix, and/or text", "name"),
			tok("relationship", "RelatedPerson.relationship", "The relationship between the patient and the relatedperson", "relationship"),
		},
		"Practitioner": {
			str("name", "Practitioner.name", "A server defined search that may match any of the string fields in the HumanName, including family, given, prefix, suffix, and/or text", "name"),
			str("family", "Practitioner.name.family", "A portion of the family name", "name.family"),
			str("given", "Practitioner.name.given", "A portion of the given name", "name.given"),
		},
		"PractitionerRole": {
			ref("practitioner", "PractitionerRole.practitioner", "Practitioner that is able to provide the defined services for the organization", served("Practitioner"), "practitioner"),
			ref("organization", "PractitionerRole.organization", "The identity of the organization the practitioner represents / acts on behalf of", served("Organization"), "organization"),
			tok("role", "PractitionerRole.code", "The practitioner can perform this role at for the organization", "code"),
		},
		"Organization": {
			str("name", "Organization.name | Organization.alias", "A portion of the organization's name or alias", "name", "alias"),
			tok("type", "Organization.type", "A code for the type of organization", "type"),
		},
		"CareTeam": {
			patientRef("CareTeam", "subject"),
			ref("subject", "CareTeam.subject", "Who care team is for", served("Group", "Patient"), "subject"),
			tok("status", "CareTeam.status", "proposed | active | suspended | inactive | entered-in-error", "status"),
			tok("category", "CareTeam.category", "Type of team", "category"),
			ref("participant", "CareTeam.participant.member", "Who is involved", served("Practitioner", "Organization", "CareTeam", "Patient", "PractitionerRole", "RelatedPerson"), "participant.member"),
			date("date", "CareTeam.period", "Time period team covers", "period"),
		},
		"EpisodeOfCare": {
			ref("patient", "EpisodeOfCare.patient", "The patient who is the focus of this episode of care", served("Patient"), "patient"),
			tok("status", "EpisodeOfCare.status", "The current status of the Episode of Care as provided (does not check the status history collection)", "status"),
			tok("type", "EpisodeOfCare.type", "Type/class - e.g. specialist referral, disease management", "type"),
			date("date", "EpisodeOfCare.period", "The provided date search value falls within the episode of care's period", "period"),
			ref("organization", "EpisodeOfCare.managingOrganization", "The organization that has assumed the specific responsibilities of this EpisodeOfCare", served("Organization"), "managingOrganization"),
			ref("care-manager", "EpisodeOfCare.careManager", "Care manager/care coordinator for the patient", served("Practitioner"), "careManager"),
		},
		"CarePlan": {
			patientRef("CarePlan", "subject"),
			ref("subject", "CarePlan.subject", "Who the care plan is for", served("Group", "Patient"), "subject"),
			tok("status", "CarePlan.status", "draft | active | on-hold | revoked | completed | entered-in-error | unknown", "status"),
			date("date", "CarePlan.period", "Time period plan covers", "period"),
			tok("category", "CarePlan.category", "Type of plan", "category"),
			tok("intent", "CarePlan.intent", "proposal | plan | order | option", "intent"),
			ref("care-team", "CarePlan.careTeam", "Who's involved in plan?", served("CareTeam"), "careTeam"),
			ref("activity-reference", "CarePlan.activity.reference", "Activity details defined in specific resource", served("Appointment", "MedicationRequest", "Task", "NutritionOrder", "RequestGroup", "VisionPrescription", "DeviceRequest", "ServiceRequest", "CommunicationRequest"), "activity.reference"),
		},
		"Goal": {
			patientRef("Goal", "subject"),
			ref("subject", "Goal.subject", "Who this goal is intended for", served("Group", "Organization", "Patient"), "subject"),
			tok("lifecycle-status", "Goal.lifecycleStatus", "proposed | planned | accepted | active | on-hold | completed | cancelled | entered-in-error | rejected", "lifecycleStatus"),
			date("target-date", "(Goal.target.due as date)", "Reach goal on or before", "target.due[date]"),
		},
		"ServiceRequest": {
			patientRef("ServiceRequest", "subject"),
			ref("subject", "ServiceRequest.subject", "Search by subject", served("Group", "Device", "Patient", "Location"), "subject"),
			tok("status", "ServiceRequest.status", "draft | active | on-hold | revoked | completed | entered-in-error | unknown", "status"),
			tok("intent", "ServiceRequest.intent", "proposal | plan | directive | order | original-order | reflex-order | filler-order | instance-order | option", "intent"),
			tok("code", "ServiceRequest.code", "What is being requested/ordered", "code"),
			tok("category", "ServiceRequest.category", "Classification of service", "category"),
			date("authored", "ServiceRequest.authoredOn", "Date request signed", "authoredOn"),
			ref("requester", "ServiceRequest.requester", "Who/what is requesting service", served("Practitioner", "Organization", "Device", "Patient", "PractitionerRole", "RelatedPerson"), "requester"),
			ref("performer", "ServiceRequest.performer", "Requested performer", served("Practitioner", "Organization", "CareTeam", "Device", "Patient", "HealthcareService", "PractitionerRole", "RelatedPerson"), "performer"),
		},
		"Encounter": {
			patientRef("Encounter", "subject"),
			ref("subject", "Encounter.subject", "The patient or group present at the encounter", served("Group", "Patient"), "subject"),
			date("date", "Encounter.period", "A date within the period the Encounter lasted", "period"),
			tok("status", "Encounter.status", "planned | arrived | triaged | in-progress | onleave | finished | cancelled +", "status"),
			tok("type", "Encounter.type", "Specific type of encounter", "type"),
			tok("class", "Encounter.class", "Classification of patient encounter", "class"),
			ref("service-provider", "Encounter.serviceProvider", "The organization (facility) responsible for this encounter", served("Organization"), "serviceProvider"),
			ref("participant", "Encounter.participant.individual", "Persons involved in the encounter other than the patient", served("Practitioner", "PractitionerRole", "RelatedPerson"), "participant.individual"),
			ref("episode-of-care", "Encounter.episodeOfCare", "Episode(s) of care that this encounter should be recorded against", served("EpisodeOfCare"), "episodeOfCare"),
		},
		"Observation": {
			patientRef("Observation", "subject"),
			ref("subject", "Observation.subject", "The subject that the observation is about", served("Group", "Device", "Patient", "Location"), "subject"),
			tok("code", "Observation.code", "The code of the observation type", "code"),
			tok("category", "Observation.category", "The classification of the type of observation", "category"),
			date("date", "Observation.effective", "Obtained date/time. If the obtained element is a period, a date that falls in the period", "effective[x]"),
			tok("status", "Observation.status", "The status of the observation", "status"),
			quantity("value-quantity", "(Observation.value as Quantity) | (Observation.value as SampledData)", "The value of the observation, if the value is a Quantity, or a SampledData (just search on the bounds of the values in sampled data)", "value[Quantity]"),
			ref("encounter", "Observation.encounter", "Encounter related to the observation", served("Encounter"), "encounter"),
			ref("performer", "Observation.performer", "Who performed the observation", served("Practitioner", "Organization", "CareTeam", "Patient", "PractitionerRole", "RelatedPerson"), "performer"),
		},
		"MedicationAdministration": {
			patientRef("MedicationAdministration", "subject"),
			ref("subject", "MedicationAdministration.subject", "The identity of the individual or group to list administrations for", served("Group", "Patient"), "subject"),
			date("effective-time", "MedicationAdministration.effective", "Date administration happened (or did not happen)", "effective[x]"),
			tok("status", "MedicationAdministration.status", "MedicationAdministration event status (for example one of active/paused/completed/nullified)", "status"),
			tok("code", "(MedicationAdministration.medication as CodeableConcept)", "Return administrations of this medication code", "medication[CodeableConcept]"),
			ref("medication", "(MedicationAdministration.medication as Reference)", "Return administrations of this medication resource", served("Medication"), "medication[Reference]"),
			ref("performer", "MedicationAdministration.performer.actor", "The identity of the individual who administered the medication", served("Practitioner", "Device", "Patient", "PractitionerRole", "RelatedPerson"), "performer.actor"),
		},
		"Medication": {
			tok("code", "Medication.code", "Returns medications for a specific code", "code"),
		},
		"Flag": {
			patientRef("Flag", "subject"),
			ref("subject", "Flag.subject", "The identity of a subject to list flags for", served("Practitioner", "Organization", "Medication", "Patient", "PlanDefinition", "Location", "Procedure", "Group"), "subject"),
			date("date", "Flag.period", "Time period when flag is active", "period"),
			tok("category", "Flag.category", "Clinical, administrative, etc."+gatewayDefined, "category"),
			tok("status", "Flag.status", "active | inactive | entered-in-error"+gatewayDefined, "status"),
			ref("author", "Flag.author", "Flag creator", served("Practitioner", "Organization", "Device", "Patient", "PractitionerRole"), "author"),
		},
		"AdverseEvent": {
			withPatientOnly(ref("patient", "AdverseEvent.subject.where(resolve() is Patient)", "Subject impacted by event, when it is a Patient"+gatewayDefined, served("Patient"), "subject")),
			ref("subject", "AdverseEvent.subject", "Subject impacted by event", served("Practitioner", "RelatedPerson", "Patient", "Group"), "subject"),
			date("date", "AdverseEvent.date", "When the event occurred", "date"),
			tok("category", "AdverseEvent.category", "product-problem | product-quality | product-use-error | wrong-dose | incorrect-prescribing-information | wrong-technique | wrong-route-of-administration | wrong-rate | wrong-duration | wrong-time | expired-drug | medical-device-use-error | problem-different-manufacturer | unsafe-physical-environment", "category"),
			tok("event", "AdverseEvent.event", "Type of the event itself in relation to the subject", "event"),
			tok("actuality", "AdverseEvent.actuality", "actual | potential", "actuality"),
			ref("recorder", "AdverseEvent.recorder", "Who recorded the adverse event", served("Practitioner", "Patient", "PractitionerRole", "RelatedPerson"), "recorder"),
		},
		"Consent": {
			ref("patient", "Consent.patient", "Who the consent applies to", served("Patient"), "patient"),
			tok("status", "Consent.status", "draft | proposed | active | rejected | inactive | entered-in-error", "status"),
			tok("category", "Consent.category", "Classification of the consent statement - for indexing/retrieval", "category"),
			tok("scope", "Consent.scope", "Which of the four areas this resource covers (extensible)", "scope"),
			date("date", "Consent.dateTime", "When this Consent was created or indexed", "dateTime"),
			ref("actor", "Consent.provision.actor.reference", "Resource for the actor (or group, by role)", served("Practitioner", "Group", "Organization", "CareTeam", "Patient", "Device", "PractitionerRole", "RelatedPerson"), "provision.actor.reference"),
		},
		"Provenance": {
			ref("target", "Provenance.target", "Target Reference(s) (usually version specific)", allTypes(), "target"),
			withPatientOnly(ref("patient", "Provenance.target.where(resolve() is Patient)", "Target Reference(s) (usually version specific)", served("Patient"), "target")),
			date("recorded", "Provenance.recorded", "When the activity was recorded / updated", "recorded"),
			ref("agent", "Provenance.agent.who", "Who participated", served("Practitioner", "Organization", "Device", "Patient", "PractitionerRole", "RelatedPerson"), "agent.who"),
		},
		"DocumentReference": {
			patientRef("DocumentReference", "subject"),
			ref("subject", "DocumentReference.subject", "Who/what is the subject of the document", served("Practitioner", "Group", "Device", "Patient"), "subject"),
			tok("status", "DocumentReference.status", "current | superseded | entered-in-error", "status"),
			tok("type", "DocumentReference.type", "Kind of document (LOINC if possible)", "type"),
			tok("category", "DocumentReference.category", "Categorization of document", "category"),
			date("date", "DocumentReference.date", "When this document reference was created", "date"),
		},
		"Composition": {
			patientRef("Composition", "subject"),
			ref("subject", "Composition.subject", "Who and/or what the composition is about", allTypes(), "subject"),
			tok("status", "Composition.status", "preliminary | final | amended | entered-in-error", "status"),
			tok("type", "Composition.type", "Kind of composition (LOINC if possible)", "type"),
			date("date", "Composition.date", "Composition editing time", "date"),
		},
		"Basic": {
			patientRef("Basic", "subject"),
			ref("subject", "Basic.subject", "Identifies the focus of this resource", allTypes(), "subject"),
			tok("code", "Basic.code", "Kind of Resource", "code"),
			date("created", "Basic.created", "When created", "created"),
			ref("author", "Basic.author", "Who created", served("Practitioner", "Organization", "Patient", "PractitionerRole", "RelatedPerson"), "author"),
		},
		"Task": {
			patientRef("Task", "for"),
			ref("subject", "Task.for", "Search by subject", allTypes(), "for"),
			ref("focus", "Task.focus", "Search by task focus", allTypes(), "focus"),
			tok("status", "Task.status", "Search by task status", "status"),
			tok("business-status", "Task.businessStatus", "Search by business status", "businessStatus"),
			tok("code", "Task.code", "Search by task code", "code"),
			date("authored-on", "Task.authoredOn", "Search by creation date", "authoredOn"),
			date("modified", "Task.lastModified", "Search by last modification date", "lastModified"),
			ref("requester", "Task.requester", "Search by task requester", served("Device", "Organization", "Patient", "Practitioner", "PractitionerRole", "RelatedPerson"), "requester"),
			date("deadline", "Task.restriction.period.end", "When the request must be answered by (the end of Task.restriction.period)"+gatewayDefined, "restriction.period.end"),
		},
		// Group: the R4 parameters but characteristic-value (composite).
		// A Group is in no patient's compartment here (see index.go).
		"Group": {
			tok("actual", "Group.actual", "Descriptive or actual", "actual"),
			tok("characteristic", "Group.characteristic.code", "Kind of characteristic", "characteristic.code"),
			tok("code", "Group.code", "The kind of resources contained", "code"),
			tok("exclude", "Group.characteristic.exclude", "Group includes or excludes", "characteristic.exclude"),
			ref("managing-entity", "Group.managingEntity", "Entity that is the custodian of the Group's definition", served("Practitioner", "Organization", "RelatedPerson", "PractitionerRole"), "managingEntity"),
			ref("member", "Group.member.entity", "Reference to the group member", served("Practitioner", "Device", "Medication", "Patient", "Substance", "Group", "PractitionerRole"), "member.entity"),
			withSystem(tok("type", "Group.type", "The type of resources the group contains", "type"), "http://hl7.org/fhir/group-type"),
			tok("value", "(Group.characteristic.value as CodeableConcept) | (Group.characteristic.value as boolean)", "Value held by characteristic", "characteristic.value[CodeableConcept]", "characteristic.value[boolean]"),
		},
		"AuditEvent": {
			date("date", "AuditEvent.recorded", "Time when the event was recorded", "recorded"),
			withPatientOnly(ref("patient", "AuditEvent.agent.who.where(resolve() is Patient) | AuditEvent.entity.what.where(resolve() is Patient)", "Identifier of who", served("Patient"), "agent.who", "entity.what")),
			ref("agent", "AuditEvent.agent.who", "Identifier of who", served("Practitioner", "Organization", "Device", "Patient", "PractitionerRole", "RelatedPerson"), "agent.who"),
			ref("entity", "AuditEvent.entity.what", "Specific instance of resource", allTypes(), "entity.what"),
			tok("type", "AuditEvent.type", "Type/identifier of event", "type"),
			tok("subtype", "AuditEvent.subtype", "More specific type/id for the event", "subtype"),
			tok("outcome", "AuditEvent.outcome", "Whether the event succeeded or failed", "outcome"),
			tok("action", "AuditEvent.action", "Type of action performed during the event", "action"),
		},
	}

	// identifierPaths lists the types with Resource.identifier (R4); the
	// others (AuditEvent, Provenance) have none.
	identifierPaths := map[string][]string{
		"AdverseEvent": {"identifier"}, "Basic": {"identifier"}, "CarePlan": {"identifier"},
		"CareTeam": {"identifier"}, "Composition": {"identifier"}, "Consent": {"identifier"},
		"DocumentReference": {"masterIdentifier", "identifier"}, "Encounter": {"identifier"},
		"EpisodeOfCare": {"identifier"}, "Flag": {"identifier"}, "Goal": {"identifier"}, "Group": {"identifier"},
		"Medication": {"identifier"}, "MedicationAdministration": {"identifier"},
		"Observation": {"identifier"}, "Organization": {"identifier"}, "Patient": {"identifier"},
		"Practitioner": {"identifier"}, "PractitionerRole": {"identifier"},
		"RelatedPerson": {"identifier"}, "ServiceRequest": {"identifier"}, "Task": {"identifier"},
	}
	for rt, defs := range m {
		common := []def{
			{Param: Param{Name: "_id", Type: TypeToken, Expression: "Resource.id", Sortable: true, Documentation: "Logical id of this artifact"}},
			{Param: Param{Name: "_lastUpdated", Type: TypeDate, Expression: "Resource.meta.lastUpdated", Sortable: true, Documentation: "When the resource version last changed"}},
			tok("_security", "Resource.meta.security", "Security Labels applied to this resource", "meta.security"),
			tok("_tag", "Resource.meta.tag", "Tags applied to this resource", "meta.tag"),
			{Param: Param{Name: "_profile", Type: TypeURI, Expression: "Resource.meta.profile", Documentation: "Profiles this resource claims to conform to"}, paths: []string{"meta.profile"}},
		}
		if paths, ok := identifierPaths[rt]; ok {
			expr := make([]string, len(paths))
			for i, p := range paths {
				expr[i] = rt + "." + p
			}
			common = append(common, tok("identifier", strings.Join(expr, " | "), "Business identifier", paths...))
		}
		defs = append(defs, common...)
		slices.SortFunc(defs, func(a, b def) int { return strings.Compare(a.Name, b.Name) })
		m[rt] = defs
	}
	return m
}

func tok(name, expr, doc string, paths ...string) def {
	return def{Param: Param{Name: name, Type: TypeToken, Expression: expr, Documentation: doc}, paths: paths}
}

func str(name, expr, doc string, paths ...string) def {
	return def{Param: Param{Name: name, Type: TypeString, Expression: expr, Documentation: doc}, paths: paths}
}

func date(name, expr, doc string, paths ...string) def {
	return def{Param: Param{Name: name, Type: TypeDate, Expression: expr, Sortable: true, Documentation: doc}, paths: paths}
}

func quantity(name, expr, doc string, paths ...string) def {
	return def{Param: Param{Name: name, Type: TypeQuantity, Expression: expr, Documentation: doc}, paths: paths}
}

func ref(name, expr, doc string, targets []string, paths ...string) def {
	return def{Param: Param{Name: name, Type: TypeReference, Expression: expr, Targets: targets, Documentation: doc}, paths: paths}
}

// patientRef is the R4 "patient" parameter of a resource whose subject may be
// a Patient: rt.<path>.where(resolve() is Patient).
func patientRef(rt, path string) def {
	return withPatientOnly(ref("patient", rt+"."+path+".where(resolve() is Patient)", "The patient this "+rt+" is about", served("Patient"), path))
}

func withPatientOnly(d def) def {
	d.patientOnly = true
	return d
}

func withSystem(d def, system string) def {
	d.system = system
	return d
}

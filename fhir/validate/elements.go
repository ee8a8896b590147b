package validate

// Hand-written tables from the FHIR R4 specification that the samply model
// cannot tell: primitive types of elements, required choices and required
// code sets. TestTablesNameRealElements guards them against typos.

// choiceTypes are the R4 data types a choice element's variant name can end
// with, mapped to the primitive type for primitive ones.
var choiceTypes = map[string]primitive{
	"Base64Binary": pBase64Binary, "Boolean": pBoolean, "Canonical": pCanonical,
	"Code": pCode, "Date": pDate, "DateTime": pDateTime, "Decimal": pDecimal,
	"Id": pID, "Instant": pInstant, "Integer": pInteger, "Markdown": pMarkdown,
	"Oid": pOID, "PositiveInt": pPositiveInt, "String": pString, "Time": pTime,
	"UnsignedInt": pUnsignedInt, "Uri": pURI, "Url": pURL, "Uuid": pUUID,
	// Complex types: the value says nothing about primitives.
	"Address": pString, "Age": pString, "Annotation": pString, "Attachment": pString,
	"CodeableConcept": pString, "Coding": pString, "ContactPoint": pString,
	"Count": pString, "Distance": pString, "Duration": pString, "HumanName": pString,
	"Identifier": pString, "Money": pString, "Period": pString, "Quantity": pString,
	"Range": pString, "Ratio": pString, "Reference": pString, "SampledData": pString,
	"Signature": pString, "Timing": pString, "ContactDetail": pString,
	"Contributor": pString, "DataRequirement": pString, "Expression": pString,
	"ParameterDefinition": pString, "RelatedArtifact": pString,
	"TriggerDefinition": pString, "UsageContext": pString, "Dosage": pString,
	"Meta": pString,
}

// requiredChoices are the choice elements with minimum cardinality 1 in R4,
// among the 24 served resource types and the data types they use, keyed by
// samply struct name and choice base.
var requiredChoices = map[string]bool{
	"MedicationAdministration.medication": true, // medication[x] 1..1
	"MedicationAdministration.effective":  true, // effective[x] 1..1
	"MedicationIngredient.item":           true, // Medication.ingredient.item[x] 1..1
	"CompositionRelatesTo.target":         true, // Composition.relatesTo.target[x] 1..1
	"AuditEventEntityDetail.value":        true, // AuditEvent.entity.detail.value[x] 1..1
	"UsageContext.value":                  true, // UsageContext.value[x] 1..1
	"TaskInput.value":                     true, // Task.input.value[x] 1..1
	"TaskOutput.value":                    true, // Task.output.value[x] 1..1
	"GroupCharacteristic.value":           true, // Group.characteristic.value[x] 1..1
	"QuestionnaireItemAnswerOption.value": true, // Questionnaire.item.answerOption.value[x] 1..1 (contained only)
	"QuestionnaireItemEnableWhen.answer":  true, // Questionnaire.item.enableWhen.answer[x] 1..1 (contained only)
	"QuestionnaireItemInitial.value":      true, // Questionnaire.item.initial.value[x] 1..1 (contained only)
}

// codeSets are the codes of required value sets that the samply model keeps
// as plain strings, keyed by samply struct name and JSON name (R4 value sets
// medication-status, medication-admin-status, units-of-time and the v3
// Confidentiality codes allowed in Composition.confidentiality).
var codeSets = map[string][]string{
	"Medication.status":               {"active", "inactive", "entered-in-error"},
	"MedicationAdministration.status": {"in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"},
	"TimingRepeat.durationUnit":       {"s", "min", "h", "d", "wk", "mo", "a"},
	"TimingRepeat.periodUnit":         {"s", "min", "h", "d", "wk", "mo", "a"},
	"Composition.confidentiality":     {"U", "L", "M", "N", "R", "V"},
}

// elementTypes gives the R4 primitive type of elements that are not plain
// strings (or, for ints, not integer), keyed by samply struct name and JSON
// name. Choice variants take their type from their name; a resource's own id
// is an id (Element.id elsewhere is a string). Types are from the R4
// StructureDefinitions of the data types and the 24 served resources.
var elementTypes = map[string]primitive{
	"Extension.url": pURI,

	"Period.start": pDateTime, "Period.end": pDateTime,
	"Coding.system": pURI, "Coding.code": pCode,
	"Identifier.system":   pURI,
	"Reference.reference": pReference, "Reference.type": pURI,
	"Annotation.time": pDateTime, "Annotation.text": pMarkdown,
	"Attachment.contentType": pCode, "Attachment.language": pCode,
	"Attachment.data": pBase64Binary, "Attachment.url": pURL,
	"Attachment.size": pUnsignedInt, "Attachment.hash": pBase64Binary,
	"Attachment.creation":    pDateTime,
	"ContactPoint.rank":      pPositiveInt,
	"Money.currency":         pCode,
	"SampledData.dimensions": pPositiveInt,
	"Signature.when":         pInstant, "Signature.targetFormat": pCode,
	"Signature.sigFormat": pCode, "Signature.data": pBase64Binary,
	"Timing.event":       pDateTime,
	"TimingRepeat.count": pPositiveInt, "TimingRepeat.countMax": pPositiveInt,
	"TimingRepeat.frequency": pPositiveInt, "TimingRepeat.frequencyMax": pPositiveInt,
	"TimingRepeat.durationUnit": pCode, "TimingRepeat.periodUnit": pCode,
	"TimingRepeat.timeOfDay": pTime, "TimingRepeat.when": pCode,
	"TimingRepeat.offset":  pUnsignedInt,
	"DataRequirement.type": pCode, "DataRequirement.profile": pCanonical,
	"DataRequirement.limit":              pPositiveInt,
	"DataRequirementCodeFilter.valueSet": pCanonical,
	"Expression.name":                    pID, "Expression.reference": pURI,
	"ParameterDefinition.name": pCode, "ParameterDefinition.type": pCode,
	"ParameterDefinition.profile": pCanonical,
	"RelatedArtifact.citation":    pMarkdown, "RelatedArtifact.url": pURL,
	"RelatedArtifact.resource": pCanonical,
	"Meta.versionId":           pID, "Meta.lastUpdated": pInstant,
	"Meta.source": pURI, "Meta.profile": pCanonical,
	"Narrative.div":   pXHTML,
	"Dosage.sequence": pInteger,
	"Quantity.system": pURI, "Quantity.code": pCode,
	"Age.system": pURI, "Age.code": pCode,
	"Count.system": pURI, "Count.code": pCode,
	"Distance.system": pURI, "Distance.code": pCode,
	"Duration.system": pURI, "Duration.code": pCode,

	"AdverseEvent.date": pDateTime, "AdverseEvent.detected": pDateTime,
	"AdverseEvent.recordedDate":      pDateTime,
	"AuditEvent.recorded":            pInstant,
	"AuditEventAgent.policy":         pURI,
	"AuditEventEntity.query":         pBase64Binary,
	"Basic.created":                  pDate,
	"CarePlan.instantiatesCanonical": pCanonical, "CarePlan.instantiatesUri": pURI,
	"CarePlan.created": pDateTime,
	"CarePlanActivityDetail.instantiatesCanonical": pCanonical,
	"CarePlanActivityDetail.instantiatesUri":       pURI,
	"Composition.date":                             pDateTime, "Composition.confidentiality": pCode,
	"CompositionAttester.time": pDateTime,
	"Consent.dateTime":         pDateTime,
	"ConsentPolicy.authority":  pURI, "ConsentPolicy.uri": pURI,
	"ConsentVerification.verificationDate":             pDateTime,
	"DocumentReference.date":                           pInstant,
	"EncounterDiagnosis.rank":                          pPositiveInt,
	"EpisodeOfCareDiagnosis.rank":                      pPositiveInt,
	"Goal.statusDate":                                  pDate,
	"Group.quantity":                                   pUnsignedInt,
	"Medication.status":                                pCode,
	"MedicationBatch.expirationDate":                   pDateTime,
	"MedicationAdministration.instantiates":            pURI,
	"MedicationAdministration.status":                  pCode,
	"Observation.issued":                               pInstant,
	"Patient.birthDate":                                pDate,
	"Practitioner.birthDate":                           pDate,
	"PractitionerRoleAvailableTime.availableStartTime": pTime,
	"PractitionerRoleAvailableTime.availableEndTime":   pTime,
	"Provenance.recorded":                              pInstant, "Provenance.policy": pURI,
	"RelatedPerson.birthDate":              pDate,
	"ServiceRequest.instantiatesCanonical": pCanonical,
	"ServiceRequest.instantiatesUri":       pURI,
	"ServiceRequest.authoredOn":            pDateTime,
	// Contained only (containedModels).
	"MeasureReport.measure": pCanonical, "MeasureReport.date": pDateTime,
	"Questionnaire.url": pURI, "Questionnaire.date": pDateTime,
	"QuestionnaireResponse.questionnaire": pCanonical,
	"QuestionnaireResponse.authored":      pDateTime,
}

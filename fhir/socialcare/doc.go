// Package socialcare takes adult social care records in and turns them into
// UK Core FHIR R4 resources.
//
// A council or home-care system sends one person's record in the documented
// JSON format ([Record], JSON Schema from [Schema], described in
// docs/social-care-record.md), many as NDJSON ([ReadNDJSON]), or the
// council's Client Level Data CSV ([ReadCLD]). Data moves through the package
// in two steps:
//
//  1. [Decode] parses a record strictly and validates all of it at once. A
//     record with any problem is rejected whole: a *fhir.Error with status
//     422 whose issues name every problem by its JSON path in the input
//     (malformed JSON is a 400). Messages never repeat personal data.
//  2. [Translate] turns a valid record into FHIR resources: Patient,
//     RelatedPerson, Organization, Practitioner(Role), EpisodeOfCare,
//     CarePlan and Goal, ServiceRequest, Encounter, Observation,
//     MedicationAdministration, AdverseEvent, Flag, Consent, Basic, and one
//     Provenance per entry. Ids are derived from the sending organisation
//     and the source's own ids, and output depends only on the record, so a
//     re-sent record updates resources in place and an unchanged entry
//     yields identical content. Facts and opinions are told apart by an
//     Observation category; sensitive resources carry meta.security labels.
//     Every resource carries the meta.tag the access policy decides on: the
//     ODS code of the organisation that wrote it (source-organisation) and,
//     where its type does not say it, its record-category.
//
// The package does no I/O beyond reading the readers it is given, keeps no
// state between calls and never logs. The mapping, code systems and labels
// are documented in docs/social-care-mapping.md. Sub-package synth makes
// synthetic records for fixtures and load tests.
package socialcare

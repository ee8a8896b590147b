// Package validate is the strict FHIR R4 validation the gateway runs on every
// write and on every resource a translator builds, before anything is stored.
//
// Data moves through it like this: [Resource] decodes a request body (numbers
// kept as json.Number), rejects bodies that are not a single JSON object with
// a 400, then walks the decoded object against the Go model of its
// resourceType from github.com/samply/golang-fhir-models. [Object] does the
// same for a map built in Go, after normalising it through JSON. The walk
// collects every problem it finds, each as one [fhir.Issue] whose Expression
// is a FHIRPath-like location such as "Patient.identifier[0].value", and
// returns them together as one 422 [*fhir.Error]. A valid resource comes back
// as a [fhir.Resource] holding the decoded object. [Bundle] checks a Bundle
// the gateway builds (a $summary document): its envelope against the R4
// Bundle model and each entry's resource with the same rules.
//
// What is checked:
//   - only the resource types in [fhir.ResourceTypes] are accepted;
//     contained in one of them, also Questionnaire and
//     QuestionnaireResponse (the case-file audit's checklist and review,
//     fhir/casefile) and MeasureReport (a data-quality snapshot's counts),
//     whose R4 invariants are not checked;
//   - every element must exist in the R4 model (unknown elements, including
//     misspelt choice variants, are reported); primitive extensions
//     ("_birthDate") are checked as Elements (id and extension);
//     contained resources are validated by their own resourceType;
//   - JSON types: objects, arrays for repeating elements only, strings,
//     numbers and booleans where the model has them; null, "", {} and []
//     are rejected;
//   - required elements (min 1) and choice elements: at most one variant
//     of value[x], and at least one where R4 makes the choice required;
//   - coded values bound to a required value set (the model's enum types);
//   - primitive formats: id, code, uri, url, canonical, oid, uuid, date,
//     dateTime (timezone required when a time is given), instant, time,
//     base64Binary, integer, positiveInt, unsignedInt, decimal, boolean and
//     the xhtml div of a Narrative;
//   - Reference.reference must be a relative "Type/id[/_history/vid]", an
//     absolute http(s) URL, a urn:uuid: or urn:oid:, or a "#local" id;
//   - Identifiers with the NHS number system must hold a 10 digit number
//     passing the Modulus 11 check (the number itself is never echoed);
//   - keys that start with "$" or contain "." and NUL characters anywhere
//     are rejected, since stored documents go to MongoDB;
//   - nesting deeper than 64 levels is rejected;
//   - the R4 (4.0.1) invariants with severity error, each a Go function in
//     invariants.go and invariants_types.go holding the specification's key,
//     human text and FHIRPath expression. A broken one is an issue with
//     code "invariant", diagnostics "key: human text" and the Expression of
//     the element the constraint is defined on ("Observation" for obs-6,
//     "Patient.contact[0]" for pat-1).
//
// Invariants checked: of the resources, AuditEvent sev-1, CarePlan cpl-3,
// Composition cmp-1 and cmp-2, Consent ppc-1 to ppc-5, Goal gol-1,
// MedicationAdministration mad-1, Observation obs-3, obs-6 and obs-7,
// Organization org-1 to org-3, Patient pat-1 and ServiceRequest prr-1 (the
// other served types have no error invariants in R4); of DomainResource,
// dom-2 to dom-5 on contained resources; of the data types, Element ele-1
// (an element holding only an id; empty values are JSON problems above),
// Extension ext-1, Narrative txt-1 and txt-2, Period per-1, Quantity qty-3
// (also on Age, Count, Distance and Duration), SimpleQuantity sqty-1 on the
// elements R4 types as SimpleQuantity, Duration drt-1, Range rng-2, Ratio
// rat-1, Reference ref-1, Attachment att-1, ContactPoint cpt-2 and
// Timing.repeat tim-1, tim-2 and tim-4 to tim-10 (R4 has no tim-3).
//
// How some are read: per-1 compares dateTimes at the precision both have,
// times in UTC, and passes when FHIRPath's answer is empty (equal at the
// shared precision but one more precise); rng-2 compares only when low
// and high are in the same unit (no UCUM conversion); ppc-2 to ppc-5 test a
// placeholder code system, literally 'something', in R4 and are checked as
// written, so they fire only for that system; txt-1 (htmlChecks()) checks
// that the div is well-formed XHTML of the HTML 4.0 formatting elements,
// links and images, without event attributes (onclick...); it does not
// check every other attribute name; txt-2 wants some non-whitespace text
// or an image.
//
// Not checked: dom-6 (a narrative) is best practice, a warning, not a
// rejection, and a successful write has no OperationOutcome to carry it;
// CareTeam ctm-1 needs member.resolve(), the type of a resource elsewhere,
// which one resource cannot show; Age age-1, Count cnt-3 and Distance dis-1
// are not implemented (those types occur only in extension values here);
// terminology (value sets beyond required bindings) is not checked.
//
// Diagnostics never repeat the values a client sent, since those can be
// personal data and errors may be logged.
//
// The reflection metadata for each Go model type is computed once and cached,
// so validation costs one walk of the decoded JSON.
package validate

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
//   - nesting deeper than 64 levels is rejected.
//
// Diagnostics never repeat the values a client sent, since those can be
// personal data and errors may be logged.
//
// The reflection metadata for each Go model type is computed once and cached,
// so validation costs one walk of the decoded JSON.
package validate

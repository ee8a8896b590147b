// Package fhir is the FHIR R4 domain of the gateway: the resource types it
// serves, validation of incoming resources against the R4 model
// (github.com/samply/golang-fhir-models), OperationOutcome errors, and Bundles.
//
// Data moves through it like this: the HTTP edge hands raw JSON to
// validate.Resource (sub-package validate), which checks it strictly against
// the R4 model and returns a [Resource] or an [*Error] naming every problem; the store persists the resource's JSON form;
// responses are assembled as [Bundle] values or single resources. Every
// failure that reaches a client is an [*Error], rendered as an
// OperationOutcome by the gateway's single error renderer.
//
// Sub-packages: validate (strict R4 validation), search (search parameters,
// their parsing into conditions on stored fields), store (the MongoDB persistence of
// versions and history), socialcare (translation of social care records) and
// summary (a person's social care summary document, for $summary).
package fhir

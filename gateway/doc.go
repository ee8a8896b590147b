// Package gateway is the HTTP edge of the FHIR gateway: routes, middleware
// and handlers, built on Gin.
//
// A request passes the middleware (request id, structured log line, body
// limit, timeout, content negotiation, authentication), then a handler
// that parses and validates its input, calls the store, and renders a
// resource or Bundle. Every API request goes through one audited edge
// (auditResponses): it parses the request's route once into a typed value
// (route.go: type, id, version, operation, interaction), which the
// dispatcher, the handlers, the request log and the audit record all read;
// it buffers the answer, recovers a panic into a 500, renders every error
// a handler returns as a FHIR OperationOutcome with the right status, and
// writes the audit record before anything is sent. Handlers return an
// error ([handler]); they never write errors themselves. MongoDB and Rego
// details stay behind the small interfaces declared here.
//
// Authentication (auth.go) verifies the bearer token and, for a token with
// SMART scopes, lets through only reads and searches of the types they name
// and Bulk Data exports (of those types only), before the policy decides. With Config.SMART set the gateway also serves
// /.well-known/smart-configuration and the SMART Backend Services token
// endpoint (smart.go), whose errors are OAuth JSON, not OperationOutcomes.
//
// Bulk Data exports ($export, export.go and export_run.go) are the one
// thing that outlives a request: the kick-off records a job (ExportJobs)
// and a background run writes the NDJSON files page by page with the
// owner's access, saving its position after each page; Server.Close stops
// the runs and Server.ResumeExports restarts them after a restart. Its
// status and files are served only to the client that started it, and to
// a token with SMART scopes only while they still cover every type the job
// exports (scopesCoverJob).
//
// A person's rights requests, rectification and subject access, are FHIR
// Tasks with their own operations (rectification.go, subjectaccess.go;
// docs/rights-requests.md).
//
// Case-file audit sampling (casefile.go, casefile_review.go,
// casefile_report.go; the algorithm and the checklist in fhir/casefile) is
// Tasks too: a sample's Task lists one Task per case file drawn, and a
// reviewer's QuestionnaireResponse is kept in its case file's Task.
package gateway

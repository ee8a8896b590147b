// Package gateway is the HTTP edge of the FHIR gateway: routes, middleware
// and handlers, built on Gin.
//
// A request passes the middleware (request id, structured log line, panic
// recovery, body limit, timeout, content negotiation), then a handler that
// parses and validates its input, calls the store, and renders a resource
// or Bundle. Handlers never write errors themselves: they return them with
// c.Error, and [renderErrors] turns every error into a FHIR
// OperationOutcome with the right status, in one place. MongoDB and Rego
// details stay behind the small interfaces declared here.
//
// Authentication (auth.go) verifies the bearer token and, for a token with
// SMART scopes, lets through only reads and searches of the types they name,
// before the policy decides. With Config.SMART set the gateway also serves
// /.well-known/smart-configuration and the SMART Backend Services token
// endpoint (smart.go), whose errors are OAuth JSON, not OperationOutcomes.
//
// Bulk Data exports ($export, export.go and export_run.go) are the one
// thing that outlives a request: the kick-off records a job (ExportJobs)
// and a background run writes the NDJSON files page by page with the
// owner's access, saving its position after each page; Server.Close stops
// the runs and Server.ResumeExports restarts them after a restart.
package gateway

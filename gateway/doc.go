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
// A person's rights requests, rectification and subject access, are FHIR
// Tasks with their own operations (rectification.go, subjectaccess.go;
// docs/rights-requests.md).
package gateway

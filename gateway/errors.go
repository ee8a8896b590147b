package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
)

// retryAfterSeconds is what a client is told to wait while the database is
// unreachable.
const retryAfterSeconds = "5"

// toFHIRError maps any error to the *fhir.Error the client sees. Internal
// details are never exposed: unknown errors become a generic 500. The store
// errors wrapping a sentinel read "<what happened>: <Type/id and detail>",
// all of which the client named itself, so their text is shown.
// StatusClientClosedRequest is the status recorded for a request whose
// client went away before it was answered (nginx's 499; never seen by the
// client).
const StatusClientClosedRequest = 499

func toFHIRError(err error, requestID string) *fhir.Error {
	var fe *fhir.Error
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, fhir.ErrNotFound):
		return &fhir.Error{Status: http.StatusNotFound, Err: err, Issues: []fhir.Issue{{Severity: "error", Code: "not-found", Diagnostics: err.Error()}}}
	case errors.Is(err, fhir.ErrGone):
		return &fhir.Error{Status: http.StatusGone, Err: err, Issues: []fhir.Issue{{Severity: "error", Code: "deleted", Diagnostics: err.Error()}}}
	case errors.Is(err, fhir.ErrVersionConflict):
		return &fhir.Error{Status: http.StatusPreconditionFailed, Err: err, Issues: []fhir.Issue{{Severity: "error", Code: "conflict", Diagnostics: err.Error() + "; read the resource again and retry with its current ETag in If-Match"}}}
	case errors.Is(err, context.Canceled):
		// The client went away before the answer: recorded as such
		// (nginx's 499), not as a failure of the gateway.
		return &fhir.Error{Status: StatusClientClosedRequest, Err: err, Issues: []fhir.Issue{{Severity: "error", Code: "incomplete",
			Diagnostics: "the client closed the request before it was answered"}}}
	case errors.Is(err, fhir.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return &fhir.Error{Status: http.StatusServiceUnavailable, Err: err,
			Header: http.Header{"Retry-After": {retryAfterSeconds}},
			Issues: []fhir.Issue{{Severity: "error", Code: "transient", Diagnostics: "the record store is temporarily unavailable; retry after " + retryAfterSeconds + " seconds"}}}
	}
	return &fhir.Error{Status: http.StatusInternalServerError, Err: err, Issues: []fhir.Issue{{Severity: "fatal", Code: "exception",
		Diagnostics: "an internal error occurred; quote request id " + requestID + " to the gateway's operators"}}}
}

// renderErrors is the one place where errors become responses. It runs
// as global middleware and again inside auditResponses, so that an error
// response is rendered before its audit record is written; an error is
// rendered once.
func renderErrors(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		renderError(c, logger)
	}
}

func renderError(c *gin.Context, logger *slog.Logger) {
	if len(c.Errors) == 0 {
		return
	}
	fe := toFHIRError(c.Errors.Last().Err, requestID(c))
	c.Errors = c.Errors[:0]
	if fe.Status >= 500 {
		logger.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.Int("status", fe.Status), slog.String("error", errorForLog(fe)))
	}
	if c.Writer.Written() {
		return
	}
	writeOutcome(c, fe)
}

func writeOutcome(c *gin.Context, fe *fhir.Error) {
	for k, vs := range fe.Header {
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	issues := fe.Issues
	if len(issues) == 0 {
		issues = []fhir.Issue{{Severity: "error", Code: "processing", Diagnostics: http.StatusText(fe.Status)}}
	}
	writeJSON(c, fe.Status, fhir.Outcome(issues...))
}

// errorForLog keeps the cause of a 5xx for operators. Store and driver
// errors carry no resource content.
func errorForLog(fe *fhir.Error) string {
	if fe.Err != nil {
		return fe.Err.Error()
	}
	return fe.Error()
}

func writeJSON(c *gin.Context, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // URLs in links keep their '&'
	if err := enc.Encode(v); err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	writeBody(c, status, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func writeBody(c *gin.Context, status int, body []byte) {
	c.Data(status, fhirJSON, body)
}

const fhirJSON = "application/fhir+json; charset=utf-8"

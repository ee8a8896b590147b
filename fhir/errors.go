package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Issue is one problem reported in an OperationOutcome.
type Issue struct {
	// Severity is fatal, error, warning or information.
	Severity string `json:"severity"`
	// Code is from http://hl7.org/fhir/issue-type (invalid, structure,
	// required, value, not-found, conflict, security, exception, ...).
	Code string `json:"code"`
	// Diagnostics is a message a person can act on.
	Diagnostics string `json:"diagnostics,omitempty"`
	// Expression points at the offending element or parameter, for
	// example "Patient.identifier[0].value" or "birthdate".
	Expression []string `json:"expression,omitempty"`
}

// Error is an error that reaches the client as an OperationOutcome with an
// HTTP status. Handlers return it (or wrap it); the gateway's error renderer
// finds it with errors.As.
type Error struct {
	Status int
	Issues []Issue
	// Header holds extra response headers, for example Retry-After.
	Header http.Header
	// Err is the underlying cause, kept for logs, never shown to clients.
	Err error
}

func (e *Error) Error() string {
	msgs := make([]string, 0, len(e.Issues))
	for _, is := range e.Issues {
		m := is.Diagnostics
		if len(is.Expression) > 0 {
			m = strings.Join(is.Expression, ",") + ": " + m
		}
		msgs = append(msgs, m)
	}
	s := fmt.Sprintf("%d %s", e.Status, strings.Join(msgs, "; "))
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with one issue of the given status and issue code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Issues: []Issue{{Severity: "error", Code: code, Diagnostics: fmt.Sprintf(format, args...)}}}
}

// At returns a copy of e whose issues all point at expr.
func (e *Error) At(expr ...string) *Error {
	c := *e
	c.Issues = make([]Issue, len(e.Issues))
	for i, is := range e.Issues {
		is.Expression = expr
		c.Issues[i] = is
	}
	return &c
}

// Sentinel store errors, checked with errors.Is.
var (
	ErrNotFound        = errors.New("resource not found")
	ErrGone            = errors.New("resource deleted")
	ErrVersionConflict = errors.New("version conflict")
	ErrUnavailable     = errors.New("database unavailable")
)

// OperationOutcome is the JSON form of a FHIR OperationOutcome.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// Outcome returns the OperationOutcome for issues.
func Outcome(issues ...Issue) OperationOutcome {
	return OperationOutcome{ResourceType: "OperationOutcome", Issue: issues}
}

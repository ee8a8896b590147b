// Package versions keeps the access policy's versions in the database and
// moves them through their states: draft → tested → approved → active →
// retired. A version is the Rego modules, the agreement (data.json) and the
// Rego tests, with who proposed it, when, why and what it came from; its id
// is its revision (policy.Files.Revision without "sha256:"), so the
// revision in every audit record names a stored version.
//
// [Workflow] enforces the rules: only a tested version can be approved,
// only by someone other than its author whom the active version lets
// approve ($policy-approve), only an approved (or earlier active) version
// can be activated, and activation retires the version it replaces. Every
// step is an audit record (interaction operation, e.g. $policy-approve).
// [Loader] serves the active version to every gateway instance on the
// database: [Loader.Refresh] reads the active id and swaps the engine when
// it changed; [Loader.Poll] calls it every few seconds.
//
// Both storage engines keep versions behind [Store]: a table in policy.db
// in the data directory (SQLite) or the policy_versions collection
// (MongoDB).
package versions

import (
	"errors"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/policy"
)

// States of a version.
const (
	Draft    = "draft"
	Tested   = "tested"
	Approved = "approved"
	Active   = "active"
	Retired  = "retired"
)

// Errors of the workflow; the gateway maps them to OperationOutcomes.
var (
	ErrNotFound = errors.New("no such policy version")
	ErrExists   = errors.New("a policy version with this content exists")
	// ErrState: the step does not apply to a version in its state.
	ErrState = errors.New("policy version is in the wrong state for this step")
	// ErrSameAuthor: the author cannot approve their own version.
	ErrSameAuthor = errors.New("a policy version must be approved by someone other than its author")
	// ErrNotApprover: the active policy does not let this person approve.
	ErrNotApprover = errors.New("the active policy does not let this person approve policy versions (POLICY-11-approve)")
	// ErrTestFailed: the version failed its checks (the error says which).
	ErrTestFailed = errors.New("policy version failed its checks")
)

// Person is who took a step: from the token (API) or the -as flag (CLI).
type Person struct {
	Subject string `json:"subject"`
	Org     string `json:"org,omitempty"`
	Role    string `json:"role,omitempty"`
}

// Event is one step in a version's history.
type Event struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // propose, test, approve, activate, rollback, retire
	By     Person    `json:"by"`
	Note   string    `json:"note,omitempty"`
}

// Version is one stored policy version.
type Version struct {
	ID       string `json:"id"`
	Revision string `json:"revision"`
	// Modules and Tests are the Rego files by name (tests end _test.rego);
	// Data is data.json.
	Modules map[string]string `json:"modules"`
	Tests   map[string]string `json:"tests"`
	Data    string            `json:"data"`
	Author  Person            `json:"author"`
	Created time.Time         `json:"created"`
	Note    string            `json:"note,omitempty"`
	Parent  string            `json:"parent,omitempty"`
	State   string            `json:"state"`
	// Activated orders activations (Unix ms of the last one): of two
	// versions left active by a crash between the two writes of an
	// activation, the later serves.
	Activated int64 `json:"activated,omitempty"`
	// Shadowing is when the version began to be evaluated in shadow
	// beside the active one (Unix ms), 0 when it is not (shadow.go).
	Shadowing int64   `json:"shadowing,omitempty"`
	History   []Event `json:"history"`
	// Report is what the last test showed.
	Report *Report `json:"report,omitempty"`
}

// Report is the outcome of testing a version.
type Report struct {
	Passed bool `json:"passed"`
	// Error says why it failed (compile, format, Rego tests, load checks).
	Error       string                `json:"error,omitempty"`
	Coverage    float64               `json:"coverage"`
	MinCoverage float64               `json:"min_rule_coverage"`
	Uncovered   []policy.RuleCoverage `json:"rules_below_minimum,omitempty"`
	Rules       []policy.RuleCoverage `json:"rules,omitempty"`
}

// Files returns the version as policy files.
func (v *Version) Files() policy.Files {
	f := policy.Files{policy.DataFile: []byte(v.Data)}
	for n, s := range v.Modules {
		f[n] = []byte(s)
	}
	for n, s := range v.Tests {
		f[n] = []byte(s)
	}
	return f
}

// newVersion splits files into modules, tests and data.
func newVersion(files policy.Files) *Version {
	v := &Version{Modules: map[string]string{}, Tests: map[string]string{}}
	for n, b := range files {
		switch {
		case n == policy.DataFile:
			v.Data = string(b)
		case strings.HasSuffix(n, "_test.rego"):
			v.Tests[n] = string(b)
		default:
			v.Modules[n] = string(b)
		}
	}
	v.Revision = files.Revision()
	v.ID = strings.TrimPrefix(v.Revision, "sha256:")
	return v
}

// IDOf is the version id a revision names.
func IDOf(revision string) string { return strings.TrimPrefix(revision, "sha256:") }

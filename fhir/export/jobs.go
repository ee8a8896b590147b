// Package export keeps the jobs of Bulk Data exports ($export): what was
// asked, by whom, how far the export got and which NDJSON files it
// wrote. The gateway runs the exports (package gateway, export.go); this
// package only stores their jobs, in the engine's database: a SQLite
// table (Jobs over a sqlitedb.DB) or a MongoDB collection beside the
// resources. A job is one JSON document either way, so that the two
// engines keep exactly the same thing. It is saved after every page an
// export writes, so a restarted gateway resumes a job from its last page.
package export

import (
	"errors"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Job states.
const (
	Running = "running"
	Done    = "done"
	Failed  = "failed"
	// Expired: the files were removed after the expiry time; the job
	// stays to say so.
	Expired = "expired"
)

// Export levels.
const (
	LevelSystem  = "system"  // /$export
	LevelPatient = "patient" // /Patient/$export
	LevelGroup   = "group"   // /Group/{id}/$export
)

// ErrNotFound is returned when there is no job with the id.
var ErrNotFound = errors.New("export: no such job")

// Job is one export.
type Job struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Owner is who started the export: its status and files are theirs
	// only, and the export reads with their access.
	Owner Owner `json:"owner"`
	// Request is the kick-off URL.
	Request string `json:"request"`
	Level   string `json:"level"`
	// Types are the resource types exported, in order.
	Types []string `json:"types"`
	// Since is _since (an instant), or "".
	Since string `json:"since,omitempty"`
	// Patients ("Patient/<id>") limit a patient-level export (patient);
	// in a group-level export they are the cohort: the group's current
	// members (those of the patient parameter among them), none meaning
	// nobody.
	Patients []string `json:"patients,omitempty"`
	// Group is the Group a group-level export is of ("Group/<id>").
	Group string `json:"group,omitempty"`
	// Joined are the members of a group-level export with _since who
	// joined the group after it (member.period.start): their compartments
	// are exported whole, whenever last changed.
	Joined []string `json:"joined,omitempty"`
	// TypeFilters are the _typeFilter queries by type ("status=active").
	TypeFilters map[string][]string `json:"typeFilters,omitempty"`
	// Notes are informational issues written to the error file (e.g.
	// parameters ignored under Prefer: handling=lenient).
	Notes []fhir.Issue `json:"notes,omitempty"`
	// TransactionTime is the instant the export reads the records as of.
	TransactionTime time.Time `json:"transactionTime"`
	Created         time.Time `json:"created"`
	Updated         time.Time `json:"updated"`
	Finished        time.Time `json:"finished,omitzero"`
	// Expires is when the files are removed (set when done or failed).
	Expires time.Time `json:"expires,omitzero"`
	// Position is how far the export got: the index in Types of the type
	// being exported and the store cursor of its next page ("" for its
	// first).
	Position Position `json:"position"`
	// Output are the files written so far, in order; the last one may
	// still be growing.
	Output []File `json:"output,omitempty"`
	// Errors are the OperationOutcome files.
	Errors []File `json:"errors,omitempty"`
	// Problems say why a failed job stopped; safe to show.
	Problems []fhir.Issue `json:"problems,omitempty"`
}

// Owner is who started an export.
type Owner struct {
	Kind             string `json:"kind"`
	Subject          string `json:"subject"`
	Org              string `json:"org,omitempty"`
	Role             string `json:"role,omitempty"`
	Purpose          string `json:"purpose,omitempty"`
	BreakGlassReason string `json:"breakGlassReason,omitempty"`
	NHSNumber        string `json:"nhsNumber,omitempty"`
}

// Same reports whether o and p are the same client: the same kind of
// caller, organisation and subject.
func (o Owner) Same(p Owner) bool {
	return o.Kind == p.Kind && o.Org == p.Org && o.Subject == p.Subject
}

// Position is where an export resumes.
type Position struct {
	Type   int    `json:"type"`
	Cursor string `json:"cursor,omitempty"`
}

// File is one NDJSON file of an export, in the job's directory.
type File struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Count int    `json:"count"`
	// Bytes is the file's length when the job was last saved: on resume
	// the file is cut back to it, so no line is written twice.
	Bytes int64 `json:"bytes"`
}

// Progress is the number of resources exported so far.
func (j *Job) Progress() int {
	n := 0
	for _, f := range j.Output {
		n += f.Count
	}
	return n
}

// Counts are the resources exported by type.
func (j *Job) Counts() map[string]int {
	out := map[string]int{}
	for _, f := range j.Output {
		out[f.Type] += f.Count
	}
	return out
}

// File returns the output or error file called name, or nil.
func (j *Job) File(name string) *File {
	for _, fs := range [][]File{j.Output, j.Errors} {
		for i := range fs {
			if fs[i].Name == name {
				return &fs[i]
			}
		}
	}
	return nil
}

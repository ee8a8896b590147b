package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Kinds of the documents [Ingester.ExportState] gives and
// [Ingester.ImportState] takes.
const (
	KindJournal = "journal" // a pending journal: a record not yet wholly stored
	KindJob     = "job"     // an import job's record: state, counts, report
)

// journalJSON is an exported journal.
type journalJSON struct {
	ID        string         `json:"id"` // 24 hex digits, kept across engines
	Key       string         `json:"key"`
	State     string         `json:"state"`
	Created   time.Time      `json:"created"`
	Count     int            `json:"n"`
	Resources []journalEntry `json:"resources"`
}

// jobJSON is an exported job record.
type jobJSON struct {
	ID       string          `json:"id"`
	Format   string          `json:"format"`
	State    string          `json:"state"`
	Started  time.Time       `json:"started"`
	Updated  time.Time       `json:"updated"`
	Finished time.Time       `json:"finished,omitzero"`
	Done     int             `json:"done"`
	Rejected int             `json:"rejected"`
	Problems []fhir.Issue    `json:"problems,omitempty"`
	Report   json.RawMessage `json:"report,omitempty"` // a BulkReport
	Org      string          `json:"org,omitempty"`
}

// ExportState gives fn, one at a time, what an Ingester keeps besides the
// resources, for a migration tool to copy to an Ingester on the other
// engine with [Ingester.ImportState]: first every pending journal, oldest
// first (kind KindJournal), then every import job record in id order
// (KindJob). Applied journals are receipts only and are not exported.
//
// Each doc is one JSON object, the same whichever engine it comes from:
//
//	journal: {"id", "key", "state": "pending", "created", "n",
//	          "resources": [{"type", "id", "resource": {FHIR JSON}}]}
//	job:     {"id", "format", "state", "started", "updated", "finished"?,
//	          "done", "rejected", "problems"?: [Issue], "report"?: BulkReport}
//
// A journal holds the person's record: pass the documents straight to
// ImportState (or keep them as securely as the database) and never log
// them. fn may keep doc. An error from fn stops the export and is
// returned. Run it with no gateway using either database, so that nothing
// changes meanwhile.
func (i *Ingester) ExportState(ctx context.Context, fn func(kind string, doc []byte) error) error {
	ids, err := i.state.pendingIDs(ctx, pendingFilter{})
	if err != nil {
		return fmt.Errorf("ingest: export: find pending journals: %w", err)
	}
	for _, id := range ids {
		j, err := i.state.pendingJournal(ctx, id)
		if err != nil {
			return fmt.Errorf("ingest: export: read journal: %w", err)
		}
		if j == nil {
			continue // applied meanwhile
		}
		doc, err := marshalJSON(journalJSON{ID: j.ID.Hex(), Key: j.Key, State: j.State, Created: j.Created.UTC(),
			Count: j.Count, Resources: entries(j)})
		if err != nil {
			return fmt.Errorf("ingest: export: journal %s: %w", j.ID.Hex(), err)
		}
		if err := fn(KindJournal, doc); err != nil {
			return err
		}
	}
	jobs, err := i.state.jobIDs(ctx)
	if err != nil {
		return fmt.Errorf("ingest: export: list import jobs: %w", err)
	}
	for _, id := range jobs {
		d, err := i.state.job(ctx, id)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ingest: export: read import job: %w", err)
		}
		doc, err := marshalJSON(jobJSON{ID: d.ID, Format: d.Format, State: d.State, Started: d.Started.UTC(),
			Updated: d.Updated.UTC(), Finished: d.Finished.UTC(), Done: d.Done, Rejected: d.Rejected,
			Problems: d.Problems, Report: json.RawMessage(d.Report), Org: d.Org})
		if err != nil {
			return fmt.Errorf("ingest: export: import job %s: %w", d.ID, err)
		}
		if err := fn(KindJob, doc); err != nil {
			return err
		}
	}
	return nil
}

// ImportState stores one document given by [Ingester.ExportState] of an
// Ingester on either engine. A journal or job record whose id is here
// already is left as it is (no error), so an interrupted copy can simply
// be run again. A document that is not what ExportState makes is an error
// and nothing of it is stored.
//
// To move a gateway to the other engine: stop it, copy the resources,
// copy this state (ExportState of the old Ingester into ImportState of the
// new one), then start the new one, whose [Ingester.Recover] finishes the
// imported pending journals against the copied resources. Job records keep
// their ids, so clients polling an import still find it; a job that was
// running is reported as interrupted.
func (i *Ingester) ImportState(ctx context.Context, kind string, doc []byte) error {
	switch kind {
	case KindJournal:
		j, err := decodeJournal(doc)
		if err != nil {
			return fmt.Errorf("ingest: import journal: %w", err)
		}
		if err := i.state.insertJournal(ctx, j); err != nil && !errors.Is(err, errExists) {
			return fmt.Errorf("ingest: import journal %s: %w", j.ID.Hex(), err)
		}
		return nil
	case KindJob:
		d, err := decodeJob(doc)
		if err != nil {
			return fmt.Errorf("ingest: import job: %w", err)
		}
		if err := i.state.insertJob(ctx, d); err != nil && !errors.Is(err, errExists) {
			return fmt.Errorf("ingest: import job %s: %w", d.ID, err)
		}
		return nil
	}
	return fmt.Errorf("ingest: import: unknown kind %q (want %s or %s)", kind, KindJournal, KindJob)
}

func decodeStrict(doc []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func decodeJournal(doc []byte) (*journal, error) {
	var x journalJSON
	if err := decodeStrict(doc, &x); err != nil {
		return nil, err
	}
	id, err := bson.ObjectIDFromHex(x.ID)
	if err != nil {
		return nil, fmt.Errorf("id: %w", err)
	}
	switch {
	case x.State != statePending:
		return nil, fmt.Errorf("journal %s: state %q, want %q", x.ID, x.State, statePending)
	case !strings.HasPrefix(x.Key, "Patient/"):
		return nil, fmt.Errorf("journal %s: key is not a Patient reference", x.ID)
	case x.Created.IsZero():
		return nil, fmt.Errorf("journal %s: no created time", x.ID)
	case x.Count != len(x.Resources) || x.Count == 0:
		return nil, fmt.Errorf("journal %s: n is %d for %d resources", x.ID, x.Count, len(x.Resources))
	}
	for n, e := range x.Resources {
		if e.Type == "" || e.ID == "" {
			return nil, fmt.Errorf("journal %s entry %d: no type or id", x.ID, n)
		}
	}
	j := &journal{ID: id, Key: x.Key, State: statePending, Created: x.Created.UTC().Truncate(time.Millisecond),
		Count: x.Count, Resources: fromEntries(x.Resources)}
	if _, err := j.resources(); err != nil { // each entry is a JSON object
		return nil, err
	}
	return j, nil
}

func decodeJob(doc []byte) (*jobDoc, error) {
	var x jobJSON
	if err := decodeStrict(doc, &x); err != nil {
		return nil, err
	}
	switch {
	case x.ID == "":
		return nil, errors.New("no id")
	case x.Format != FormatNDJSON && x.Format != FormatCLD:
		return nil, fmt.Errorf("job %s: format %q", x.ID, x.Format)
	case x.State != JobRunning && x.State != JobDone && x.State != JobFailed:
		return nil, fmt.Errorf("job %s: state %q", x.ID, x.State)
	case x.Started.IsZero() || x.Updated.IsZero():
		return nil, fmt.Errorf("job %s: no started or updated time", x.ID)
	}
	ms := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	d := &jobDoc{ID: x.ID, Format: x.Format, State: x.State, Started: ms(x.Started), Updated: ms(x.Updated),
		Finished: ms(x.Finished), Done: x.Done, Rejected: x.Rejected, Problems: x.Problems, Org: x.Org}
	if len(x.Report) > 0 {
		var rep BulkReport
		if err := json.Unmarshal(x.Report, &rep); err != nil {
			return nil, fmt.Errorf("job %s report: %w", x.ID, err)
		}
		d.Report = string(x.Report)
	}
	return d, nil
}

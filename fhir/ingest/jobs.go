package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is a background bulk import, as kept in the ingest_jobs collection
// (MongoDB) or table (SQLite).
type Job struct {
	ID     string
	Format string
	// State is JobRunning, JobDone or JobFailed. A job is done when every
	// record was read, even if some were rejected (see Report); it failed
	// when it stopped early (Problems says why; Report has what was done).
	State    string
	Started  time.Time
	Updated  time.Time
	Finished time.Time
	// Done and Rejected count the records processed so far.
	Done, Rejected int
	// Problems says why a failed job stopped. The messages are safe to
	// show: they never contain record content.
	Problems []fhir.Issue
	// Report is set when the job has finished (done or failed).
	Report *BulkReport
	// Org is the organisation that sent the import (SubmitFrom); empty
	// when it was not named.
	Org string
}

type jobDoc struct {
	ID       string       `bson:"_id"`
	Format   string       `bson:"format"`
	State    string       `bson:"state"`
	Started  time.Time    `bson:"started"`
	Updated  time.Time    `bson:"updated"`
	Finished time.Time    `bson:"finished,omitzero"`
	Done     int          `bson:"done"`
	Rejected int          `bson:"rejected"`
	Problems []fhir.Issue `bson:"problems,omitempty"`
	// Report is the BulkReport's JSON.
	Report string `bson:"report,omitempty"`
	// Org is the ODS code of the organisation that sent the import.
	Org string `bson:"org,omitempty"`
}

// ErrUpload is returned (wrapping the cause) when Submit cannot read the
// import it was given.
var ErrUpload = errors.New("ingest: could not read the import")

// Submit starts a bulk import of r in the background and returns the job.
// It first copies r to a temporary file (readable by this user only,
// removed when the job ends), so the caller may return at once; an error
// reading r (for example *http.MaxBytesError) is returned wrapped.
func (i *Ingester) Submit(ctx context.Context, format string, r io.Reader) (*Job, error) {
	return i.SubmitFrom(ctx, "", format, r)
}

// SubmitFrom is Submit for records sent by the organisation with ODS code
// org: a record whose source.organisation is another organisation's is
// rejected (with its line or row, like any invalid record) and nothing of
// it is stored. An empty org accepts every source.
func (i *Ingester) SubmitFrom(ctx context.Context, org, format string, r io.Reader) (*Job, error) {
	if format != FormatNDJSON && format != FormatCLD {
		return nil, fmt.Errorf("ingest: unknown bulk format %q (want %s or %s)", format, FormatNDJSON, FormatCLD)
	}
	f, err := os.CreateTemp("", "socialcare-import-*")
	if err != nil {
		return nil, fmt.Errorf("ingest: spool import: %w", err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(f, r); err != nil {
		cleanup()
		return nil, fmt.Errorf("%w: %w", ErrUpload, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, fmt.Errorf("ingest: spool import: %w", err)
	}
	now := i.now().UTC().Truncate(time.Millisecond)
	d := &jobDoc{ID: store.NewID(), Format: format, State: JobRunning, Started: now, Updated: now, Org: org}
	if err := i.state.insertJob(ctx, d); err != nil {
		cleanup()
		return nil, fmt.Errorf("ingest: record import job: %w", err)
	}
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		cleanup()
		i.updateJob(d.ID, jobUpdate{state: JobFailed, problems: []fhir.Issue{{Severity: "error", Code: "transient",
			Diagnostics: "The gateway shut down before the import started; send the file again."}}})
		return nil, fmt.Errorf("%w: the gateway is shutting down", fhir.ErrUnavailable)
	}
	i.wg.Add(1)
	i.mu.Unlock()
	go func() {
		defer i.wg.Done()
		defer cleanup()
		i.run(d, f, org)
	}()
	return d.job(i.now(), i.staleAfter)
}

// run imports the spooled file of job d, recording progress as it goes.
func (i *Ingester) run(d *jobDoc, f io.Reader, org string) {
	var done, rejected atomic.Int64
	stop := make(chan struct{})
	var beat sync.WaitGroup
	beat.Go(func() {
		t := time.NewTicker(i.heartbeat)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				i.updateJob(d.ID, jobUpdate{done: int(done.Load()), rejected: int(rejected.Load())})
			}
		}
	})
	rep, err := i.bulk(i.base, d.Format, f, org, func(n, failed int) {
		done.Store(int64(n))
		rejected.Store(int64(failed))
	})
	close(stop)
	beat.Wait()

	u := jobUpdate{finished: i.now().UTC().Truncate(time.Millisecond), state: JobDone, done: rep.Records, rejected: rep.Rejected}
	if err != nil {
		u.state = JobFailed
		u.problems = i.jobProblems(err, rep)
		i.logger.Warn("ingest: import job stopped early", "job", d.ID, "records", rep.Records, "error", err.Error())
	} else {
		i.logger.Info("ingest: import job done", "job", d.ID, "records", rep.Records, "rejected", rep.Rejected)
	}
	if b, err := json.Marshal(rep); err == nil {
		u.report = string(b)
	}
	i.updateJob(d.ID, u)
}

// jobProblems explains why a job stopped, without record content.
func (i *Ingester) jobProblems(err error, rep *BulkReport) []fhir.Issue {
	var fe *fhir.Error
	if errors.As(err, &fe) && fe.Status < 500 {
		return fe.Issues // the file itself is unusable, e.g. a CSV without its header
	}
	why := "an internal error occurred"
	switch {
	case i.base.Err() != nil:
		why = "the gateway shut down"
	case errors.Is(err, fhir.ErrUnavailable):
		why = "the record store became unavailable"
	}
	return []fhir.Issue{{Severity: "error", Code: "incomplete", Diagnostics: fmt.Sprintf(
		"The import stopped after %d records because %s. Records stored so far stay stored; send the file again to finish (records already stored are not stored twice).",
		rep.Records, why)}}
}

// updateJob sets fields of a job document. It outlives shutdown briefly,
// so that an interrupted job is recorded as such.
func (i *Ingester) updateJob(id string, u jobUpdate) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(i.base), 10*time.Second)
	defer cancel()
	u.updated = i.now().UTC().Truncate(time.Millisecond)
	if err := i.state.updateJob(ctx, id, u); err != nil {
		i.logger.Warn("ingest: could not record import job progress", "job", id, "error", err.Error())
	}
}

// Job returns the import job with the given id: a *fhir.Error 404 when
// there is none. A job still marked running whose progress stopped being
// recorded (its gateway stopped) is reported as failed.
func (i *Ingester) Job(ctx context.Context, id string) (*Job, error) {
	d, err := i.state.job(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "There is no import job %q.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: read import job: %w", err)
	}
	return d.job(i.now(), i.staleAfter)
}

func (d *jobDoc) job(now time.Time, staleAfter time.Duration) (*Job, error) {
	j := &Job{ID: d.ID, Format: d.Format, State: d.State, Started: d.Started, Updated: d.Updated,
		Finished: d.Finished, Done: d.Done, Rejected: d.Rejected, Problems: d.Problems, Org: d.Org}
	if d.Report != "" {
		j.Report = new(BulkReport)
		if err := json.Unmarshal([]byte(d.Report), j.Report); err != nil {
			return nil, fmt.Errorf("ingest: import job %s report: %w", d.ID, err)
		}
	}
	if j.State == JobRunning && now.Sub(d.Updated) > staleAfter {
		j.State = JobFailed
		j.Problems = []fhir.Issue{{Severity: "error", Code: "incomplete", Diagnostics: fmt.Sprintf(
			"The import was interrupted after %d records (the gateway stopped). Records stored so far stay stored; send the file again to finish (records already stored are not stored twice).", d.Done)}}
	}
	return j, nil
}

// Close stops running import jobs (each records that it was interrupted)
// and waits for them, or for ctx to end.
func (i *Ingester) Close(ctx context.Context) error {
	i.mu.Lock()
	i.closed = true
	i.cancel()
	i.mu.Unlock()
	done := make(chan struct{})
	go func() { i.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

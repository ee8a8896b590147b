package ingest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// waitJob waits until the ingester's background jobs have ended, then
// reads the job, which must no longer be running.
func waitJob(t *testing.T, i *Ingester, id string) *Job {
	t.Helper()
	i.wg.Wait()
	j, err := i.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if j.State == JobRunning {
		t.Fatalf("job still running after its goroutine ended: %+v", j)
	}
	return j
}

func TestJobRunsInBackgroundAndKeepsItsReport(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		data, n := ndjsonWithBadLine(t)
		j, err := i.Submit(context.Background(), FormatNDJSON, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if j.ID == "" || j.State != JobRunning {
			t.Fatalf("submitted job: %+v", j)
		}
		done := waitJob(t, i, j.ID)
		if done.State != JobDone || done.Report == nil || done.Done != n || done.Rejected != 1 || done.Finished.IsZero() {
			t.Fatalf("finished job: %+v", done)
		}
		if done.Report.Records != n || done.Report.Items[2].Status != ItemRejected {
			t.Errorf("report: %+v", done.Report)
		}
	})
}

func TestUnknownJobIs404(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		_, err := i.Job(context.Background(), "no-such-job")
		var fe *fhir.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusNotFound {
			t.Fatalf("err = %v, want 404", err)
		}
	})
}

// A job whose gateway stopped without recording it is reported as failed
// once its progress is stale.
func TestStaleJobIsReportedInterrupted(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		old := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
		if err := i.state.insertJob(context.Background(), &jobDoc{ID: "stale", Format: FormatNDJSON, State: JobRunning, Started: old, Updated: old, Done: 7}); err != nil {
			t.Fatal(err)
		}
		j, err := i.Job(context.Background(), "stale")
		if err != nil {
			t.Fatal(err)
		}
		if j.State != JobFailed || len(j.Problems) != 1 || j.Problems[0].Code != "incomplete" {
			t.Fatalf("stale job: %+v", j)
		}
	})
}

func TestCloseInterruptsRunningJobs(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		gate := make(chan struct{})
		i.afterApply = func(n int) error {
			if n == 0 {
				<-gate
			}
			return nil
		}
		data, _ := ndjsonWithBadLine(t)
		j, err := i.Submit(context.Background(), FormatNDJSON, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan error, 1)
		go func() { closed <- i.Close(context.Background()) }()
		<-i.base.Done() // Close has begun: the job is stopped while it waits at the gate
		close(gate)
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		got, err := i.Job(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != JobFailed || len(got.Problems) == 0 || got.Report == nil {
			t.Fatalf("interrupted job: %+v", got)
		}
		if _, err := i.Submit(context.Background(), FormatNDJSON, bytes.NewReader(data)); !errors.Is(err, fhir.ErrUnavailable) {
			t.Errorf("Submit after Close: %v, want fhir.ErrUnavailable", err)
		}
	})
}

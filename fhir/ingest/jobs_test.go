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

// waitJob polls a job until it is no longer running (bounded).
func waitJob(t *testing.T, i *Ingester, id string) *Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := i.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != JobRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still running after 60s: %+v", j)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestJobRunsInBackgroundAndKeepsItsReport(t *testing.T) {
	i := newIngester(t)
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
}

func TestUnknownJobIs404(t *testing.T) {
	i := newIngester(t)
	_, err := i.Job(context.Background(), "no-such-job")
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusNotFound {
		t.Fatalf("err = %v, want 404", err)
	}
}

// A job whose gateway stopped without recording it is reported as failed
// once its progress is stale.
func TestStaleJobIsReportedInterrupted(t *testing.T) {
	i := newIngester(t)
	old := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	if _, err := i.jobs.InsertOne(context.Background(), &jobDoc{ID: "stale", Format: FormatNDJSON, State: JobRunning, Started: old, Updated: old, Done: 7}); err != nil {
		t.Fatal(err)
	}
	j, err := i.Job(context.Background(), "stale")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != JobFailed || len(j.Problems) != 1 || j.Problems[0].Code != "incomplete" {
		t.Fatalf("stale job: %+v", j)
	}
}

func TestCloseInterruptsRunningJobs(t *testing.T) {
	i := newIngester(t)
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
	time.Sleep(50 * time.Millisecond)
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
}

package export_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/export"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

type jobs interface {
	Insert(ctx context.Context, j *export.Job) error
	Save(ctx context.Context, j *export.Job) error
	Get(ctx context.Context, id string) (*export.Job, error)
	Delete(ctx context.Context, id string) error
	InState(ctx context.Context, state string) ([]*export.Job, error)
}

// Both engines keep a job exactly as given: inserted, saved with its
// progress, listed by state, deleted.
func TestJobsOnBothEngines(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) jobs{
		"sqlite": func(t *testing.T) jobs {
			db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "export.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return export.NewSQLite(db)
		},
		"mongodb": func(t *testing.T) jobs {
			c, err := mongo.Connect(options.Client().ApplyURI(storetest.Server(t, "")))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
			return export.NewMongo(c.Database("fhir"))
		},
	} {
		t.Run(name, func(t *testing.T) { testJobs(t, open(t)) })
	}
}

func testJobs(t *testing.T, js jobs) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	j := &export.Job{ID: "job-1", State: export.Running, Level: export.LevelPatient, Types: []string{"Patient", "CarePlan"},
		Owner:   export.Owner{Kind: "user", Subject: "u1", Org: "RJ1", Role: "R8000", Purpose: "TREAT"},
		Request: "https://gw.example/Patient/$export", Since: "2026-01-01T00:00:00Z", Patients: []string{"Patient/a"},
		TypeFilters: map[string][]string{"CarePlan": {"status=active"}}, TransactionTime: now, Created: now, Updated: now}
	if _, err := js.Get(ctx, j.ID); !errors.Is(err, export.ErrNotFound) {
		t.Fatalf("Get before Insert: %v, want ErrNotFound", err)
	}
	if err := js.Insert(ctx, j); err != nil {
		t.Fatal(err)
	}
	j.Position = export.Position{Type: 1, Cursor: "abc"}
	j.Output = []export.File{{Type: "Patient", Name: "Patient-1.ndjson", Count: 3, Bytes: 900}}
	j.Notes = []fhir.Issue{{Severity: "information", Code: "not-supported", Diagnostics: "x ignored"}}
	if err := js.Save(ctx, j); err != nil {
		t.Fatal(err)
	}
	got, err := js.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Position != j.Position || got.Output[0] != j.Output[0] || !got.TransactionTime.Equal(now) ||
		got.TypeFilters["CarePlan"][0] != "status=active" || got.Owner != j.Owner || got.Notes[0].Diagnostics != "x ignored" {
		t.Errorf("got %+v, want %+v", got, j)
	}
	if got.Progress() != 3 || got.Counts()["Patient"] != 3 || got.File("Patient-1.ndjson") == nil || got.File("x") != nil {
		t.Errorf("progress %d, counts %v", got.Progress(), got.Counts())
	}
	running, err := js.InState(ctx, export.Running)
	if err != nil || len(running) != 1 || running[0].ID != j.ID {
		t.Fatalf("running: %v %v", running, err)
	}
	j.State = export.Done
	if err := js.Save(ctx, j); err != nil {
		t.Fatal(err)
	}
	if running, _ := js.InState(ctx, export.Running); len(running) != 0 {
		t.Errorf("a done job is listed as running")
	}
	if err := js.Delete(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Get(ctx, j.ID); !errors.Is(err, export.ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

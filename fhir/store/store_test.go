package store

import (
	"context"
	"errors"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

func resource(t *testing.T, id, gender string) *fhir.Resource {
	t.Helper()
	return &fhir.Resource{Type: "Patient", ID: id, Object: map[string]any{"resourceType": "Patient", "id": id, "gender": gender}}
}

// A writer that stopped after claiming a version but before moving the
// head leaves nothing lost: the next writer rolls the head forward to the
// claimed version and builds on it.
func TestCrashBetweenClaimAndHeadMove(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, server(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if _, err := s.Update(ctx, resource(t, "p1", "female"), 0); err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: claim version 2 in history only.
	claimed, err := s.newHead(resource(t, "p1", "male"), "p1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.history("Patient").InsertOne(ctx, claimed.toOld()); err != nil {
		t.Fatal(err)
	}
	// A client still holding version 1 is refused: version 2 exists.
	if _, err := s.Update(ctx, resource(t, "p1", "other"), 1); !errors.Is(err, fhir.ErrVersionConflict) {
		t.Fatalf("stale If-Match: %v", err)
	}
	v, err := s.Read(ctx, "Patient", "p1")
	if err != nil || v.VersionID != 2 {
		t.Fatalf("after roll-forward: version %v, %v", v, err)
	}
	r, err := s.Update(ctx, resource(t, "p1", "unknown"), 0)
	if err != nil || r.Version.VersionID != 3 {
		t.Fatalf("next write: %+v %v", r, err)
	}
	hist, _, err := s.History(ctx, "Patient", "p1", HistoryOptions{Count: 10})
	if err != nil || len(hist) != 3 {
		t.Fatalf("history %d versions, %v", len(hist), err)
	}
	for i, want := range []int64{3, 2, 1} {
		if hist[i].VersionID != want {
			t.Errorf("history[%d] = version %d, want %d", i, hist[i].VersionID, want)
		}
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(gender string) *Version {
		db, err := embedded.Start(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := Open(ctx, db.URI(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		r, err := s.Update(ctx, resource(t, "p1", gender), 0)
		if err != nil {
			t.Fatal(err)
		}
		return r.Version
	}
	_ = write("female")
	// A new server on the same directory sees the acknowledged write.
	if v := write("male"); v.VersionID != 2 {
		t.Fatalf("after restart the write made version %d, want 2", v.VersionID)
	}
}

// Update with Absent creates, or revives a deleted resource, but never
// replaces a live one.
func TestUpdateAbsent(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, server(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if r, err := s.Update(ctx, resource(t, "a1", "female"), Absent); err != nil || r.Version.VersionID != 1 {
		t.Fatalf("create with Absent: %+v, %v", r, err)
	}
	if _, err := s.Update(ctx, resource(t, "a1", "male"), Absent); !errors.Is(err, fhir.ErrVersionConflict) {
		t.Fatalf("replacing a live resource with Absent: %v; want a version conflict", err)
	}
	if _, err := s.Delete(ctx, "Patient", "a1", 0); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Update(ctx, resource(t, "a1", "male"), Absent); err != nil || r.Version.VersionID != 3 {
		t.Fatalf("reviving a deleted resource with Absent: %+v, %v", r, err)
	}
}

// server starts an embedded database for one test. (storetest cannot be
// used here: it depends on this package.)
func server(t *testing.T) string {
	t.Helper()
	srv, err := embedded.Start(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv.URI()
}

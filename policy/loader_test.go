package policy

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink safe for the watcher goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a reload compiles and checks the whole policy: seconds on a busy machine
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLoaderWatch(t *testing.T) {
	dir := copyPolicy(t)
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(t.Context())
	l, err := NewLoader(ctx, dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { l.Watch(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	first := l.Current()

	// A bad edit: the policy's own test fails. The old engine stays.
	editFile(t, dir, "data.json", "\"R8009\",", "\"R8000X\",")
	waitFor(t, "rejection logged", func() bool { return strings.Contains(logs.String(), "policy reload rejected") })
	if l.Current() != first {
		t.Fatal("a failing policy replaced the engine")
	}
	if strings.Contains(logs.String(), "Patient/") {
		t.Error("log mentions a patient")
	}

	// Undo it and make a good edit: the engine is swapped.
	editFile(t, dir, "data.json", "\"R8000X\",", "\"R8009\",")
	editFile(t, dir, "data.json", `"relationship_window_days": 365`, `"relationship_window_days": 90`)
	waitFor(t, "new engine", func() bool { return l.Current() != first })
	if l.Current().Revision() == first.Revision() {
		t.Error("swapped engine kept the revision")
	}
	// The engine taken earlier still decides with its own revision.
	d, err := first.Decide(t.Context(), Input{Action: ActionRead, Subject: gpNurse, Resource: Resource{Type: "CarePlan", ResourceAttributes: attrs("Patient/p1", CatCarePlan)}, Context: Context{Related: true}})
	if err != nil || !d.Allow || d.Revision != first.Revision() {
		t.Errorf("old engine: %+v, %v", d, err)
	}
}

func TestReloadKeepsEngineOnBrokenPolicy(t *testing.T) {
	dir := copyPolicy(t)
	l, err := NewLoader(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := l.Current()
	if err := l.Reload(t.Context()); err != nil || l.Current() != first {
		t.Fatalf("unchanged reload: %v, swapped %v", err, l.Current() != first)
	}
	editFile(t, dir, "decision.rego", "decision := ", "decision = = ")
	if err := l.Reload(t.Context()); err == nil {
		t.Fatal("broken policy reloaded")
	}
	if l.Current() != first {
		t.Fatal("broken policy replaced the engine")
	}
}

func TestNewLoaderFailsOnBrokenPolicy(t *testing.T) {
	dir := copyPolicy(t)
	editFile(t, dir, "decision.rego", "decision := ", "decision = = ")
	if _, err := NewLoader(t.Context(), dir, nil); err == nil {
		t.Fatal("NewLoader accepted a broken policy")
	}
}

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

// In development mode a change to the policy directory becomes a new draft
// while the gateway runs, never an active version.
func TestPolicyDirectoryChangeBecomesADraft(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := copyPolicy(t, func(map[string]any) {})
	eng, err := storage.Open(ctx, storage.Config{Kind: storage.SQLite, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	files, err := policy.ReadFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &versions.Workflow{Store: eng.Policies, Audit: eng.Audit}
	seed, err := w.Seed(ctx, files)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if id := proposeDir(ctx, w, dir, logger); id != "" {
		t.Fatalf("the unchanged directory was proposed as %s", id)
	}
	go watchPolicyDir(ctx, w, dir, logger)

	var d map[string]any
	if err := json.Unmarshal(files[policy.DataFile], &d); err != nil {
		t.Fatal(err)
	}
	d["dsa"].(map[string]any)["relationship_window_days"] = 90
	b, _ := json.MarshalIndent(d, "", "  ")
	var draft *versions.Version
	for i, deadline := 0, time.Now().Add(60*time.Second); draft == nil && time.Now().Before(deadline); i++ {
		if i%20 == 0 { // saved again every 2 s, in case the watch began after a save
			if err := os.WriteFile(filepath.Join(dir, policy.DataFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond)
		vs, err := w.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.ID != seed {
				draft = v
			}
		}
	}
	if draft == nil {
		t.Fatal("the changed directory was not proposed")
	}
	if draft.State != versions.Draft || draft.Parent != seed || draft.Author.Subject != "policy-dir" {
		t.Fatalf("proposed: state %s parent %s author %s; want a draft of the seed by policy-dir", draft.State, draft.Parent, draft.Author.Subject)
	}
	if id, err := eng.Policies.ActiveID(ctx); err != nil || id != seed {
		t.Fatalf("active %s, %v: a directory change must never activate", id, err)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

// openPolicies serves the active policy version from the database: the
// policy directory seeds an empty database (as the active version); in
// development mode a directory that differs from every stored version is
// proposed as a draft at start-up and whenever its files change, never
// activated (activate it with the API or gateway policy activate).
func openPolicies(ctx context.Context, cfg *config, eng *storage.Engine, logger *slog.Logger) (*versions.Loader, *versions.Workflow, error) {
	files, err := policy.ReadFiles(cfg.PolicyDir)
	if err != nil {
		return nil, nil, fmt.Errorf("read the access policy in %s: %w", cfg.PolicyDir, err)
	}
	w := &versions.Workflow{Store: eng.Policies, Audit: eng.Audit, MinRuleCoverage: cfg.MinCoverage}
	if _, err := w.Seed(ctx, files); err != nil {
		return nil, nil, fmt.Errorf("seed the policy versions from %s: %w", cfg.PolicyDir, err)
	}
	loader, err := versions.NewLoader(ctx, eng.Policies, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("load the active policy version: %w", err)
	}
	w.Policy = loader
	if cfg.Mode != "development" {
		return loader, w, nil
	}
	proposeDir(ctx, w, cfg.PolicyDir, logger)
	go watchPolicyDir(ctx, w, cfg.PolicyDir, logger)
	return loader, w, nil
}

// proposeDir proposes the policy directory as a draft when it differs from
// every stored version (development mode: the files are the development
// workflow). It reports the draft's id, "" when none was made.
func proposeDir(ctx context.Context, w *versions.Workflow, dir string, logger *slog.Logger) string {
	files, err := policy.ReadFiles(dir)
	if err != nil {
		logger.Warn("the policy directory could not be read", "error", err.Error())
		return ""
	}
	v, err := w.Propose(ctx, versions.Person{Subject: "policy-dir"}, files, "the policy directory "+dir+" changed")
	switch {
	case errors.Is(err, versions.ErrExists):
		return ""
	case err != nil:
		logger.Warn("the policy directory could not be proposed as a draft", "error", err.Error())
		return ""
	}
	logger.Warn("DEVELOPMENT: the policy directory differs from the stored versions; proposed as a draft", "version", v.ID)
	return v.ID
}

// watchPolicyDir proposes the policy directory again whenever its files
// change (development mode), a moment after the last change, until ctx
// ends. A draft is never activated by this: it goes through the workflow.
func watchPolicyDir(ctx context.Context, w *versions.Workflow, dir string, logger *slog.Logger) {
	fw, err := fsnotify.NewWatcher()
	if err == nil {
		err = fw.Add(dir)
	}
	if err != nil {
		logger.Warn("the policy directory is not watched; restart to propose its changes", "error", err.Error())
		return
	}
	defer fw.Close()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Write) || ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				settle.Reset(300 * time.Millisecond) // an editor's save is several events
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			logger.Warn("policy directory watch", "error", err.Error())
		case <-settle.C:
			proposeDir(ctx, w, dir, logger)
		}
	}
}

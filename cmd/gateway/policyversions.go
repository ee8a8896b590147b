package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

// openPolicies serves the active policy version from the database: the
// policy directory seeds an empty database (as the active version); in
// development mode a directory that differs from every stored version is
// proposed as a draft, never activated (activate it with the API or
// gateway policy activate).
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
	_, err = w.Propose(ctx, versions.Person{Subject: "policy-dir"}, files, "the policy directory "+cfg.PolicyDir+" changed")
	switch {
	case errors.Is(err, versions.ErrExists):
	case err != nil:
		logger.Warn("the policy directory could not be proposed as a draft", "error", err.Error())
	default:
		logger.Warn("DEVELOPMENT: the policy directory differs from the stored versions; proposed as a draft", "version", versions.IDOf(files.Revision()))
	}
	return loader, w, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fixtures"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

func serve(ctx context.Context, args []string) error {
	cfg, err := parseConfig(args, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	logger := cfg.logger()
	eng, err := storage.Open(ctx, cfg.storage(logger))
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())
	logger.Info("storage engine opened", "store", eng.Kind, "data_dir", cfg.DataDir)
	fmt.Fprintf(os.Stderr, "storage engine: %s\n", describe(eng.Kind, cfg))
	// Finish any social care record a crash left half-stored before
	// serving, so that none is ever read half-stored.
	ing := eng.Ingest
	if n, err := ing.Recover(ctx); err != nil {
		return fmt.Errorf("recover interrupted social care records: %w", err)
	} else if n > 0 {
		logger.Warn("finished interrupted social care records", "records", n)
	}
	// A record interrupted while the gateway keeps running (a database
	// outage mid-record) is finished once no request can still be storing it.
	go ing.RecoverEvery(ctx, time.Minute, 2*time.Minute)
	if cfg.Demo {
		n, err := loadDemo(ctx, ing)
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		logger.Warn("DEVELOPMENT: synthetic demo records loaded", "records", n)
		if _, err := fixtures.LoadTrust(ctx, eng.Resources); err != nil {
			return fmt.Errorf("load demo trust: %w", err)
		}
	}
	trail := eng.Audit
	if cfg.AuditRetention > 0 {
		go purgeAudit(ctx, trail, keptPatients(eng.Resources), logger)
	}
	go logAuditHead(ctx, trail, logger, 10*time.Minute)
	smart, err := newTokenService(ctx, cfg, eng.Assertions, logger)
	if err != nil {
		return err
	}
	verifier, err := newVerifier(ctx, cfg, smart, logger)
	if err != nil {
		return err
	}
	signIn, err := devSignIn(cfg, logger)
	if err != nil {
		return err
	}
	policies, workflow, err := openPolicies(ctx, cfg, eng, logger)
	if err != nil {
		return err
	}
	if cfg.PolicyPoll <= 0 {
		return fmt.Errorf("-policy-poll must be positive")
	}
	go policies.Poll(ctx, cfg.PolicyPoll)
	// A version in shadow decides every audited decision again, off the
	// request's path (policy/versions.Shadow).
	trail.SetObserver(policies.Observe)
	defer trail.SetObserver(nil)
	logger.Info("access policy loaded", "revision", policies.Current().Revision())
	h := gateway.New(gateway.Config{
		BaseURL:            cfg.BaseURL,
		MaxBodyBytes:       cfg.MaxBodyBytes,
		RequestTimeout:     cfg.RequestTimeout,
		DefaultCount:       cfg.DefaultCount,
		MaxCount:           cfg.MaxCount,
		Auth:               verifier,
		Policy:             policies,
		RelationshipWindow: cfg.Relationship,
		Ingester:           ing,
		Audit:              trail,
		AuditReader:        trail,
		SMART:              smartEndpoint(smart),
		Exports:            eng.Exports,
		ExportDir:          filepath.Join(cfg.DataDir, "exports"),
		ExportExpiry:       cfg.ExportExpiry,
		PolicyVersions:     workflow,
		AuditRetention:     cfg.AuditRetention,
		DevSignIn:          signIn,
		DevAudience:        cfg.Audience,
		Retention:          eng.Retention,
		Records:            eng.Resources,
		RetentionEvery:     24 * time.Hour,

		QualitySnapshotEvery: 24 * time.Hour,
	}, eng.Resources, logger)
	defer h.Close(context.Background())
	if err := h.ResumeExports(ctx); err != nil {
		return fmt.Errorf("resume Bulk Data exports: %w", err)
	}
	srv := &http.Server{Addr: cfg.Addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: cfg.IdleTimeout}
	return gateway.ListenAndServe(ctx, srv, cfg.ShutdownGrace, cfg.MaxConnections, func(addr string) {
		logger.Info("gateway listening", "url", "http://"+addr, "mode", cfg.Mode)
		fmt.Fprintf(os.Stderr, "FHIR gateway listening on http://%s (try: curl http://%s/metadata)\n", addr, addr)
	})
}

// devSignIn is the IG workbench's development sign-in (/ig/sign-in):
// demo people get tokens signed with the public development key, which
// only development mode trusts. None in production mode.
func devSignIn(cfg *config, logger *slog.Logger) (gateway.DevTokens, error) {
	if cfg.Mode != "development" {
		return nil, nil
	}
	key, err := auth.LoadDevKey(cfg.DevKeyDir)
	if err != nil {
		return nil, fmt.Errorf("the IG workbench's development sign-in needs the development key: %w", err)
	}
	logger.Warn("DEVELOPMENT: the IG workbench offers a development sign-in as demo people; never run this mode with real data", "page", "/ig/sign-in")
	return key, nil
}

// smartEndpoint is the gateway's token endpoint: none without SMART
// clients (a nil *auth.TokenService must not become a non-nil interface).
func smartEndpoint(s *auth.TokenService) gateway.TokenEndpoint {
	if s == nil {
		return nil
	}
	return s
}

// storage is the engine configuration of the serve settings.
func (c *config) storage(logger *slog.Logger) storage.Config {
	return storage.Config{Kind: c.Store, URI: c.MongoURI, Database: c.Database, DataDir: c.DataDir, Logger: logger,
		Audit: audit.Options{Retention: c.AuditRetention, MinRetention: c.RecordRetention, Logger: logger}}
}

// describe says which engine serves, for the start-up line.
func describe(kind string, c *config) string {
	switch {
	case kind == storage.SQLite:
		return "sqlite (embedded, indexed) in " + c.DataDir
	case c.MongoURI == "":
		return "mongodb on the embedded FerretDB test server in " + c.DataDir + " (for tests of the MongoDB engine; slow: it scans)"
	}
	return "mongodb (database " + c.Database + ")"
}

// purgeAudit removes audit records past their retention once a day, but
// never one from the first naming a person whose records are still kept,
// keeping the chain verifiable through a checkpoint.
func purgeAudit(ctx context.Context, trail *audit.Log, kept audit.Kept, logger *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		if n, err := trail.PurgeKeeping(ctx, time.Now(), kept); err != nil {
			logger.Error("audit purge failed", "error", err.Error())
		} else if n > 0 {
			logger.Info("audit records past retention purged", "records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// logAuditHead logs the audit chain's head at start-up and then every
// interval when it has moved: shipped with the logs, away from the
// database, these lines are anchors that "gateway audit verify -anchor"
// checks the chain against, so records cut from its end are noticed.
func logAuditHead(ctx context.Context, trail *audit.Log, logger *slog.Logger, interval time.Duration) {
	var last audit.Anchor
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if a, err := trail.Head(ctx); err != nil {
			if ctx.Err() == nil {
				logger.Warn("audit chain head not read; will retry", "error", err)
			}
		} else if a != last {
			logger.Info("audit chain head", "anchor", a.String())
			last = a
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// patientReader reads a Patient (the store).
type patientReader interface {
	Read(ctx context.Context, resourceType, id string) (*store.Version, error)
}

// keptPatients says which people still have records stored: their Patient
// is there (deleted or not: its versions stay until a disposal purges it,
// the Patient last). The audit trail keeps every record from the first
// naming one of them.
func keptPatients(r patientReader) audit.Kept {
	return func(ctx context.Context, patients []string) (map[string]bool, error) {
		out := map[string]bool{}
		for _, p := range patients {
			id, ok := strings.CutPrefix(p, "Patient/")
			if !ok {
				continue
			}
			_, err := r.Read(ctx, "Patient", id)
			switch {
			case err == nil, errors.Is(err, fhir.ErrGone):
				out[p] = true
			case errors.Is(err, fhir.ErrNotFound):
			default:
				return nil, err
			}
		}
		return out, nil
	}
}

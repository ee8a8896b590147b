// Package storage opens one of the gateway's two storage engines with
// everything that lives in it: the FHIR resources, the audit trail and
// the ingest journals.
//
//   - sqlite (the default without a MongoDB URI): the embedded engine, one
//     process on one machine. Its files live in the data directory:
//     fhir.db (resources and their search index, package sqlstore),
//     audit.db (the hash-chained trail), ingest.db (journals and bulk
//     import jobs), export.db (Bulk Data export jobs; their NDJSON
//     files are written by the gateway under the data directory's
//     exports/), policy.db (the access policy's versions, package
//     policy/versions) and retention.db (records-management decisions,
//     package retention), each a SQLite database in WAL mode.
//   - mongodb: MongoDB through the official driver (package store), the
//     production engine and the way past one machine (replica set;
//     sharding on the patient compartment). With kind mongodb and no URI,
//     the embedded FerretDB server is started in the data directory: a
//     wire-protocol test double, never a place to measure speed.
package storage

import (
	"context"
	"errors"
	"fmt"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/auth/assertions"
	"log/slog"
	"path/filepath"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/export"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/retention"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Engine kinds.
const (
	SQLite  = "sqlite"
	MongoDB = "mongodb"
)

// File names of the embedded engine's databases in the data directory.
const (
	AuditFile  = "audit.db"
	IngestFile = "ingest.db"
	ExportFile = "export.db"
)

// Resources is the store contract both engines keep: the suite in
// fhir/store/contract runs it on each.
type Resources interface {
	Read(ctx context.Context, resourceType, id string) (*store.Version, error)
	VRead(ctx context.Context, resourceType, id string, vid int64) (*store.Version, error)
	Create(ctx context.Context, res *fhir.Resource) (*store.Version, error)
	Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (store.WriteResult, error)
	Delete(ctx context.Context, resourceType, id string, ifMatch int64) (*store.Version, error)
	History(ctx context.Context, resourceType, id string, opt store.HistoryOptions) ([]*store.Version, bool, error)
	Search(ctx context.Context, q *search.Query, restrict store.Restrict) (*store.Page, error)
	Patients(ctx context.Context, q *search.Query, among ...string) ([]string, error)
	Facts(ctx context.Context, q facts.Query) ([]facts.Fact, error)
	Ping(ctx context.Context) error
	// Versions and Restore move every version between engines.
	Versions(ctx context.Context, resourceType string, fn func(*store.Version) error) error
	Restore(ctx context.Context, versions []*store.Version) error
	// Purge removes a resource and every version of it, its search index
	// and its access facts, for a disposal under the retention schedule
	// (package retention); fhir.ErrNotFound if nothing of it is stored.
	Purge(ctx context.Context, resourceType, id string) (int, error)
}

// Exports is the export job store both engines keep (package export).
type Exports interface {
	Insert(ctx context.Context, j *export.Job) error
	Save(ctx context.Context, j *export.Job) error
	Get(ctx context.Context, id string) (*export.Job, error)
	Delete(ctx context.Context, id string) error
	InState(ctx context.Context, state string) ([]*export.Job, error)
}

var (
	_ Exports = (*export.SQLiteJobs)(nil)
	_ Exports = (*export.MongoJobs)(nil)
)

var (
	_ Resources = (*store.Store)(nil)
	_ Resources = (*sqlstore.Store)(nil)
)

// Config chooses and configures an engine.
type Config struct {
	// Kind is SQLite or MongoDB; empty means MongoDB when URI is set,
	// SQLite otherwise.
	Kind string
	// URI is the MongoDB connection string (kind mongodb).
	URI string
	// Database is the MongoDB database name (default "fhir").
	Database string
	// DataDir holds the embedded engine's files (kind sqlite) or the
	// embedded FerretDB server's (kind mongodb without a URI).
	DataDir string
	// Audit configures the audit trail.
	Audit  audit.Options
	Logger *slog.Logger
	// Store configures the MongoDB resource store (its Monitor counts
	// round trips in benchmarks); Database and Logger come from above.
	Store store.Options
}

// Engine is an open engine.
type Engine struct {
	// Kind is the engine opened.
	Kind      string
	Resources Resources
	Audit     *audit.Log
	Ingest    *ingest.Ingester
	// Exports keeps the Bulk Data export jobs (package export).
	Exports Exports
	// Policies keeps the access policy's versions (policy.db; the
	// policy_versions collection).
	Policies versions.Store
	// Retention keeps the records-management decisions: legal holds,
	// extensions, disposals (retention.db; the retention_decisions
	// collection).
	Retention retention.Store
	// Assertions remembers the SMART client assertions' ids, shared by
	// every instance on the database (assertions.db; the
	// smart_assertion_ids collection).
	Assertions auth.JTIStore
	// Mongo is the MongoDB resource store (kind mongodb), SQL the SQLite
	// one (kind sqlite); the other is nil.
	Mongo   *store.Store
	SQL     *sqlstore.Store
	auditDB *sqlitedb.DB
	closers []func() error
}

// Kind resolves the engine a configuration names.
func Kind(kind, uri string) (string, error) {
	switch kind {
	case "":
		if uri != "" {
			return MongoDB, nil
		}
		return SQLite, nil
	case SQLite:
		if uri != "" {
			return "", errors.New("store sqlite takes no MongoDB URI; leave -mongodb-uri empty or choose -store mongodb")
		}
		return SQLite, nil
	case MongoDB:
		return MongoDB, nil
	}
	return "", fmt.Errorf("store must be sqlite or mongodb, not %q", kind)
}

// Open opens the engine cfg names. Close it when done.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	kind, err := Kind(cfg.Kind, cfg.URI)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Audit.Logger == nil {
		cfg.Audit.Logger = cfg.Logger
	}
	e := &Engine{Kind: kind}
	if err := e.open(ctx, cfg); err != nil {
		_ = e.Close(context.Background())
		return nil, err
	}
	return e, nil
}

func (e *Engine) open(ctx context.Context, cfg Config) error {
	if e.Kind == SQLite {
		res, err := sqlstore.Open(ctx, cfg.DataDir, sqlstore.Options{Logger: cfg.Logger, Clock: cfg.Store.Clock})
		if err != nil {
			return err
		}
		e.closers = append(e.closers, func() error { return res.Close(context.Background()) })
		e.SQL, e.Resources = res, res
		adb, err := sqlitedb.Open(filepath.Join(cfg.DataDir, AuditFile))
		if err != nil {
			return err
		}
		e.closers = append(e.closers, adb.Close)
		e.auditDB = adb
		if e.Audit, err = audit.OpenSQLite(ctx, adb, cfg.Audit); err != nil {
			return fmt.Errorf("open the audit trail: %w", err)
		}
		idb, err := sqlitedb.Open(filepath.Join(cfg.DataDir, IngestFile))
		if err != nil {
			return err
		}
		e.closers = append(e.closers, idb.Close)
		e.Ingest = ingest.NewSQLite(res, idb, cfg.Logger)
		xdb, err := sqlitedb.Open(filepath.Join(cfg.DataDir, ExportFile))
		if err != nil {
			return err
		}
		e.closers = append(e.closers, xdb.Close)
		e.Exports = export.NewSQLite(xdb)
		pdb, err := sqlitedb.Open(filepath.Join(cfg.DataDir, versions.File))
		if err != nil {
			return err
		}
		e.closers = append(e.closers, pdb.Close)
		if e.Policies, err = versions.OpenSQLite(ctx, pdb); err != nil {
			return err
		}
		rdb, err := sqlitedb.Open(filepath.Join(cfg.DataDir, retention.File))
		if err != nil {
			return err
		}
		e.closers = append(e.closers, rdb.Close)
		if e.Retention, err = retention.OpenSQLite(ctx, rdb); err != nil {
			return err
		}
		jdb, err := sqlitedb.Open(filepath.Join(cfg.DataDir, assertions.File))
		if err != nil {
			return err
		}
		e.closers = append(e.closers, jdb.Close)
		e.Assertions, err = assertions.OpenSQLite(ctx, jdb, nil)
		return err
	}
	uri := cfg.URI
	if uri == "" {
		srv, err := embedded.Start(ctx, cfg.DataDir, cfg.Logger)
		if err != nil {
			return err
		}
		e.closers = append(e.closers, func() error { srv.Close(); return nil })
		uri = srv.URI()
	}
	opt := cfg.Store
	opt.Database, opt.Logger = cfg.Database, cfg.Logger
	st, err := store.Open(ctx, uri, opt)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() error { return st.Close(context.Background()) })
	e.Mongo, e.Resources = st, st
	if e.Audit, err = audit.Open(ctx, st.Database(), cfg.Audit); err != nil {
		return fmt.Errorf("open the audit trail: %w", err)
	}
	e.Ingest = ingest.New(st, cfg.Logger)
	e.Exports = export.NewMongo(st.Database())
	if e.Policies, err = versions.OpenMongo(ctx, st.Database()); err != nil {
		return err
	}
	if e.Retention, err = retention.OpenMongo(ctx, st.Database()); err != nil {
		return err
	}
	e.Assertions, err = assertions.OpenMongo(ctx, st.Database(), nil)
	return err
}

// Close closes the audit trail, the ingester and the databases, in the
// reverse order of opening.
func (e *Engine) Close(ctx context.Context) error {
	var errs []error
	if e.Ingest != nil {
		errs = append(errs, e.Ingest.Close(ctx))
	}
	if e.Audit != nil {
		errs = append(errs, e.Audit.Close(ctx))
	}
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i]())
	}
	return errors.Join(errs...)
}

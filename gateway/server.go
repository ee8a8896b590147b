package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/retention"
)

// Store is what the handlers need from the record store.
type Store interface {
	Read(ctx context.Context, resourceType, id string) (*store.Version, error)
	VRead(ctx context.Context, resourceType, id string, vid int64) (*store.Version, error)
	Create(ctx context.Context, res *fhir.Resource) (*store.Version, error)
	Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (store.WriteResult, error)
	Delete(ctx context.Context, resourceType, id string, ifMatch int64) (*store.Version, error)
	History(ctx context.Context, resourceType, id string, opt store.HistoryOptions) ([]*store.Version, bool, error)
	Search(ctx context.Context, q *search.Query, restrict store.Restrict) (*store.Page, error)
	Patients(ctx context.Context, q *search.Query, among ...string) ([]string, error)
	// Facts are the access facts the store keeps per patient (package
	// facts), read in one lookup.
	Facts(ctx context.Context, q facts.Query) ([]facts.Fact, error)
	Ping(ctx context.Context) error
}

var (
	_ Store = (*store.Store)(nil)
	_ Store = (*sqlstore.Store)(nil)
)

// factJoiner is a store that tests a patient's membership of a fact set
// in the query itself (the embedded engine): a search over a caller's
// whole caseload then carries the set, not the list of its patients.
type factJoiner interface{ JoinsFacts() bool }

func (s *Server) joinsFacts() bool {
	j, ok := s.store.(factJoiner)
	return ok && j.JoinsFacts()
}

// Config holds the HTTP edge's settings.
type Config struct {
	// BaseURL is the public base of the FHIR API used in fullUrl, Location
	// and links; when empty it is derived from each request's Host.
	BaseURL string
	// MaxBodyBytes caps request bodies (413 beyond).
	MaxBodyBytes int64
	// RequestTimeout bounds each request.
	RequestTimeout time.Duration
	// DefaultCount and MaxCount are the search page size and its cap.
	DefaultCount, MaxCount int
	// MaxBatchEntries caps the entries of a batch Bundle.
	MaxBatchEntries int
	// Version is the software version shown in the CapabilityStatement.
	Version string
	// Ingester stores social care records (/social-care/...); nil answers
	// those routes with 501.
	Ingester *ingest.Ingester
	// MaxImportBytes caps a bulk import's body (default 256 MB).
	MaxImportBytes int64
	// Auth verifies bearer tokens; Policy decides every interaction. Both
	// are required: without them every API request is refused.
	Auth   Authenticator
	Policy Policies
	// Audit records every interaction; a response is sent only once its
	// record is durable. Without it every API request is refused.
	Audit Auditor
	// AuditReader serves the audit trail to IG leads and to people asking
	// who has seen their record; usually the same *audit.Log as Audit.
	AuditReader AuditReader
	// PolicyVersions, when set, serves the access policy's versions at
	// /policy/versions (policyapi.go).
	PolicyVersions PolicyVersions
	// AuditRetention is how long the audit trail is kept (0: for ever),
	// as the agreement and the rights page say (agreement.go).
	AuditRetention time.Duration
	// DevSignIn, when set, offers the IG workbench's development sign-in
	// (workbench.go): demo people get tokens minted for DevAudience, e.g.
	// with the public development key (an *auth.DevKey). DEVELOPMENT
	// ONLY: the gateway sets it in development mode alone.
	DevSignIn   DevTokens
	DevAudience string
	// Retention keeps records-management decisions and Records purges
	// what an approved disposal names (retention.go); without both the
	// retention routes answer 501. RetentionEvery, when positive, runs
	// the appraisal in the background that often (daily in production),
	// audited, logging only counts.
	Retention      retention.Store
	Records        RecordKeeper
	RetentionEvery time.Duration
	// QualitySnapshotEvery, when positive, takes the data-quality
	// snapshots of the trend that often (daily in production;
	// quality_trend.go).
	QualitySnapshotEvery time.Duration
	// SMART, when set, serves /.well-known/smart-configuration and the
	// SMART Backend Services token endpoint (TokenPath). Auth must trust
	// the tokens it issues.
	SMART TokenEndpoint
	// RelationshipWindow is how far back an encounter counts as a care
	// relationship between an organisation and a person.
	RelationshipWindow time.Duration
	// Clock is the time summaries and data-quality reports are dated by
	// and their windows counted
	// from (default time.Now).
	Clock func() time.Time
	// Exports keeps Bulk Data export jobs; nil answers the $export routes
	// with 501. ExportDir holds their NDJSON files (one directory per
	// job), ExportExpiry is how long a finished export's files are kept
	// (default 24h), ExportPageSize the resources searched and decided at
	// a time (default MaxCount) and ExportFileResources the most in one
	// file (default 10,000).
	Exports             ExportJobs
	ExportDir           string
	ExportExpiry        time.Duration
	ExportPageSize      int
	ExportFileResources int
	// Now is the clock of export times and expiry (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.DefaultCount <= 0 {
		c.DefaultCount = 50
	}
	if c.MaxCount <= 0 {
		c.MaxCount = 1000
	}
	if c.MaxBatchEntries <= 0 {
		c.MaxBatchEntries = 500
	}
	if c.Version == "" {
		c.Version = "0.1.0"
	}
	if c.MaxImportBytes <= 0 {
		c.MaxImportBytes = 256 << 20
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.RelationshipWindow <= 0 {
		c.RelationshipWindow = 180 * 24 * time.Hour
	}
	if c.ExportExpiry <= 0 {
		c.ExportExpiry = 24 * time.Hour
	}
	if c.ExportPageSize <= 0 {
		c.ExportPageSize = c.MaxCount
	}
	if c.ExportFileResources <= 0 {
		c.ExportFileResources = 10000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Server is the gateway's HTTP handler.
type Server struct {
	cfg    Config
	store  Store
	logger *slog.Logger
	engine *gin.Engine
	// The exports running in the background (export_run.go): bg ends
	// when the server closes.
	bg      context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	running map[string]runningExport
	// exportPageHook, when set (tests), is called after each page an
	// export saves.
	exportPageHook func(job string)
	// engines are stored policy versions loaded to explain (explain.go).
	engines engineCache
}

// New builds the HTTP handler.
func New(cfg Config, st Store, logger *slog.Logger) *Server {
	cfg.defaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Auth == nil || cfg.Policy == nil {
		cfg.Auth, cfg.Policy = refuseAll{}, nil
	}
	if cfg.Audit == nil {
		cfg.Audit = refuseAudit{}
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, store: st, logger: logger, engine: gin.New(), running: map[string]runningExport{}}
	s.bg, s.stop = context.WithCancel(context.Background())
	s.routes()
	if cfg.RetentionEvery > 0 && cfg.Retention != nil && cfg.Records != nil {
		s.wg.Add(1)
		go s.every(cfg.RetentionEvery, s.appraisalJob)
	}
	if cfg.QualitySnapshotEvery > 0 {
		s.wg.Add(1)
		go s.every(cfg.QualitySnapshotEvery, s.snapshotJob)
	}
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully, letting in-flight requests finish (up to grace). It holds at
// most maxConns connections open at a time (0: no limit). ready, when not
// nil, is called with the bound address once listening.
func ListenAndServe(ctx context.Context, srv *http.Server, grace time.Duration, maxConns int, ready func(addr string)) error {
	ln, err := listen(srv.Addr)
	if err != nil {
		return err
	}
	ln = limit(ln, maxConns)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(sctx)
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

const gatewayTokenPath = gateway.TokenPath

// config is every setting of `gateway serve`. Each flag has an environment
// variable; a flag given on the command line wins over the environment.
type config struct {
	Addr            string
	Store           string
	MongoURI        string
	Database        string
	DataDir         string
	BaseURL         string
	Mode            string
	Demo            bool
	MaxBodyBytes    int64
	RequestTimeout  time.Duration
	IdleTimeout     time.Duration
	MaxConnections  int
	ShutdownGrace   time.Duration
	DefaultCount    int
	MaxCount        int
	LogLevel        string
	LogFormat       string
	PolicyDir       string
	PolicyPoll      time.Duration
	MinCoverage     float64
	IssuersFile     string
	Audience        string
	DevKeyDir       string
	SMARTClients    string
	SMARTKey        string
	SMARTTokenTTL   time.Duration
	Relationship    time.Duration
	ExportExpiry    time.Duration
	AuditRetention  time.Duration
	RecordRetention time.Duration
}

type setting struct {
	flag, env, usage string
	bind             func(fs *flag.FlagSet, name, usage string)
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("gateway serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := []setting{
		{"addr", "GATEWAY_ADDR", "listen address", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.Addr, n, "127.0.0.1:8080", u) }},
		{"store", "GATEWAY_STORE", "storage engine: sqlite (embedded, in -data-dir) or mongodb (default: mongodb with a MongoDB URI, sqlite without)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.Store, n, "", u) }},
		{"mongodb-uri", "MONGODB_URI", "MongoDB connection string (store mongodb; empty with -store mongodb starts the embedded FerretDB test server)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.MongoURI, n, "", u) }},
		{"database", "GATEWAY_DATABASE", "MongoDB database name", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.Database, n, "fhir", u) }},
		{"data-dir", "GATEWAY_DATA_DIR", "directory of the embedded engine's files", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.DataDir, n, "./data", u) }},
		{"base-url", "GATEWAY_BASE_URL", "public base URL of the FHIR API (default: from each request's Host)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.BaseURL, n, "", u) }},
		{"mode", "GATEWAY_MODE", "development or production (production refuses demo data and development keys)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.Mode, n, "development", u) }},
		{"demo", "GATEWAY_DEMO", "load the synthetic demo records at start-up (development mode only)", func(fs *flag.FlagSet, n, u string) { fs.BoolVar(&c.Demo, n, false, u) }},
		{"max-body-bytes", "GATEWAY_MAX_BODY_BYTES", "largest request body accepted", func(fs *flag.FlagSet, n, u string) { fs.Int64Var(&c.MaxBodyBytes, n, 4<<20, u) }},
		{"request-timeout", "GATEWAY_REQUEST_TIMEOUT", "time limit for one request", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.RequestTimeout, n, 30*time.Second, u) }},
		{"idle-timeout", "GATEWAY_IDLE_TIMEOUT", "how long an idle keep-alive connection stays open", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.IdleTimeout, n, 2*time.Minute, u) }},
		{"max-connections", "GATEWAY_MAX_CONNECTIONS", "most client connections open at once (more wait to be accepted)", func(fs *flag.FlagSet, n, u string) { fs.IntVar(&c.MaxConnections, n, 1024, u) }},
		{"shutdown-grace", "GATEWAY_SHUTDOWN_GRACE", "time in-flight requests get to finish on SIGTERM", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.ShutdownGrace, n, 20*time.Second, u) }},
		{"default-count", "GATEWAY_DEFAULT_COUNT", "search page size when _count is absent", func(fs *flag.FlagSet, n, u string) { fs.IntVar(&c.DefaultCount, n, 50, u) }},
		{"max-count", "GATEWAY_MAX_COUNT", "largest search page size (_count is capped to it)", func(fs *flag.FlagSet, n, u string) { fs.IntVar(&c.MaxCount, n, 1000, u) }},
		{"log-level", "GATEWAY_LOG_LEVEL", "debug, info, warn or error", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.LogLevel, n, "info", u) }},
		{"log-format", "GATEWAY_LOG_FORMAT", "json or text", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.LogFormat, n, "json", u) }},
		{"policy-dir", "GATEWAY_POLICY_DIR", "directory of the Rego policy, its data and tests: the first policy version of an empty database; in development mode a changed directory becomes a draft at start-up", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.PolicyDir, n, "policy", u) }},
		{"policy-poll", "GATEWAY_POLICY_POLL", "how often the gateway reads which policy version is active (every instance on the database serves it)", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.PolicyPoll, n, 5*time.Second, u) }},
		{"policy-min-coverage", "GATEWAY_POLICY_MIN_COVERAGE", "share (percent) of each rule's lines a policy version's Rego tests must evaluate to pass $test", func(fs *flag.FlagSet, n, u string) { fs.Float64Var(&c.MinCoverage, n, 50, u) }},
		{"trusted-issuers", "GATEWAY_TRUSTED_ISSUERS", "JSON file listing the trusted token issuers and their JWKS (see docs/authentication.md)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.IssuersFile, n, "", u) }},
		{"audience", "GATEWAY_AUDIENCE", "the aud value tokens must carry", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.Audience, n, "socialcare-fhir-gateway", u) }},
		{"dev-key-dir", "GATEWAY_DEV_KEY_DIR", "DEVELOPMENT: directory of the public development signing key, trusted in development mode only", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.DevKeyDir, n, "fixtures/devkeys", u) }},
		{"smart-clients", "GATEWAY_SMART_CLIENTS", "JSON file registering SMART Backend Services clients (turns on /.well-known/smart-configuration and " + gatewayTokenPath + "; see docs/authentication.md)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.SMARTClients, n, "", u) }},
		{"smart-signing-key", "GATEWAY_SMART_SIGNING_KEY", "PEM PKCS #8 key (ECDSA P-256 or RSA) signing SMART access tokens (development default: the public development key)", func(fs *flag.FlagSet, n, u string) { fs.StringVar(&c.SMARTKey, n, "", u) }},
		{"smart-token-ttl", "GATEWAY_SMART_TOKEN_TTL", "lifetime of SMART access tokens (at most 5m)", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.SMARTTokenTTL, n, 5*time.Minute, u) }},
		{"audit-retention", "GATEWAY_AUDIT_RETENTION", "how long audit records are kept (0: for ever); never shorter than -record-retention", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.AuditRetention, n, 0, u) }},
		{"record-retention", "GATEWAY_RECORD_RETENTION", "retention of the care records the audit describes: the floor for -audit-retention", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.RecordRetention, n, 8*365*24*time.Hour, u) }},
		{"export-expiry", "GATEWAY_EXPORT_EXPIRY", "how long a finished Bulk Data export's files are kept (under -data-dir/exports)", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.ExportExpiry, n, 24*time.Hour, u) }},
		{"relationship-window", "GATEWAY_RELATIONSHIP_WINDOW", "how far back an encounter counts as a care relationship", func(fs *flag.FlagSet, n, u string) { fs.DurationVar(&c.Relationship, n, 180*24*time.Hour, u) }},
	}
	for _, s := range settings {
		s.bind(fs, s.flag, s.usage+" (env "+s.env+")")
	}
	// Environment first, so that flags given on the command line win.
	for _, s := range settings {
		if v, ok := lookup(getenv, s.env); ok {
			if err := fs.Set(s.flag, v); err != nil {
				return nil, fmt.Errorf("environment variable %s: %w", s.env, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errUsage
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, c.check()
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

func (c *config) check() error {
	var problems []string
	switch c.Mode {
	case "development", "production":
	default:
		problems = append(problems, fmt.Sprintf("mode must be development or production, not %q", c.Mode))
	}
	if c.Mode == "production" && c.Demo {
		problems = append(problems, "demo data is a development convenience and is refused in production mode")
	}
	if c.Mode == "production" && c.IssuersFile == "" {
		problems = append(problems, "production mode needs -trusted-issuers: the development key is refused there")
	}
	problems = append(problems, c.checkSMART()...)
	if _, err := storage.Kind(c.Store, c.MongoURI); err != nil {
		problems = append(problems, err.Error())
	}
	if c.MaxBodyBytes < 1024 {
		problems = append(problems, "max-body-bytes must be at least 1024")
	}
	if c.RequestTimeout <= 0 || c.ShutdownGrace < 0 {
		problems = append(problems, "request-timeout must be positive and shutdown-grace not negative")
	}
	if c.IdleTimeout <= 0 || c.MaxConnections < 1 {
		problems = append(problems, "idle-timeout must be positive and max-connections at least 1")
	}
	if c.DefaultCount < 1 || c.MaxCount < c.DefaultCount {
		problems = append(problems, "default-count must be at least 1 and max-count at least default-count")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		problems = append(problems, err.Error())
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		problems = append(problems, "log-format must be json or text")
	}
	if len(problems) > 0 {
		return errors.New("invalid configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// checkSMART checks the SMART Backend Services settings: the token URL is
// the base URL's, and production signs with its own key.
func (c *config) checkSMART() []string {
	var problems []string
	if c.SMARTClients == "" {
		if c.SMARTKey != "" {
			problems = append(problems, "-smart-signing-key needs -smart-clients, the registered SMART clients")
		}
		return problems
	}
	if c.BaseURL == "" {
		problems = append(problems, "-smart-clients needs -base-url: client assertions must name the token URL, <base-url>"+gatewayTokenPath)
	}
	if c.Mode == "production" && c.SMARTKey == "" {
		problems = append(problems, "production mode needs -smart-signing-key: the development key is refused there")
	}
	if c.SMARTTokenTTL <= 0 || c.SMARTTokenTTL > auth.MaxAccessTokenTTL {
		problems = append(problems, "smart-token-ttl must be more than 0 and at most 5m")
	}
	return problems
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

func (c *config) logger() *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

package auth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Clock skew bounds.
const (
	DefaultClockSkew = 60 * time.Second
	MaxClockSkew     = 5 * time.Minute
)

// Config says which issuers the gateway trusts.
type Config struct {
	Issuers []Issuer
	// ClockSkew is the leeway allowed on exp, nbf and iat: 0 means
	// DefaultClockSkew; more than MaxClockSkew is refused.
	ClockSkew time.Duration
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
	// Production refuses DevIssuer and any key set holding the development
	// key: NewVerifier fails, and a refreshed key set holding it is ignored.
	Production bool
	// HTTPClient fetches JWKS URLs; nil means a client with a 10s timeout.
	HTTPClient *http.Client
	// Logger receives key set refresh failures (never tokens or claims);
	// nil discards them.
	Logger *slog.Logger
}

// Issuer is one trusted token issuer. Exactly one of JWKSFile, JWKSURL and
// JWKS gives its keys.
type Issuer struct {
	Issuer   string   // exact "iss" value
	Audience []string // accepted "aud" values: a token must name at least one
	JWKSFile string   // path of a JWK Set file, re-read when a kid is unknown
	JWKSURL  string   // https URL of a JWK Set, cached and refreshed
	JWKS     []byte   // an inline JWK Set, e.g. DevKey.JWKS() in demo mode
	// Kind, if set, is the only token shape this issuer may issue:
	// ShapeCIS2, ShapeCouncil, ShapeSystem or ShapePerson. Empty means the
	// shape is read from the claims.
	Kind string
}

// withDefaults checks cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.ClockSkew == 0:
		cfg.ClockSkew = DefaultClockSkew
	case cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew:
		return cfg, fmt.Errorf("auth: clock skew %s is outside 0 to %s", cfg.ClockSkew, MaxClockSkew)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: jwksFetchTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(cfg.Issuers) == 0 {
		return cfg, errors.New("auth: no trusted issuers configured")
	}
	seen := make(map[string]bool, len(cfg.Issuers))
	for i, iss := range cfg.Issuers {
		if err := iss.check(cfg.Production); err != nil {
			return cfg, fmt.Errorf("auth: issuer %d: %w", i, err)
		}
		if seen[iss.Issuer] {
			return cfg, fmt.Errorf("auth: issuer %q is configured twice", iss.Issuer)
		}
		seen[iss.Issuer] = true
	}
	return cfg, nil
}

func (iss Issuer) check(production bool) error {
	if iss.Issuer == "" {
		return errors.New("the issuer (iss) is empty")
	}
	if production && iss.Issuer == DevIssuer {
		return fmt.Errorf("production mode refuses the development issuer %s", DevIssuer)
	}
	if len(iss.Audience) == 0 {
		return fmt.Errorf("issuer %q has no audience", iss.Issuer)
	}
	for _, a := range iss.Audience {
		if a == "" {
			return fmt.Errorf("issuer %q has an empty audience", iss.Issuer)
		}
	}
	n := 0
	for _, set := range []bool{iss.JWKSFile != "", iss.JWKSURL != "", len(iss.JWKS) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("issuer %q needs exactly one of a JWKS file, a JWKS URL or an inline JWKS", iss.Issuer)
	}
	switch iss.Kind {
	case "", ShapeCIS2, ShapeCouncil, ShapeSystem, ShapePerson:
	default:
		return fmt.Errorf("issuer %q has kind %q; want %s, %s, %s, %s or empty",
			iss.Issuer, iss.Kind, ShapeCIS2, ShapeCouncil, ShapeSystem, ShapePerson)
	}
	return nil
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Key set caching. Fixed, not configured: they follow common identity
// provider practice (keys overlap for hours when rotated).
const (
	// jwksRefreshEvery is how old a key set may get before a request
	// triggers a background refresh.
	jwksRefreshEvery = 15 * time.Minute
	// jwksMinRefetch is the least time between two fetches, so tokens with
	// made-up kids cannot make the gateway hammer an identity provider.
	jwksMinRefetch = 30 * time.Second
	// jwksFetchTimeout bounds one fetch.
	jwksFetchTimeout = 10 * time.Second
	// maxJWKSBytes bounds a key set document.
	maxJWKSBytes = 1 << 20
)

// errDevKey is returned when production mode meets the development key.
var errDevKey = errors.New("the key set contains the development signing key, which production mode refuses")

// keyTable is one immutable snapshot of a key set.
type keyTable struct {
	keys    map[string]*publicKey
	fetched time.Time
}

// keySource holds the current keys of one issuer and fetches them again
// from their file or URL when a kid is unknown or the set is old.
type keySource struct {
	name      string                                // file path or URL, for messages
	load      func(context.Context) ([]byte, error) // nil for inline key sets
	now       func() time.Time
	refuseDev bool
	logger    *slog.Logger
	algs      keyAlgs // the algorithm family its keys verify

	cur        atomic.Pointer[keyTable]
	refreshing atomic.Bool
	mu         sync.Mutex // serialises fetches; guards lastFetch
	lastFetch  time.Time
}

func newKeySource(ctx context.Context, iss Issuer, cfg *Config) (*keySource, error) {
	return newKeySourceFor(ctx, iss, cfg, bearerAlgs)
}

// newKeySourceFor is newKeySource for keys of the algorithm family algs.
func newKeySourceFor(ctx context.Context, iss Issuer, cfg *Config, algs keyAlgs) (*keySource, error) {
	s := &keySource{now: cfg.Now, refuseDev: cfg.Production, logger: cfg.Logger, algs: algs}
	switch {
	case iss.JWKSFile != "":
		path := iss.JWKSFile
		s.name = "JWKS file " + path
		s.load = func(context.Context) ([]byte, error) { return readFileLimited(path) }
	case iss.JWKSURL != "":
		u, err := jwksURL(iss.JWKSURL)
		if err != nil {
			return nil, err
		}
		s.name = "JWKS " + u.Redacted()
		client := cfg.HTTPClient
		s.load = func(ctx context.Context) ([]byte, error) { return fetchURL(ctx, client, u.String()) }
	default:
		s.name = "inline JWKS"
		inline := append([]byte(nil), iss.JWKS...)
		s.load = func(context.Context) ([]byte, error) { return inline, nil }
	}
	s.lastFetch = s.now()
	if err := s.fetch(ctx); err != nil {
		return nil, err
	}
	if iss.JWKSFile == "" && iss.JWKSURL == "" {
		s.load = nil // inline keys never change
	}
	return s, nil
}

// fetch loads and parses the key set and makes it current. The caller holds
// mu, or is the constructor.
func (s *keySource) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, jwksFetchTimeout)
	defer cancel()
	data, err := s.load(ctx)
	if err != nil {
		return fmt.Errorf("loading %s: %w", s.name, err)
	}
	keys, err := parseKeySet(data, s.algs)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if s.refuseDev {
		for kid, k := range keys {
			if kid == DevKeyID || k.thumbprint == DevKeyID {
				return fmt.Errorf("%s: %w", s.name, errDevKey)
			}
		}
	}
	s.cur.Store(&keyTable{keys: keys, fetched: s.now()})
	return nil
}

// key returns the key named kid. A known key is returned at once (and an old
// set is refreshed in the background); an unknown kid makes the set be
// fetched again, at most once per jwksMinRefetch.
func (s *keySource) key(ctx context.Context, kid string) (*publicKey, error) {
	t := s.cur.Load()
	if k, ok := t.keys[kid]; ok {
		if s.load != nil && s.now().Sub(t.fetched) > jwksRefreshEvery {
			s.refreshInBackground()
		}
		return k, nil
	}
	if s.load == nil {
		return nil, errUnknownKey(nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.cur.Load().keys[kid]; ok { // fetched while we waited
		return k, nil
	}
	now := s.now()
	if now.Sub(s.lastFetch) < jwksMinRefetch {
		return nil, errUnknownKey(nil)
	}
	s.lastFetch = now
	if err := s.fetch(ctx); err != nil {
		return nil, errUnknownKey(err)
	}
	if k, ok := s.cur.Load().keys[kid]; ok {
		return k, nil
	}
	return nil, errUnknownKey(nil)
}

func errUnknownKey(cause error) *TokenError {
	return &TokenError{Reason: ReasonUnknownKey, Msg: "the token's kid names no key of its issuer's key set", Err: cause}
}

// refreshInBackground fetches the key set again without holding up the
// request that noticed it was old; on failure the previous keys stay.
func (s *keySource) refreshInBackground() {
	if !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.refreshing.Store(false)
		s.mu.Lock()
		defer s.mu.Unlock()
		now := s.now()
		if now.Sub(s.cur.Load().fetched) <= jwksRefreshEvery || now.Sub(s.lastFetch) < jwksMinRefetch {
			return
		}
		s.lastFetch = now
		if err := s.fetch(context.Background()); err != nil {
			s.logger.Warn("auth: key set refresh failed; keeping the previous keys", "source", s.name, "error", err)
		}
	}()
}

func readFileLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("key set is larger than %d bytes", maxJWKSBytes)
	}
	return data, nil
}

func fetchURL(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	return readLimited(resp.Body)
}

// jwksURL accepts https URLs, and http only to a loopback address (tests,
// or an identity provider's sidecar).
func jwksURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("JWKS URL: %w", err)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("JWKS URL %s must use https (http is allowed only to a loopback address)", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("JWKS URL %s must use https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("JWKS URL %s has no host", u.Redacted())
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

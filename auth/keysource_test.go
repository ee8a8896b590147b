package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock, safe for the background refresh to read.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// jwksServer serves a JWK Set that the test can replace, counting fetches.
type jwksServer struct {
	mu     sync.Mutex
	body   []byte
	status int
	hits   int
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	if s.status != 0 {
		w.WriteHeader(s.status)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(s.body)
}

func (s *jwksServer) serve(t *testing.T, status int, signers ...*signer) {
	t.Helper()
	b, err := jwksOf(signers...)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = b, status
}

func (s *jwksServer) fetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

const idpIssuer = "https://idp.test"

func idpToken(t *testing.T, s *signer, now time.Time) string {
	m := systemClaims()
	m["iss"] = idpIssuer
	m["iat"], m["nbf"], m["exp"] = now.Unix(), now.Unix(), now.Unix()+300
	return mustSign(t, s, m)
}

func TestJWKSRotationFromURL(t *testing.T) {
	ctx := context.Background()
	k1, k2, k3 := newECSigner(t, "k1"), newRSASigner(t, "k2"), newECSigner(t, "k3")
	js := &jwksServer{}
	js.serve(t, 0, k1)
	srv := httptest.NewServer(js) // listens on 127.0.0.1
	defer srv.Close()
	clock := &fakeClock{t: testNow()}
	v, err := NewVerifier(ctx, Config{
		Issuers: []Issuer{{Issuer: idpIssuer, Audience: []string{testAud}, JWKSURL: srv.URL + "/jwks.json", Kind: ShapeSystem}},
		Now:     clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	accept := func(step string, s *signer) {
		t.Helper()
		if _, err := v.Verify(ctx, idpToken(t, s, clock.Now())); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	refuse := func(step string, s *signer) {
		t.Helper()
		id, err := v.Verify(ctx, idpToken(t, s, clock.Now()))
		checkRefused(t, id, err, ReasonUnknownKey)
	}
	wantFetches := func(step string, n int) {
		t.Helper()
		if got := js.fetches(); got != n {
			t.Fatalf("%s: %d fetches; want %d", step, got, n)
		}
	}

	wantFetches("start", 1)
	accept("known key", k1)
	wantFetches("known key is served from the cache", 1)

	js.serve(t, 0, k1, k2)
	refuse("new kid within the rate limit", k2)
	wantFetches("rate limited", 1)

	clock.Advance(jwksMinRefetch + time.Second)
	accept("new kid after the rate limit", k2)
	wantFetches("unknown kid refetches", 2)
	refuse("made-up kid right after a fetch", k3)
	wantFetches("made-up kid is rate limited", 2)

	// Periodic refresh: an old set is refreshed in the background while the
	// cached key keeps working; the retired key then disappears.
	js.serve(t, 0, k2)
	clock.Advance(jwksRefreshEvery + time.Second)
	accept("cached key on an old set", k1)
	waitFor(t, func() bool { return js.fetches() == 3 })
	waitFor(t, func() bool {
		_, err := v.Verify(ctx, idpToken(t, k1, clock.Now()))
		return err != nil
	})
	refuse("retired key after refresh", k1)
	accept("current key after refresh", k2)

	// A failing identity provider leaves the last good keys in place.
	js.serve(t, http.StatusInternalServerError)
	clock.Advance(jwksRefreshEvery + time.Second)
	accept("cached key while the provider fails", k2)
	waitFor(t, func() bool { return js.fetches() == 4 })
	accept("cached key after a failed refresh", k2)
}

func TestJWKSRotationFromFile(t *testing.T) {
	ctx := context.Background()
	k1, k2 := newECSigner(t, "k1"), newECSigner(t, "k2")
	path := filepath.Join(t.TempDir(), "jwks.json")
	write := func(signers ...*signer) {
		b, err := jwksOf(signers...)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(k1)
	clock := &fakeClock{t: testNow()}
	v, err := NewVerifier(ctx, Config{
		Issuers: []Issuer{{Issuer: idpIssuer, Audience: []string{testAud}, JWKSFile: path}},
		Now:     clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	write(k1, k2)
	clock.Advance(jwksMinRefetch + time.Second)
	if _, err := v.Verify(ctx, idpToken(t, k2, clock.Now())); err != nil {
		t.Fatalf("key added to the file: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

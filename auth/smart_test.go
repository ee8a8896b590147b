package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	tokenURL   = "https://gateway.test/auth/token"
	smartIss   = "https://gateway.test/auth"
	rsaClient  = "trust-rs384"
	ecClient   = "trust-es384"
	urlClient  = "trust-jwks-url"
	narrowOnly = "trust-patient-only"
)

// smartFixture is a token service with clients registered by inline JWKS
// (RS384 and ES384) and by JWKS URL, on an injectable clock.
type smartFixture struct {
	svc            *TokenService
	rsa, ec, url   *signer
	jwksURL        string
	now            time.Time
	served         atomic.Pointer[[]byte] // the URL client's current key set
	devKey         *DevKey
	accessVerifier *Verifier
}

func newSmartFixture(t *testing.T) *smartFixture {
	t.Helper()
	f := &smartFixture{now: testNow(), rsa: newRSASigner(t, "rsa-384"), ec: newP384Signer(t, "ec-384"), url: newP384Signer(t, "url-1")}
	f.rsa.rs384 = true
	f.devKey = newFixture(t).dev
	f.serve(t, f.url)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(*f.served.Load()) }))
	t.Cleanup(srv.Close)
	f.jwksURL = srv.URL + "/jwks.json"
	f.svc = f.service(t, TokenServiceConfig{})
	var err error
	f.accessVerifier, err = NewVerifier(context.Background(), Config{Issuers: []Issuer{f.svc.TrustedIssuer()}, Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *smartFixture) clock() time.Time { return f.now }

// serve publishes the signers' public keys at the URL client's JWKS URL.
func (f *smartFixture) serve(t *testing.T, signers ...*signer) {
	t.Helper()
	b, err := jwksOf(signers...)
	if err != nil {
		t.Fatal(err)
	}
	f.served.Store(&b)
}

// service builds a token service over the fixture's clients; cfg's zero
// fields get the fixture's values.
func (f *smartFixture) service(t *testing.T, cfg TokenServiceConfig) *TokenService {
	t.Helper()
	rsaJWKS, err := jwksOf(f.rsa)
	if err != nil {
		t.Fatal(err)
	}
	ecJWKS, err := jwksOf(f.ec)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Clients == nil {
		cfg.Clients = []Client{
			{ID: rsaClient, JWKS: rsaJWKS, Org: "ryq", Purpose: "TREAT", Scopes: []string{"system/*.rs"}},
			{ID: ecClient, JWKS: ecJWKS, Org: "RYQ", Purpose: "TREAT", Scopes: []string{"system/*.rs"}},
			{ID: urlClient, JWKSURL: f.jwksURL, Org: "RJ1", Purpose: "COC", Scopes: []string{"system/*.read"}},
			{ID: narrowOnly, JWKS: ecJWKS, Org: "RYQ", Purpose: "TREAT", Scopes: []string{"system/Patient.rs"}},
		}
	}
	if cfg.Key == nil {
		cfg.Key = newECSigner(t, "").key
	}
	cfg.TokenURL, cfg.Issuer, cfg.Audience, cfg.Now = tokenURL, smartIss, testAud, f.clock
	svc, err := NewTokenService(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newP384Signer(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, key: k}
}

// assertion is a valid client assertion of client at the fixture's time.
func (f *smartFixture) assertion(client, jti string) map[string]any {
	return map[string]any{"iss": client, "sub": client, "aud": tokenURL, "jti": jti, "exp": f.now.Add(4 * time.Minute).Unix()}
}

func (f *smartFixture) request(t *testing.T, s *signer, claims map[string]any, scope string) TokenRequest {
	t.Helper()
	return TokenRequest{GrantType: GrantClientCredentials, ClientAssertionType: AssertionType,
		ClientAssertion: mustSign(t, s, claims), Scope: scope}
}

func oauthCode(t *testing.T, err error) string {
	t.Helper()
	var oe *OAuthError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v; want an *OAuthError", err)
	}
	return oe.Code
}

// TestTokenServiceAccepts: RS384 and ES384 assertions, inline and by URL,
// get access tokens the verifier turns into the client's system Identity.
func TestTokenServiceAccepts(t *testing.T) {
	f := newSmartFixture(t)
	for _, tc := range []struct {
		note, client, scope, wantScope, org, purpose string
		s                                            *signer
		header                                       map[string]any
	}{
		{note: "RS384", client: rsaClient, s: f.rsa, scope: "system/*.rs", wantScope: "system/*.rs", org: "RYQ", purpose: "TREAT"},
		{note: "ES384", client: ecClient, s: f.ec, scope: "system/Patient.rs system/Encounter.rs", wantScope: "system/Patient.rs system/Encounter.rs", org: "RYQ", purpose: "TREAT"},
		{note: "JWKS URL, v1 scope", client: urlClient, s: f.url, scope: "system/Patient.read", wantScope: "system/Patient.rs", org: "RJ1", purpose: "COC"},
		{note: "jku naming the registered URL", client: urlClient, s: f.url, scope: "system/*.rs", wantScope: "system/*.rs", org: "RJ1", purpose: "COC",
			header: map[string]any{"alg": algES384, "typ": "JWT", "kid": "url-1", "jku": f.jwksURL}},
		{note: "unregistered scopes are left out", client: narrowOnly, s: f.ec, scope: "system/Patient.rs system/Encounter.rs", wantScope: "system/Patient.rs", org: "RYQ", purpose: "TREAT"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			claims := f.assertion(tc.client, "jti-"+tc.note)
			req := f.request(t, tc.s, claims, tc.scope)
			if tc.header != nil {
				var err error
				if req.ClientAssertion, err = tc.s.signWithHeader(tc.header, claims); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := f.svc.Token(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.TokenType != "bearer" || resp.ExpiresIn != 300 || resp.Scope != tc.wantScope {
				t.Errorf("response %+v; want bearer, 300 s, scope %q", resp, tc.wantScope)
			}
			id, err := f.accessVerifier.Verify(context.Background(), resp.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if id.Kind != KindSystem || id.Subject != tc.client || id.Org != tc.org || id.Purpose != tc.purpose || !id.Scoped || id.ScopeString() != tc.wantScope {
				t.Errorf("identity %+v; want system %s for %s, %s, scoped %q", id, tc.client, tc.org, tc.purpose, tc.wantScope)
			}
		})
	}
}

// TestTokenServiceRefuses checks every refusal of a token request.
func TestTokenServiceRefuses(t *testing.T) {
	f := newSmartFixture(t)
	rs256 := newRSASigner(t, "rsa-384")
	rs256.key = f.rsa.key // the registered key, signing RS256
	good := func(jti string) map[string]any { return f.assertion(rsaClient, jti) }
	edit := func(jti string, e func(map[string]any)) map[string]any { c := good(jti); e(c); return c }
	hs, err := hs256(`{"alg":"HS256","kid":"rsa-384","typ":"JWT"}`, mustJSON(t, good("hs")), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	none := b64.EncodeToString([]byte(`{"alg":"none","kid":"rsa-384"}`)) + "." + b64.EncodeToString(mustJSON(t, good("none"))) + "."
	parts := strings.Split(mustSign(t, f.rsa, good("sig")), ".")
	forged := parts[0] + "." + b64.EncodeToString(mustJSON(t, edit("sig", func(c map[string]any) { c["exp"] = f.now.Add(time.Minute).Unix() }))) + "." + parts[2]
	jkuOther, err := f.url.signWithHeader(map[string]any{"alg": algES384, "typ": "JWT", "kid": "url-1", "jku": "https://evil.test/jwks.json"}, f.assertion(urlClient, "jku"))
	if err != nil {
		t.Fatal(err)
	}
	jkuInline, err := f.rsa.signWithHeader(map[string]any{"alg": algRS384, "typ": "JWT", "kid": "rsa-384", "jku": f.jwksURL}, good("jku-inline"))
	if err != nil {
		t.Fatal(err)
	}
	form := func(assertion string) TokenRequest {
		return TokenRequest{GrantType: GrantClientCredentials, ClientAssertionType: AssertionType, ClientAssertion: assertion, Scope: "system/*.rs"}
	}
	tests := []struct {
		note string
		req  TokenRequest
		want string
	}{
		{"RS256 refused", form(mustSign(t, rs256, good("rs256"))), OAuthInvalidClient},
		{"HS256 refused", form(hs), OAuthInvalidClient},
		{"none refused", form(none), OAuthInvalidClient},
		{"ES256 (P-256) refused", form(mustSign(t, newECSigner(t, "ec-384"), f.assertion(ecClient, "es256"))), OAuthInvalidClient},
		{"wrong aud", form(mustSign(t, f.rsa, edit("aud", func(c map[string]any) { c["aud"] = "https://gateway.test/fhir" }))), OAuthInvalidClient},
		{"iss is not sub", form(mustSign(t, f.rsa, edit("sub", func(c map[string]any) { c["sub"] = ecClient }))), OAuthInvalidClient},
		{"exp more than 5 minutes ahead", form(mustSign(t, f.rsa, edit("far", func(c map[string]any) { c["exp"] = f.now.Add(7 * time.Minute).Unix() }))), OAuthInvalidClient},
		{"expired", form(mustSign(t, f.rsa, edit("old", func(c map[string]any) { c["exp"] = f.now.Add(-2 * time.Minute).Unix() }))), OAuthInvalidClient},
		{"no exp", form(mustSign(t, f.rsa, edit("noexp", func(c map[string]any) { delete(c, "exp") }))), OAuthInvalidClient},
		{"no jti", form(mustSign(t, f.rsa, edit("", func(c map[string]any) { delete(c, "jti") }))), OAuthInvalidClient},
		{"unknown client", form(mustSign(t, f.rsa, edit("who", func(c map[string]any) { c["iss"], c["sub"] = "stranger", "stranger" }))), OAuthInvalidClient},
		{"unknown kid", form(mustSign(t, &signer{kid: "rsa-999", key: f.rsa.key, rs384: true}, good("kid"))), OAuthInvalidClient},
		{"key of another client", form(mustSign(t, &signer{kid: "rsa-384", key: newRSASigner(t, "x").key, rs384: true}, good("other-key"))), OAuthInvalidClient},
		{"bad signature", form(forged), OAuthInvalidClient},
		{"jku not the registered URL", form(jkuOther), OAuthInvalidClient},
		{"jku for a client registered inline", form(jkuInline), OAuthInvalidClient},
		{"not a JWT", form("not-a-jwt"), OAuthInvalidClient},
		{"grant type", TokenRequest{GrantType: "authorization_code", ClientAssertionType: AssertionType, ClientAssertion: mustSign(t, f.rsa, good("g")), Scope: "system/*.rs"}, OAuthUnsupportedGrant},
		{"no grant type", TokenRequest{ClientAssertionType: AssertionType, ClientAssertion: mustSign(t, f.rsa, good("g")), Scope: "system/*.rs"}, OAuthInvalidRequest},
		{"assertion type", TokenRequest{GrantType: GrantClientCredentials, ClientAssertionType: "password", ClientAssertion: mustSign(t, f.rsa, good("t")), Scope: "system/*.rs"}, OAuthInvalidRequest},
		{"no assertion", TokenRequest{GrantType: GrantClientCredentials, ClientAssertionType: AssertionType, Scope: "system/*.rs"}, OAuthInvalidRequest},
		{"no scope", f.request(t, f.rsa, good("s0"), ""), OAuthInvalidScope},
		{"write scope", f.request(t, f.rsa, good("s1"), "system/*.cud"), OAuthInvalidScope},
		{"v1 write scope", f.request(t, f.rsa, good("s2"), "system/Patient.write"), OAuthInvalidScope},
		{"read and write", f.request(t, f.rsa, good("s3"), "system/*.cruds"), OAuthInvalidScope},
		{"unknown type", f.request(t, f.rsa, good("s4"), "system/Spaceship.rs"), OAuthInvalidScope},
		{"user scope", f.request(t, f.rsa, good("s5"), "user/*.rs"), OAuthInvalidScope},
		{"query scope", f.request(t, f.rsa, good("s6"), "system/Observation.rs?category=vital-signs"), OAuthInvalidScope},
		{"scope not registered", f.request(t, f.ec, f.assertion(narrowOnly, "s7"), "system/*.rs"), OAuthInvalidScope},
		{"client_id not iss", TokenRequest{GrantType: GrantClientCredentials, ClientAssertionType: AssertionType, ClientAssertion: mustSign(t, f.rsa, good("cid")), Scope: "system/*.rs", ClientID: ecClient}, OAuthInvalidClient},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			_, err := f.svc.Token(context.Background(), tc.req)
			if got := oauthCode(t, err); got != tc.want {
				t.Fatalf("error %v; want %s", err, tc.want)
			}
			var oe *OAuthError
			errors.As(err, &oe)
			if tc.req.ClientAssertion != "" && strings.Contains(oe.Description, strings.Split(tc.req.ClientAssertion, ".")[0]) {
				t.Errorf("description %q echoes the assertion", oe.Description)
			}
			if (oe.Code == OAuthInvalidClient) != (oe.Status() == http.StatusUnauthorized) {
				t.Errorf("%s answered with status %d", oe.Code, oe.Status())
			}
		})
	}
}

// TestTokenServiceReplay: a jti is accepted once while the assertion is
// valid, and the same jti from another client is another assertion.
func TestTokenServiceReplay(t *testing.T) {
	f := newSmartFixture(t)
	claims := f.assertion(rsaClient, "once")
	req := f.request(t, f.rsa, claims, "system/*.rs")
	if _, err := f.svc.Token(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.svc.Token(context.Background(), req); oauthCode(t, err) != OAuthInvalidClient {
		t.Fatalf("replayed assertion: %v; want invalid_client", err)
	}
	again := f.request(t, f.rsa, f.assertion(rsaClient, "once"), "system/*.rs") // new exp, same jti
	if _, err := f.svc.Token(context.Background(), again); oauthCode(t, err) != OAuthInvalidClient {
		t.Fatalf("reused jti: %v; want invalid_client", err)
	}
	if _, err := f.svc.Token(context.Background(), f.request(t, f.ec, f.assertion(ecClient, "once"), "system/*.rs")); err != nil {
		t.Fatalf("another client's jti: %v", err)
	}
}

// TestTokenServiceKeyRotation: a client publishing a new key at its JWKS
// URL can use it at once.
func TestTokenServiceKeyRotation(t *testing.T) {
	f := newSmartFixture(t)
	rotated := newP384Signer(t, "url-2")
	f.serve(t, rotated)
	f.now = f.now.Add(time.Minute) // past the refetch rate limit
	if _, err := f.svc.Token(context.Background(), f.request(t, rotated, f.assertion(urlClient, "rotated"), "system/*.rs")); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
}

// TestTokenServiceConfig: production needs clients and refuses the
// development key; registrations are checked.
func TestTokenServiceConfig(t *testing.T) {
	f := newSmartFixture(t)
	ecJWKS, err := jwksOf(f.ec)
	if err != nil {
		t.Fatal(err)
	}
	client := func(e func(*Client)) []Client {
		c := Client{ID: "c", JWKS: ecJWKS, Org: "RYQ", Purpose: "TREAT", Scopes: []string{"system/*.rs"}}
		e(&c)
		return []Client{c}
	}
	base := TokenServiceConfig{TokenURL: tokenURL, Issuer: smartIss, Audience: testAud, Key: newECSigner(t, "").key}
	for _, tc := range []struct {
		note string
		edit func(*TokenServiceConfig)
		want string
	}{
		{"production without clients", func(c *TokenServiceConfig) { c.Production, c.Clients = true, nil }, "at least one registered"},
		{"production with the development key", func(c *TokenServiceConfig) {
			c.Production, c.Key, c.Clients = true, f.devKey.Signer(), client(func(*Client) {})
		}, "development key"},
		{"write scope registered", func(c *TokenServiceConfig) {
			c.Clients = client(func(c *Client) { c.Scopes = []string{"system/*.cruds"} })
		}, "scope"},
		{"no scopes", func(c *TokenServiceConfig) { c.Clients = client(func(c *Client) { c.Scopes = nil }) }, "no scopes"},
		{"bad org", func(c *TokenServiceConfig) { c.Clients = client(func(c *Client) { c.Org = "R-Y" }) }, "ODS code"},
		{"break glass purpose", func(c *TokenServiceConfig) { c.Clients = client(func(c *Client) { c.Purpose = "BTG" }) }, "purpose"},
		{"two key sources", func(c *TokenServiceConfig) { c.Clients = client(func(c *Client) { c.JWKSFile = "x.json" }) }, "exactly one"},
		{"P-256 client key", func(c *TokenServiceConfig) {
			c.Clients = client(func(c *Client) { c.JWKS, _ = jwksOf(newECSigner(t, "p256")) })
		}, "no RS384 or ES384"},
		{"twice", func(c *TokenServiceConfig) { c.Clients = append(client(func(*Client) {}), client(func(*Client) {})...) }, "twice"},
		{"long TTL", func(c *TokenServiceConfig) { c.TTL = time.Hour }, "lifetime"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			if _, err := NewTokenService(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one mentioning %q", err, tc.want)
			}
		})
	}
	cfg := base
	cfg.Key, cfg.Clients = f.devKey.Signer(), client(func(*Client) {})
	if _, err := NewTokenService(context.Background(), cfg); err != nil {
		t.Errorf("development mode with the development key: %v", err)
	}
}

// TestTokenScopes: SMART scopes in a token restrict it; other scope
// values (CIS2's) and no scope claim leave it unrestricted.
func TestTokenScopes(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		note       string
		scope      any
		scoped     bool
		patient    bool // may read Patient
		encounters bool // may search Encounter
	}{
		{note: "no scope claim", scope: nil, patient: true, encounters: true},
		{note: "CIS2 scopes", scope: "openid profile nationalrbacaccess selectedrole", patient: true, encounters: true},
		{note: "system/*.rs", scope: "system/*.rs", scoped: true, patient: true, encounters: true},
		{note: "system/Patient.rs", scope: "system/Patient.rs", scoped: true, patient: true},
		{note: "array", scope: []string{"system/Encounter.s"}, scoped: true, encounters: true},
		{note: "write scope grants nothing", scope: "system/*.cud", scoped: true},
	} {
		t.Run(tc.note, func(t *testing.T) {
			c := systemClaims()
			if tc.scope != nil {
				c["scope"] = tc.scope
			}
			id, err := f.v.Verify(context.Background(), mustSign(t, &f.dev.s, c))
			if err != nil {
				t.Fatal(err)
			}
			if id.Scoped != tc.scoped || id.Allows("Patient", false) != tc.patient || id.Allows("Encounter", true) != tc.encounters {
				t.Errorf("scoped %v, Patient read %v, Encounter search %v; want %v %v %v",
					id.Scoped, id.Allows("Patient", false), id.Allows("Encounter", true), tc.scoped, tc.patient, tc.encounters)
			}
		})
	}
}

func TestParseScope(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "system/*.rs", want: "system/*.rs"},
		{in: "system/Patient.r", want: "system/Patient.r"},
		{in: "system/Patient.read", want: "system/Patient.rs"},
		{in: "system/Patient.sr", err: "order"},
		{in: "system/Patient.rr", err: "order"},
		{in: "system/Patient.", err: "order"},
		{in: "system/Patient.rsx", err: "order"},
		{in: "system/Patient.c", err: "read and search only"},
		{in: "system/*.*", err: "read and search only"},
		{in: "openid", err: "not a SMART resource scope"},
		{in: "launch/patient", err: "not a SMART resource scope"},
		{in: "system/patient.rs", err: "no resource type"},
	} {
		sc, err := ParseScope(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v; want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || sc.String() != tc.want):
			t.Errorf("%s: %v %v; want %s", tc.in, sc, err, tc.want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

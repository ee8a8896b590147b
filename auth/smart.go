package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// SMART Backend Services (SMART App Launch 2, "Backend Services" and
// "Client Authentication: Asymmetric"): a registered system authenticates
// with a JWT signed by its own key (RFC 7523 private_key_jwt) and gets a
// short-lived access token signed by the gateway.
const (
	// GrantClientCredentials is the only grant_type of the token endpoint.
	GrantClientCredentials = "client_credentials"
	// AssertionType is the client_assertion_type of a JWT client assertion.
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// MaxAssertionLifetime bounds how far ahead a client assertion's exp
	// may be (SMART: "no more than five minutes in the future").
	MaxAssertionLifetime = 5 * time.Minute
	// MaxAccessTokenTTL bounds, and is the default of, an access token's
	// lifetime.
	MaxAccessTokenTTL = 5 * time.Minute
)

// OAuth 2.0 token endpoint error codes (RFC 6749 section 5.2).
const (
	OAuthInvalidRequest    = "invalid_request"
	OAuthInvalidClient     = "invalid_client"
	OAuthInvalidGrant      = "invalid_grant"
	OAuthInvalidScope      = "invalid_scope"
	OAuthUnsupportedGrant  = "unsupported_grant_type"
	OAuthUnavailable       = "temporarily_unavailable"
	oauthInvalidClientCode = http.StatusUnauthorized
)

// OAuthError is a token endpoint refusal, answered as RFC 6749 section 5.2
// JSON. Description says what to fix; it never echoes the assertion.
type OAuthError struct {
	Code        string
	Description string
	Err         error // cause, for logs
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func (e *OAuthError) Unwrap() error { return e.Err }

// Status is the HTTP status of the refusal: 401 for invalid_client, 503
// when the replay store failed, 400 otherwise.
func (e *OAuthError) Status() int {
	switch e.Code {
	case OAuthInvalidClient:
		return oauthInvalidClientCode
	case OAuthUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func oauthErr(code, desc string) *OAuthError { return &OAuthError{Code: code, Description: desc} }

// Client is one registered backend service. Exactly one of JWKS, JWKSFile
// and JWKSURL gives its public keys (RS384 RSA keys or ES384 P-384 keys).
// Org and Purpose say whom and why it acts for; the kind of Org comes
// from the data sharing agreement, never from here.
type Client struct {
	ID       string
	JWKS     []byte
	JWKSFile string
	JWKSURL  string
	Org      string   // ODS code of the organisation it acts for
	Purpose  string   // v3-ActReason purpose of use, e.g. TREAT
	Scopes   []string // the scopes it may be granted, e.g. system/*.rs
}

// TokenServiceConfig configures the SMART token endpoint.
type TokenServiceConfig struct {
	// TokenURL is the token endpoint's public URL: the aud client
	// assertions must name.
	TokenURL string
	// Issuer is the iss of the access tokens; Audience their aud (the
	// audience the gateway's verifier accepts).
	Issuer, Audience string
	Clients          []Client
	// Key signs access tokens: an ECDSA P-256 (ES256) or RSA (RS256) key.
	Key crypto.Signer
	// TTL is the access token lifetime: 0 means MaxAccessTokenTTL.
	TTL time.Duration
	// ClockSkew is the leeway on assertion times: 0 means DefaultClockSkew.
	ClockSkew time.Duration
	// JTIs remembers assertion ids; nil keeps them in this process's
	// memory, which is right for one gateway instance only (the gateway
	// passes its database's store, package assertions).
	JTIs JTIStore
	// Now, Production, HTTPClient and Logger are as in [Config].
	Now        func() time.Time
	Production bool
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// TokenService is the SMART Backend Services token endpoint's logic. It is
// safe for concurrent use.
type TokenService struct {
	cfg     TokenServiceConfig
	clients map[string]*registeredClient
	signer  signer
	jwks    []byte
}

type registeredClient struct {
	Client
	scopes []Scope
	keys   *keySource
}

// TokenRequest is the form of a token request.
type TokenRequest struct {
	GrantType, ClientAssertionType, ClientAssertion, Scope string
	ClientID                                               string // optional; must then be the assertion's iss
}

// TokenResponse is a successful token response (RFC 6749 section 5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// NewTokenService checks the configuration and loads every client's key
// set. Production mode requires at least one client and refuses the
// development key, as signing key or among a client's keys.
func NewTokenService(ctx context.Context, cfg TokenServiceConfig) (*TokenService, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &TokenService{cfg: cfg, clients: map[string]*registeredClient{}, signer: signer{key: cfg.Key}}
	if err := s.loadSigningKey(); err != nil {
		return nil, err
	}
	kcfg := &Config{Now: cfg.Now, Production: cfg.Production, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger}
	for i, c := range cfg.Clients {
		rc, err := registerClient(ctx, c, kcfg)
		if err != nil {
			return nil, fmt.Errorf("auth: SMART client %d: %w", i, err)
		}
		if s.clients[c.ID] != nil {
			return nil, fmt.Errorf("auth: SMART client %q is registered twice", c.ID)
		}
		s.clients[c.ID] = rc
	}
	return s, nil
}

func (cfg *TokenServiceConfig) defaults() error {
	switch {
	case cfg.TokenURL == "" || cfg.Issuer == "" || cfg.Audience == "":
		return errors.New("auth: the SMART token service needs its token URL, issuer and audience")
	case cfg.Key == nil:
		return errors.New("auth: the SMART token service needs a signing key")
	case cfg.Production && len(cfg.Clients) == 0:
		return errors.New("auth: production mode needs at least one registered SMART client")
	case cfg.TTL < 0 || cfg.TTL > MaxAccessTokenTTL:
		return fmt.Errorf("auth: access token lifetime %s is outside (0, %s]", cfg.TTL, MaxAccessTokenTTL)
	case cfg.ClockSkew < 0 || cfg.ClockSkew > MaxClockSkew:
		return fmt.Errorf("auth: clock skew %s is outside 0 to %s", cfg.ClockSkew, MaxClockSkew)
	}
	if cfg.TTL == 0 {
		cfg.TTL = MaxAccessTokenTTL
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = DefaultClockSkew
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
	if cfg.JTIs == nil {
		cfg.JTIs = newMemoryJTIs(cfg.Now)
	}
	return nil
}

// loadSigningKey names the signing key by its RFC 7638 thumbprint and
// keeps its public JWK Set for the verifier.
func (s *TokenService) loadSigningKey() error {
	s.signer.kid = "pending"
	jwks, err := jwksOf(&s.signer)
	if err != nil {
		return fmt.Errorf("auth: SMART signing key: %w", err)
	}
	keys, err := parseJWKS(jwks)
	if err != nil || len(keys) != 1 {
		return fmt.Errorf("auth: SMART signing key must be an ECDSA P-256 or RSA (2048 bits or more) key: %v", err)
	}
	for _, k := range keys {
		s.signer.kid = k.thumbprint
	}
	if s.cfg.Production && s.signer.kid == DevKeyID {
		return fmt.Errorf("auth: production mode refuses the development key as the SMART signing key")
	}
	s.jwks, err = jwksOf(&s.signer)
	return err
}

func registerClient(ctx context.Context, c Client, kcfg *Config) (*registeredClient, error) {
	if c.ID == "" || !cleanText(c.ID, maxSubject, false) {
		return nil, errors.New("the client id must be printable text of 1 to 255 characters")
	}
	org, ok := odsCode(c.Org)
	if !ok {
		return nil, fmt.Errorf("client %q: org must be the ODS code of the organisation it acts for", c.ID)
	}
	purpose, ok := NormalisePurpose(c.Purpose)
	if !ok || isBreakGlass(purpose) || purpose == PurposePatientRequested {
		return nil, fmt.Errorf("client %q: purpose must be a v3-ActReason code such as TREAT (not BTG, ETREAT or PATRQT)", c.ID)
	}
	rc := &registeredClient{Client: c}
	rc.Org, rc.Purpose = org, purpose
	for _, raw := range c.Scopes {
		sc, err := ParseScope(raw)
		if err != nil || sc.Context != "system" {
			return nil, fmt.Errorf("client %q: scope %q: want system/<Type>.rs or system/*.rs (%v)", c.ID, raw, err)
		}
		rc.scopes = append(rc.scopes, sc)
	}
	if len(rc.scopes) == 0 {
		return nil, fmt.Errorf("client %q has no scopes: give it system/*.rs or narrower", c.ID)
	}
	src := Issuer{Issuer: c.ID, JWKS: c.JWKS, JWKSFile: c.JWKSFile, JWKSURL: c.JWKSURL}
	n := 0
	for _, set := range []bool{src.JWKSFile != "", src.JWKSURL != "", len(src.JWKS) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("client %q needs exactly one of a JWKS, a JWKS file or a JWKS URL", c.ID)
	}
	var err error
	if rc.keys, err = newKeySourceFor(ctx, src, kcfg, assertionAlgs); err != nil {
		return nil, fmt.Errorf("client %q: %w", c.ID, err)
	}
	return rc, nil
}

// TokenURL is the token endpoint's URL.
func (s *TokenService) TokenURL() string { return s.cfg.TokenURL }

// TrustedIssuer is the verifier's entry for the access tokens this service
// issues: system tokens only, signed by its key.
func (s *TokenService) TrustedIssuer() Issuer {
	return Issuer{Issuer: s.cfg.Issuer, Audience: []string{s.cfg.Audience}, JWKS: slices.Clone(s.jwks), Kind: ShapeSystem}
}

// Token checks a token request and its client assertion and issues an
// access token. Errors are [*OAuthError] values.
func (s *TokenService) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	if err := checkForm(req); err != nil {
		return nil, err
	}
	rc, a, err := s.authenticate(ctx, req)
	if err != nil {
		return nil, err
	}
	granted, err := grant(rc, req.Scope)
	if err != nil {
		return nil, err
	}
	fresh, err := s.cfg.JTIs.Use(ctx, rc.ID, a.Jti, a.Exp.add(s.cfg.ClockSkew))
	switch {
	case err != nil:
		return nil, &OAuthError{Code: OAuthUnavailable, Description: "the gateway could not record the assertion's jti; retry shortly", Err: err}
	case !fresh:
		return nil, oauthErr(OAuthInvalidClient, "this client assertion's jti has been used already: make a new assertion, with a new jti, for every token request")
	}
	return s.issue(rc, granted)
}

func checkForm(req TokenRequest) *OAuthError {
	switch {
	case req.GrantType == "":
		return oauthErr(OAuthInvalidRequest, "grant_type is missing: send grant_type=client_credentials")
	case req.GrantType != GrantClientCredentials:
		return oauthErr(OAuthUnsupportedGrant, "only grant_type=client_credentials (SMART Backend Services) is supported")
	case req.ClientAssertionType != AssertionType:
		return oauthErr(OAuthInvalidRequest, "client_assertion_type must be "+AssertionType)
	case req.ClientAssertion == "":
		return oauthErr(OAuthInvalidRequest, "client_assertion is missing: send a JWT signed with the client's registered key")
	case strings.TrimSpace(req.Scope) == "":
		return oauthErr(OAuthInvalidScope, "scope is missing: request system/*.rs or narrower, e.g. system/Patient.rs")
	}
	return nil
}

// authenticate verifies the client assertion (RFC 7523 section 3 and the
// SMART asymmetric client authentication profile) and returns the client.
func (s *TokenService) authenticate(ctx context.Context, req TokenRequest) (*registeredClient, *claims, error) {
	bad := func(desc string) (*registeredClient, *claims, error) {
		return nil, nil, oauthErr(OAuthInvalidClient, desc)
	}
	t, err := parseJWSFor(req.ClientAssertion, assertionAlgs, "")
	if err != nil {
		var te *TokenError
		if errors.As(err, &te) && te.Reason == ReasonAlgorithm {
			return bad("the client assertion must be signed with RS384 or ES384")
		}
		return bad("the client assertion is not a signed JWT with a kid in its header")
	}
	if t.header.Typ != "" && !strings.EqualFold(t.header.Typ, "JWT") {
		return bad(`the client assertion's typ header must be "JWT"`)
	}
	a, err := decodeClaims(t.payload)
	if err != nil {
		return bad("the client assertion's claims are not valid JSON claims")
	}
	rc, ok := s.clients[a.Iss]
	switch {
	case a.Iss == "" || !ok:
		return bad("the client assertion's iss names no registered client: register the client id with this gateway")
	case a.Sub != a.Iss:
		return bad("the client assertion's sub must equal its iss: both are the client id")
	case req.ClientID != "" && req.ClientID != a.Iss:
		return bad("client_id does not match the client assertion's iss")
	case t.header.Jku != "" && t.header.Jku != rc.JWKSURL:
		return bad("the client assertion's jku header is not the JWKS URL registered for this client: leave it out or send the registered URL")
	}
	key, err := rc.keys.key(ctx, t.header.Kid)
	if err != nil {
		return bad("the client assertion's kid names no key of the client's registered key set (RS384 RSA or ES384 P-384 keys)")
	}
	if !t.verify(key) {
		return bad("the client assertion's signature does not verify with the client's registered key")
	}
	if err := s.checkAssertion(a); err != nil {
		return nil, nil, err
	}
	return rc, a, nil
}

// checkAssertion checks the verified assertion's aud, times and jti.
func (s *TokenService) checkAssertion(a *claims) *OAuthError {
	now, skew := s.cfg.Now(), s.cfg.ClockSkew
	switch {
	case !slices.Contains(a.Aud, s.cfg.TokenURL):
		return oauthErr(OAuthInvalidClient, "the client assertion's aud must be this token endpoint's URL, "+s.cfg.TokenURL)
	case a.Exp == nil:
		return oauthErr(OAuthInvalidClient, "the client assertion has no exp")
	case !now.Before(a.Exp.add(skew)):
		return oauthErr(OAuthInvalidClient, "the client assertion has expired: make a new one (check the client's clock)")
	case a.Exp.time().After(now.Add(MaxAssertionLifetime + skew)):
		return oauthErr(OAuthInvalidClient, "the client assertion's exp is more than 5 minutes ahead: make it expire sooner")
	case a.Nbf != nil && now.Add(skew).Before(a.Nbf.time()), a.Iat != nil && now.Add(skew).Before(a.Iat.time()):
		return oauthErr(OAuthInvalidClient, "the client assertion is not valid yet (nbf or iat in the future): check the client's clock")
	case a.Jti == "" || !cleanText(a.Jti, maxSubject, false):
		return oauthErr(OAuthInvalidClient, "the client assertion needs a jti: a unique id of at most 255 printable characters")
	}
	return nil
}

// grant returns the requested scopes the client may have: each must be a
// read scope covered by one of the client's registered scopes; requested
// scopes it is not registered for are left out, and if none is left the
// request is refused.
func grant(rc *registeredClient, scope string) ([]Scope, error) {
	var granted []Scope
	for raw := range strings.FieldsSeq(scope) {
		sc, err := ParseScope(raw)
		if err != nil {
			return nil, oauthErr(OAuthInvalidScope, err.Error())
		}
		if sc.Context != "system" {
			return nil, oauthErr(OAuthInvalidScope, "backend services request system/ scopes, e.g. system/Patient.rs")
		}
		if slices.ContainsFunc(rc.scopes, func(r Scope) bool { return r.covers(sc) }) &&
			!slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	if len(granted) == 0 {
		return nil, oauthErr(OAuthInvalidScope, "none of the requested scopes is registered for this client")
	}
	return granted, nil
}

// issue signs an access token of the system shape that the verifier turns
// into the client's Identity.
func (s *TokenService) issue(rc *registeredClient, granted []Scope) (*TokenResponse, error) {
	now := s.cfg.Now()
	scopes := make([]string, len(granted))
	for i, sc := range granted {
		scopes[i] = sc.String()
	}
	scope := strings.Join(scopes, " ")
	tok, err := s.signer.sign(map[string]any{
		"iss": s.cfg.Issuer, "sub": rc.ID, "client_id": rc.ID, "aud": s.cfg.Audience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.cfg.TTL).Unix(), "jti": randomID(),
		"org_code": rc.Org, "purpose_of_use": rc.Purpose, "scope": scope,
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("SMART access token issued", "client", rc.ID, "org", rc.Org, "scope", scope)
	return &TokenResponse{AccessToken: tok, TokenType: "bearer", ExpiresIn: int(s.cfg.TTL / time.Second), Scope: scope}, nil
}

package auth

import (
	"context"
	"slices"
	"time"
)

// Verifier checks bearer tokens against the trusted issuers. It is safe for
// concurrent use.
type Verifier struct {
	issuers map[string]*trustedIssuer
	skew    time.Duration
	now     func() time.Time
	seen    verified
}

type trustedIssuer struct {
	cfg  Issuer
	keys *keySource
}

// NewVerifier loads every issuer's key set (ctx bounds the fetches) and
// returns a Verifier. It fails if the configuration is invalid, a key set
// cannot be loaded, or Production is set and the development issuer or key
// is configured.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{issuers: make(map[string]*trustedIssuer, len(cfg.Issuers)), skew: cfg.ClockSkew, now: cfg.Now}
	for _, iss := range cfg.Issuers {
		ks, err := newKeySource(ctx, iss, &cfg)
		if err != nil {
			return nil, err
		}
		iss.Audience = slices.Clone(iss.Audience)
		v.issuers[iss.Issuer] = &trustedIssuer{cfg: iss, keys: ks}
	}
	return v, nil
}

// Verify checks the bearer token and returns the Identity. Errors are
// [*TokenError] values wrapping [ErrUnauthenticated], with a message a person
// can act on (expired, not yet valid, unknown issuer, bad signature, wrong
// audience, missing purpose, break glass without reason, malformed) that
// never echoes the token or its claims.
func (v *Verifier) Verify(ctx context.Context, token string) (*Identity, error) {
	seen, cached := v.seen.get(token)
	var t *jws
	c, kid := seen.claims, seen.kid
	if !cached {
		var err error
		if t, err = parseJWS(token); err != nil {
			return nil, err
		}
		if c, err = decodeClaims(t.payload); err != nil {
			return nil, err
		}
		kid = t.header.Kid
	}
	iss, ok := v.issuers[c.Iss]
	if !ok {
		return nil, tokenErr(ReasonUnknownIssuer, "the token's issuer (iss) is not trusted by this gateway")
	}
	key, err := iss.keys.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	known := cached && seen.key == key
	if !known {
		if t == nil {
			if t, err = parseJWS(token); err != nil {
				return nil, err
			}
		}
		if !t.verify(key) {
			return nil, tokenErr(ReasonBadSignature, "the token's signature does not verify with its issuer's key")
		}
	}
	if err := checkTimes(c, v.now(), v.skew); err != nil {
		return nil, err
	}
	if !known {
		v.seen.add(token, verifiedToken{key: key, kid: kid, claims: c, exp: c.Exp.time()}, v.now())
	}
	if !slices.ContainsFunc(c.Aud, func(a string) bool { return slices.Contains(iss.cfg.Audience, a) }) {
		return nil, tokenErr(ReasonWrongAudience, "the token's audience (aud) does not name this gateway")
	}
	id, err := c.identity(iss.cfg.Kind)
	if err != nil {
		return nil, err
	}
	id.Issuer = c.Iss
	id.TokenID = c.Jti
	id.Scopes, id.Scoped = tokenScopes(c.Scope)
	return id, nil
}

// checkTimes checks exp (required), nbf and iat against now, with skew.
func checkTimes(c *claims, now time.Time, skew time.Duration) error {
	if c.Exp == nil {
		return tokenErr(ReasonMalformed, "the token has no expiry (exp)")
	}
	if !now.Before(c.Exp.add(skew)) {
		return tokenErr(ReasonExpired, "the token has expired: get a new one")
	}
	if c.Nbf != nil && now.Add(skew).Before(c.Nbf.time()) {
		return tokenErr(ReasonNotYetValid, "the token is not valid yet (nbf): check the client's clock")
	}
	if c.Iat != nil && now.Add(skew).Before(c.Iat.time()) {
		return tokenErr(ReasonNotYetValid, "the token was issued in the future (iat): check the issuer's clock")
	}
	return nil
}

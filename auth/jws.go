package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // registers crypto.SHA256
	_ "crypto/sha512" // registers crypto.SHA384
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
)

// Signature algorithms (RFC 7518 section 3.1). Bearer tokens are RS256 or
// ES256; SMART client assertions are RS384 or ES384.
const (
	algRS256 = "RS256"
	algES256 = "ES256"
	algRS384 = "RS384"
	algES384 = "ES384"
)

// keyAlgs is a family of accepted algorithms: one for RSA keys and one for
// EC keys on one curve.
type keyAlgs struct {
	rsa, ec, crv string
}

var (
	// bearerAlgs verify the bearer tokens of trusted issuers.
	bearerAlgs = keyAlgs{rsa: algRS256, ec: algES256, crv: "P-256"}
	// assertionAlgs verify SMART Backend Services client assertions.
	assertionAlgs = keyAlgs{rsa: algRS384, ec: algES384, crv: "P-384"}
)

func (a keyAlgs) names() []string { return []string{a.rsa, a.ec} }

// hashOf is the digest an algorithm signs.
func hashOf(alg string) crypto.Hash {
	if strings.HasSuffix(alg, "384") {
		return crypto.SHA384
	}
	return crypto.SHA256
}

// digest hashes a JWS signing input for alg.
func digest(alg, input string) []byte {
	h := hashOf(alg).New()
	h.Write([]byte(input))
	return h.Sum(nil)
}

// maxTokenBytes bounds the work done on a token before its signature is known
// to be good. CIS2 tokens with many roles stay well below it.
const maxTokenBytes = 16 << 10

// b64 is unpadded base64url that also rejects non-zero trailing bits, so a
// signature has exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

type jwsHeader struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Typ  string   `json:"typ"`
	Jku  string   `json:"jku"` // never followed; client assertions must name the registered URL
	Crit []string `json:"crit"`
}

// jws is a compact JWS split into its parts; nothing in it is trusted yet.
type jws struct {
	header       jwsHeader
	payload      []byte
	signingInput string
	signature    []byte
}

func parseJWS(token string) (*jws, error) {
	return parseJWSFor(token, bearerAlgs, "only RS256 and ES256 signed tokens are accepted")
}

// parseJWSFor splits a compact JWS whose alg is one of algs; refusal is
// the message for any other alg.
func parseJWSFor(token string, algs keyAlgs, refusal string) (*jws, error) {
	if len(token) > maxTokenBytes {
		return nil, tokenErr(ReasonMalformed, "the bearer token is too large")
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s, ".") {
		return nil, tokenErr(ReasonMalformed, "the bearer token is not a signed JWT (header.payload.signature)")
	}
	var t jws
	hb, err := b64.DecodeString(h)
	if err != nil || json.Unmarshal(hb, &t.header) != nil {
		return nil, tokenErr(ReasonMalformed, "the JWT header is not base64url-encoded JSON")
	}
	if t.payload, err = b64.DecodeString(p); err != nil {
		return nil, tokenErr(ReasonMalformed, "the JWT payload is not base64url-encoded")
	}
	if t.signature, err = b64.DecodeString(s); err != nil {
		return nil, tokenErr(ReasonMalformed, "the JWT signature is not base64url-encoded")
	}
	if !slices.Contains(algs.names(), t.header.Alg) {
		return nil, tokenErr(ReasonAlgorithm, refusal)
	}
	if len(t.header.Crit) > 0 {
		return nil, tokenErr(ReasonMalformed, "the JWT header has critical extensions this gateway does not understand")
	}
	if t.header.Kid == "" {
		return nil, tokenErr(ReasonMalformed, "the JWT header has no kid naming the signing key")
	}
	t.signingInput = token[:len(h)+1+len(p)]
	return &t, nil
}

// verify checks the signature with key, whose algorithm must be the one the
// header names: an RSA key never verifies an ES256 token and vice versa.
func (t *jws) verify(key *publicKey) bool {
	if t.header.Alg != key.alg {
		return false
	}
	sum := digest(key.alg, t.signingInput)
	switch {
	case key.rsa != nil:
		return rsa.VerifyPKCS1v15(key.rsa, hashOf(key.alg), sum, t.signature) == nil
	case key.ec != nil:
		// JWS carries R || S, each the curve's size (RFC 7518 section 3.4), not DER.
		n := (key.ec.Curve.Params().BitSize + 7) / 8
		if len(t.signature) != 2*n {
			return false
		}
		r := new(big.Int).SetBytes(t.signature[:n])
		s := new(big.Int).SetBytes(t.signature[n:])
		return ecdsa.Verify(key.ec, sum, r, s)
	}
	return false
}

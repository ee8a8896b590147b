package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
)

// Signature algorithms accepted (RFC 7518 section 3.1).
const (
	algRS256 = "RS256"
	algES256 = "ES256"
)

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
	switch t.header.Alg {
	case algRS256, algES256:
	default:
		return nil, tokenErr(ReasonAlgorithm, "only RS256 and ES256 signed tokens are accepted")
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
	digest := sha256.Sum256([]byte(t.signingInput))
	switch key.alg {
	case algRS256:
		return rsa.VerifyPKCS1v15(key.rsa, crypto.SHA256, digest[:], t.signature) == nil
	case algES256:
		// JWS carries R || S, each 32 bytes (RFC 7518 section 3.4), not DER.
		if len(t.signature) != 64 {
			return false
		}
		r := new(big.Int).SetBytes(t.signature[:32])
		s := new(big.Int).SetBytes(t.signature[32:])
		return ecdsa.Verify(key.ec, digest[:], r, s)
	}
	return false
}

package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// signer makes compact JWS tokens; DevKey uses it, and so do the tests,
// with keys the gateway does not trust.
type signer struct {
	kid string
	key crypto.Signer // *ecdsa.PrivateKey (P-256) or *rsa.PrivateKey
}

func (s *signer) alg() string {
	if _, ok := s.key.(*rsa.PrivateKey); ok {
		return algRS256
	}
	return algES256
}

// sign encodes claims as the payload of a JWT signed with the signer's key.
func (s *signer) sign(claims any) (string, error) {
	return s.signWithHeader(map[string]any{"alg": s.alg(), "typ": "JWT", "kid": s.kid}, claims)
}

func (s *signer) signWithHeader(header map[string]any, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encoding JWT header: %w", err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding JWT claims: %w", err)
	}
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:]); err != nil {
			return "", fmt.Errorf("signing JWT: %w", err)
		}
	case *ecdsa.PrivateKey:
		r, sv, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return "", fmt.Errorf("signing JWT: %w", err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		sv.FillBytes(sig[32:])
	default:
		return "", errors.New("signing JWT: unsupported key type")
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// publicJWK returns the JWK of the signer's public key, with kid and alg.
func (s *signer) publicJWK() (map[string]string, error) {
	switch k := s.key.Public().(type) {
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil || len(b) != 65 {
			return nil, errors.New("encoding EC public key: not a P-256 key")
		}
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64.EncodeToString(b[1:33]),
			"y": b64.EncodeToString(b[33:]), "use": "sig", "alg": algES256, "kid": s.kid}, nil
	case *rsa.PublicKey:
		e := []byte{byte(k.E >> 24), byte(k.E >> 16), byte(k.E >> 8), byte(k.E)}
		for len(e) > 1 && e[0] == 0 {
			e = e[1:]
		}
		return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()),
			"e": b64.EncodeToString(e), "use": "sig", "alg": algRS256, "kid": s.kid}, nil
	}
	return nil, errors.New("encoding public key: unsupported key type")
}

// jwksOf returns a JWK Set holding the public keys of signers.
func jwksOf(signers ...*signer) ([]byte, error) {
	keys := make([]map[string]string, 0, len(signers))
	for _, s := range signers {
		k, err := s.publicJWK()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return json.MarshalIndent(map[string]any{"keys": keys}, "", "  ")
}

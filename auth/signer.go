package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
)

// signer makes compact JWS tokens; DevKey and the SMART token service use
// it, and so do the tests, with keys the gateway does not trust.
type signer struct {
	kid string
	key crypto.Signer // *ecdsa.PrivateKey (P-256 or P-384) or *rsa.PrivateKey
	// rs384 makes an RSA key sign RS384 rather than RS256 (client
	// assertions, in tests).
	rs384 bool
}

// alg is the key's algorithm: RS256 (or RS384), ES256 on P-256, ES384 on
// P-384.
func (s *signer) alg() string {
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if s.rs384 {
			return algRS384
		}
		return algRS256
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P384() {
			return algES384
		}
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
	alg, _ := header["alg"].(string)
	sum := digest(alg, input)
	var sig []byte
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		if sig, err = rsa.SignPKCS1v15(nil, k, hashOf(alg), sum); err != nil {
			return "", fmt.Errorf("signing JWT: %w", err)
		}
	case *ecdsa.PrivateKey:
		r, sv, err := ecdsa.Sign(rand.Reader, k, sum)
		if err != nil {
			return "", fmt.Errorf("signing JWT: %w", err)
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*n)
		r.FillBytes(sig[:n])
		sv.FillBytes(sig[n:])
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
		n := (len(b) - 1) / 2
		if err != nil || (n != 32 && n != 48) {
			return nil, errors.New("encoding EC public key: not a P-256 or P-384 key")
		}
		return map[string]string{"kty": "EC", "crv": k.Curve.Params().Name, "x": b64.EncodeToString(b[1 : 1+n]),
			"y": b64.EncodeToString(b[1+n:]), "use": "sig", "alg": s.alg(), "kid": s.kid}, nil
	case *rsa.PublicKey:
		e := []byte{byte(k.E >> 24), byte(k.E >> 16), byte(k.E >> 8), byte(k.E)}
		for len(e) > 1 && e[0] == 0 {
			e = e[1:]
		}
		return map[string]string{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()),
			"e": b64.EncodeToString(e), "use": "sig", "alg": s.alg(), "kid": s.kid}, nil
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

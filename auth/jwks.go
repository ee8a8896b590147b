package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// minRSABits is the smallest RSA modulus accepted in a key set.
const minRSABits = 2048

// publicKey is one verification key from a JWKS.
type publicKey struct {
	kid string
	alg string // the one algorithm it verifies, fixed by the key type (see keyAlgs)
	rsa *rsa.PublicKey
	ec  *ecdsa.PublicKey
	// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url).
	thumbprint string
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	N   string `json:"n"`
	E   string `json:"e"`
	D   string `json:"d"` // private; its presence makes the set unacceptable
}

// parseJWKS reads a JWK Set (RFC 7517 section 5). Keys this gateway cannot use
// (encryption keys, other curves or algorithms) are skipped; a set with
// private key material, a duplicate kid, a malformed usable key or no usable
// key at all is an error.
func parseJWKS(data []byte) (map[string]*publicKey, error) {
	return parseKeySet(data, bearerAlgs)
}

// parseKeySet is parseJWKS for the algorithm family algs: RSA keys verify
// algs.rsa, EC keys on algs.crv verify algs.ec, other keys are skipped.
func parseKeySet(data []byte, algs keyAlgs) (map[string]*publicKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("JWKS is not a JSON key set: %w", err)
	}
	keys := make(map[string]*publicKey, len(set.Keys))
	for i, k := range set.Keys {
		if k.D != "" {
			return nil, fmt.Errorf("JWKS key %d holds private key material: publish only public keys", i)
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var (
			pk  *publicKey
			err error
		)
		switch {
		case k.Kty == "EC" && k.Crv == algs.crv && (k.Alg == "" || k.Alg == algs.ec):
			pk, err = ecKey(k, algs.ec)
		case k.Kty == "RSA" && (k.Alg == "" || k.Alg == algs.rsa):
			pk, err = rsaKey(k, algs.rsa)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d: %w", i, err)
		}
		if k.Kid == "" {
			return nil, fmt.Errorf("JWKS key %d has no kid", i)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("JWKS has two keys with the same kid")
		}
		pk.kid = k.Kid
		keys[k.Kid] = pk
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("JWKS has no %s or %s (%s) signing key", algs.rsa, algs.ec, algs.crv)
	}
	return keys, nil
}

// ecKey reads an EC key on P-256 (for ES256) or P-384 (for ES384).
func ecKey(k jwk, alg string) (*publicKey, error) {
	curve, size := elliptic.P256(), 32
	if k.Crv == "P-384" {
		curve, size = elliptic.P384(), 48
	}
	x, errX := b64.DecodeString(k.X)
	y, errY := b64.DecodeString(k.Y)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, fmt.Errorf("EC key coordinates must be %d-byte base64url values", size)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, fmt.Errorf("EC key is not a point on %s: %w", k.Crv, err)
	}
	return &publicKey{alg: alg, ec: pub, thumbprint: thumbprint(
		`{"crv":"` + k.Crv + `","kty":"EC","x":"` + k.X + `","y":"` + k.Y + `"}`)}, nil
}

func rsaKey(k jwk, alg string) (*publicKey, error) {
	n, errN := b64.DecodeString(k.N)
	e, errE := b64.DecodeString(k.E)
	if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("RSA key n and e must be base64url big-endian integers")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("RSA key has %d bits; at least %d are required", pub.N.BitLen(), minRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return nil, errors.New("RSA key exponent must be odd and at least 3")
	}
	return &publicKey{alg: alg, rsa: pub, thumbprint: thumbprint(
		`{"e":"` + k.E + `","kty":"RSA","n":"` + k.N + `"}`)}, nil
}

// thumbprint hashes the canonical JSON of a key's required members
// (RFC 7638 section 3); callers pass members already base64url-encoded,
// which need no JSON escaping.
func thumbprint(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:])
}

package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Development tokens. The development key is public (it is committed under
// fixtures/devkeys): tokens it signs prove nothing and a Config with
// Production set refuses both the issuer and the key.
const (
	// DevIssuer is the "iss" of development tokens.
	DevIssuer = "https://dev.socialcare-fhir.example.org/issuer"
	// DevKeyFile is the name of the development signing key in its directory.
	DevKeyFile = "DEVELOPMENT-ONLY-signing-key.pem"
	// DevKeyID is the kid of the development key: its RFC 7638 thumbprint.
	DevKeyID = "4913p4W0IvtdLgWOF1FTuWdRmk_F2vow3gfMrWrghTI"
	// MaxDevTokenTTL bounds the lifetime of a development token.
	MaxDevTokenTTL = 24 * time.Hour
)

// DevKey is the development signing key (ES256, P-256).
type DevKey struct {
	s    signer
	jwks []byte
}

// DevClaims describe a development token. Kind is the token shape:
// ShapeCIS2 (Org, Role: an NHS user), ShapeCouncil (Org, Role: council
// staff), ShapeSystem (Org: a trust system; Subject is its client id) or
// ShapePerson (NHSNumber). Purpose is a v3-ActReason code, required except
// for persons; BreakGlassReason goes with BTG and ETREAT.
type DevClaims struct {
	Kind             string
	Subject          string
	Org              string
	Role             string
	Purpose          string
	BreakGlassReason string
	NHSNumber        string
	Audience         string
}

// LoadDevKey reads the development signing key from dir (fixtures/devkeys).
// It refuses any other key than the committed one, so that [DevKeyID]
// identifies it everywhere.
func LoadDevKey(dir string) (*DevKey, error) {
	path := filepath.Join(dir, DevKeyFile)
	parsed, err := readPKCS8(path, "development key")
	if err != nil {
		return nil, err
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("auth: development key %s is not a P-256 EC key", path)
	}
	k := &DevKey{s: signer{kid: DevKeyID, key: priv}}
	if k.jwks, err = jwksOf(&k.s); err != nil {
		return nil, fmt.Errorf("auth: development key: %w", err)
	}
	keys, err := parseJWKS(k.jwks)
	if err != nil {
		return nil, fmt.Errorf("auth: development key: %w", err)
	}
	if keys[DevKeyID].thumbprint != DevKeyID {
		return nil, fmt.Errorf("auth: %s is not the committed development key (thumbprint %s, want %s)",
			path, keys[DevKeyID].thumbprint, DevKeyID)
	}
	return k, nil
}

// Signer returns the development private key, for signing the SMART
// access tokens of a gateway in development mode. It is public: production
// mode refuses it.
func (k *DevKey) Signer() crypto.Signer { return k.s.key }

// JWKS returns the JWK Set holding the development public key.
func (k *DevKey) JWKS() []byte { return append([]byte(nil), k.jwks...) }

// Issuer returns the trusted-issuer entry for development tokens, for demo
// mode: DevIssuer with the development key inline.
func (k *DevKey) Issuer(audience ...string) Issuer {
	return Issuer{Issuer: DevIssuer, Audience: audience, JWKS: k.JWKS()}
}

// Mint returns a development token valid for ttl from now. It refuses
// claims that the Verifier would refuse, saying why.
func (k *DevKey) Mint(dc DevClaims, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > MaxDevTokenTTL {
		return "", fmt.Errorf("auth: development token lifetime %s is outside (0, %s]", ttl, MaxDevTokenTTL)
	}
	if dc.Audience == "" {
		return "", errors.New("auth: development token needs an audience")
	}
	m, err := dc.claims()
	if err != nil {
		return "", err
	}
	now := time.Now()
	m["iss"], m["sub"], m["aud"] = DevIssuer, dc.Subject, dc.Audience
	m["iat"], m["nbf"], m["exp"] = now.Unix(), now.Unix(), now.Add(ttl).Unix()
	m["jti"] = randomID()
	if dc.Purpose != "" {
		m["purpose_of_use"] = dc.Purpose
	}
	if dc.BreakGlassReason != "" {
		m["break_glass_reason"] = dc.BreakGlassReason
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("auth: encoding development token: %w", err)
	}
	c, err := decodeClaims(payload)
	if err == nil {
		_, err = c.identity(dc.Kind)
	}
	if err != nil {
		return "", fmt.Errorf("auth: the verifier would refuse this development token: %w", err)
	}
	return k.s.sign(m)
}

// LoadSigningKey reads a PEM PKCS #8 private key (ECDSA P-256 or RSA) from
// path, for signing the gateway's SMART access tokens.
func LoadSigningKey(path string) (crypto.Signer, error) {
	parsed, err := readPKCS8(path, "signing key")
	if err != nil {
		return nil, err
	}
	switch k := parsed.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return k, nil
		}
	case *rsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("auth: signing key %s must be ECDSA P-256 or RSA", path)
}

// readPKCS8 reads the PEM PKCS #8 private key at path; what names it in
// messages.
func readPKCS8(path, what string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading %s: %w", what, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("auth: %s %s is not a PEM PKCS #8 private key", what, path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: parsing %s %s: %w", what, path, err)
	}
	return parsed, nil
}

// claims returns the shape-specific claims of a development token.
func (dc DevClaims) claims() (map[string]any, error) {
	if dc.NHSNumber != "" && dc.Kind != ShapePerson {
		return nil, errors.New("auth: only person tokens carry an NHS number")
	}
	if dc.Role != "" && (dc.Kind == ShapeSystem || dc.Kind == ShapePerson) {
		return nil, fmt.Errorf("auth: %s tokens carry no job role", dc.Kind)
	}
	m := map[string]any{}
	switch dc.Kind {
	case ShapeCIS2:
		// The minter knows only the job role (R code), not the S and G parts
		// of a real role_code; the verifier accepts a bare R code.
		roleID := "dev-" + dc.Org + "-" + dc.Role
		m["nhsid_nrbac_roles"] = []map[string]string{{
			"org_code": dc.Org, "person_orgid": "dev-" + dc.Org, "person_roleid": roleID, "role_code": dc.Role,
		}}
		m["selected_roleid"] = roleID
	case ShapeCouncil:
		m["org_code"], m["roles"] = dc.Org, []string{dc.Role}
	case ShapeSystem:
		m["client_id"], m["org_code"] = dc.Subject, dc.Org
	case ShapePerson:
		if dc.Org != "" {
			return nil, errors.New("auth: person tokens carry no organisation")
		}
		m["nhs_number"] = dc.NHSNumber
	default:
		return nil, fmt.Errorf("auth: development token kind %q; want %s, %s, %s or %s",
			dc.Kind, ShapeCIS2, ShapeCouncil, ShapeSystem, ShapePerson)
	}
	return m, nil
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

const (
	testAud    = "https://gateway.test/fhir"
	cis2Issuer = "https://cis2.test/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
	nowUnix    = 1_800_000_000
	// systemIssuer issues client credentials tokens only.
	systemIssuer = "https://sys.test/oauth2"
)

func testNow() time.Time { return time.Unix(nowUnix, 0) }

// fixture is a Verifier trusting the development key (DevIssuer, any token
// shape) and an RSA key (cis2Issuer, CIS2 tokens only; systemIssuer, system
// tokens only), plus a key nobody trusts.
type fixture struct {
	dev   *DevKey
	rsa   *signer
	rogue *signer
	v     *Verifier
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dev, err := LoadDevKey(filepath.Join("..", "fixtures", "devkeys"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{dev: dev, rsa: newRSASigner(t, "rsa-1"), rogue: newECSigner(t, "rogue-1")}
	rsaJWKS, err := jwksOf(f.rsa)
	if err != nil {
		t.Fatal(err)
	}
	f.v, err = NewVerifier(context.Background(), Config{
		Issuers: []Issuer{
			dev.Issuer(testAud),
			{Issuer: cis2Issuer, Audience: []string{"other", testAud}, JWKS: rsaJWKS, Kind: ShapeCIS2},
			{Issuer: systemIssuer, Audience: []string{testAud}, JWKS: rsaJWKS, Kind: ShapeSystem},
		},
		Now: testNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newECSigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, key: k}
}

func newRSASigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, key: k}
}

func mustSign(t testing.TB, s *signer, claims map[string]any) string {
	t.Helper()
	tok, err := s.sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Claims of each token shape, valid at testNow for DevIssuer and testAud.
// Synthetic: the NHS numbers are from the never-issued 999 range.

func baseClaims(sub string) map[string]any {
	return map[string]any{
		"iss": DevIssuer, "sub": sub, "aud": testAud, "jti": "jti-1",
		"iat": nowUnix - 10, "nbf": nowUnix - 10, "exp": nowUnix + 300,
	}
}

func cis2Claims() map[string]any {
	m := baseClaims("555021935107")
	m["nhsid_nrbac_roles"] = []any{
		map[string]any{"org_code": "RR8", "person_orgid": "555254239107", "person_roleid": "555254240100",
			"role_code": "S8000:G8000:R8000", "role_name": "Clinical Practitioner Access Role"},
		// A bare job role code, as the development minter writes it.
		map[string]any{"org_code": "rr8", "person_orgid": "555254239107", "person_roleid": "555254240101", "role_code": "R8001"},
		map[string]any{"org_code": "A81001", "person_orgid": "555254239108", "person_roleid": "555254240102",
			"role_code": "S8000:G8000:R8000"},
	}
	m["selected_roleid"] = "555254240100"
	m["purpose_of_use"] = "TREAT"
	return m
}

func councilClaims() map[string]any {
	m := baseClaims("council-user-42")
	m["org_code"] = "Z99001"
	m["roles"] = []any{"R1330"}
	m["purpose_of_use"] = "COC"
	return m
}

func systemClaims() map[string]any {
	m := baseClaims("trust-epr-client")
	m["client_id"] = "trust-epr-client"
	m["org_code"] = "RR8"
	m["purpose_of_use"] = "TREAT"
	return m
}

func personClaims() map[string]any {
	m := baseClaims("nhs-login-7f3a")
	m["nhs_number"] = "9990000018"
	return m
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// hs256 makes an HMAC-SHA256 JWS, which the gateway must never accept.
func hs256(header string, payload, secret []byte) (string, error) {
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	if _, err := mac.Write([]byte(input)); err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(mac.Sum(nil)), nil
}

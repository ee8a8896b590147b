package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewVerifierRefusesConfig(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	devFile := filepath.Join(dir, "dev.json")
	if err := os.WriteFile(devFile, f.dev.JWKS(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The development key published under another kid is still refused.
	var set map[string][]map[string]any
	if err := json.Unmarshal(f.dev.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	set["keys"][0]["kid"] = "innocent"
	renamed, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	other, err := jwksOf(f.rogue)
	if err != nil {
		t.Fatal(err)
	}
	ok := Issuer{Issuer: "https://idp.test", Audience: []string{testAud}, JWKS: other}
	with := func(edit func(*Issuer)) Issuer { i := ok; edit(&i); return i }

	tests := []struct {
		note    string
		cfg     Config
		wantMsg string
		wantErr error
	}{
		{note: "no issuers", cfg: Config{}, wantMsg: "no trusted issuers"},
		{note: "skew above the maximum", cfg: Config{Issuers: []Issuer{ok}, ClockSkew: 6 * time.Minute}, wantMsg: "clock skew"},
		{note: "negative skew", cfg: Config{Issuers: []Issuer{ok}, ClockSkew: -time.Second}, wantMsg: "clock skew"},
		{note: "no audience", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.Audience = nil })}}, wantMsg: "no audience"},
		{note: "empty issuer", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.Issuer = "" })}}, wantMsg: "issuer (iss) is empty"},
		{note: "two key sources", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.JWKSFile = devFile })}}, wantMsg: "exactly one"},
		{note: "no key source", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.JWKS = nil })}}, wantMsg: "exactly one"},
		{note: "unknown kind", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.Kind = "admin" })}}, wantMsg: "kind"},
		{note: "duplicate issuer", cfg: Config{Issuers: []Issuer{ok, ok}}, wantMsg: "configured twice"},
		{note: "missing JWKS file", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.JWKS, i.JWKSFile = nil, filepath.Join(dir, "nope.json") })}}, wantMsg: "nope.json"},
		{note: "JWKS URL answering 404", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.JWKS, i.JWKSURL = nil, notFound.URL })}}, wantMsg: "HTTP status 404"},
		{note: "plain http JWKS URL", cfg: Config{Issuers: []Issuer{with(func(i *Issuer) { i.JWKS, i.JWKSURL = nil, "http://idp.example.org/jwks" })}}, wantMsg: "must use https"},
		{note: "production with the development issuer", cfg: Config{Production: true, Issuers: []Issuer{f.dev.Issuer(testAud)}}, wantMsg: "development issuer"},
		{note: "production with the development key in a file", cfg: Config{Production: true, Issuers: []Issuer{with(func(i *Issuer) { i.JWKS, i.JWKSFile = nil, devFile })}}, wantErr: errDevKey},
		{note: "production with the development key renamed", cfg: Config{Production: true, Issuers: []Issuer{with(func(i *Issuer) { i.JWKS = renamed })}}, wantErr: errDevKey},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			_, err := NewVerifier(context.Background(), tc.cfg)
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("error %v; want %v", err, tc.wantErr)
			case !strings.Contains(err.Error(), tc.wantMsg):
				t.Errorf("error %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
}

func TestNewVerifierProductionAcceptsOtherKeys(t *testing.T) {
	s := newECSigner(t, "prod-1")
	set, err := jwksOf(s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(context.Background(), Config{
		Production: true, Now: testNow, ClockSkew: MaxClockSkew,
		Issuers: []Issuer{{Issuer: idpIssuer, Audience: []string{testAud}, JWKS: set}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := systemClaims()
	m["iss"], m["exp"] = idpIssuer, nowUnix-int64(MaxClockSkew/time.Second)+1
	if _, err := v.Verify(context.Background(), mustSign(t, s, m)); err != nil {
		t.Fatalf("token expired within the maximum skew: %v", err)
	}
}

package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite fixtures/devkeys/DEVELOPMENT-ONLY-jwks.json")

const devJWKSFile = "../fixtures/devkeys/DEVELOPMENT-ONLY-jwks.json"

func TestLoadDevKey(t *testing.T) {
	k, err := LoadDevKey(filepath.Join("..", "fixtures", "devkeys"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseJWKS(k.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if pk := keys[DevKeyID]; pk == nil || pk.thumbprint != DevKeyID || pk.alg != algES256 {
		t.Fatalf("development JWKS %s does not hold the ES256 key %s", k.JWKS(), DevKeyID)
	}
	if *update {
		if err := os.WriteFile(devJWKSFile, append(k.JWKS(), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(devJWKSFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(committed), k.JWKS()) {
		t.Errorf("%s is stale; run go test ./auth -run TestLoadDevKey -update", devJWKSFile)
	}

	if _, err := LoadDevKey(t.TempDir()); err == nil {
		t.Error("loaded a key from an empty directory")
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, DevKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDevKey(other); err == nil {
		t.Error("loaded a broken key")
	}
}

func TestMint(t *testing.T) {
	f := newFixture(t)
	v, err := NewVerifier(context.Background(), Config{Issuers: []Issuer{f.dev.Issuer(testAud)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		note string
		dc   DevClaims
		want Identity
	}{
		{"CIS2 user", DevClaims{Kind: ShapeCIS2, Subject: "555021935107", Org: "RR8", Role: "R8000", Purpose: "TREAT", Audience: testAud},
			Identity{Kind: KindUser, Subject: "555021935107", Org: "RR8", Role: "R8000", Roles: []string{"R8000"}, Purpose: "TREAT"}},
		{"council social worker", DevClaims{Kind: ShapeCouncil, Subject: "sw-1", Org: "Z99001", Role: "R1330", Purpose: "COC", Audience: testAud},
			Identity{Kind: KindUser, Subject: "sw-1", Org: "Z99001", Role: "R1330", Roles: []string{"R1330"}, Purpose: "COC"}},
		{"break glass", DevClaims{Kind: ShapeCIS2, Subject: "u", Org: "RR8", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed at home", Audience: testAud},
			Identity{Kind: KindUser, Subject: "u", Org: "RR8", Role: "R8000", Roles: []string{"R8000"}, Purpose: "BTG", BreakGlassReason: "collapsed at home"}},
		{"trust system", DevClaims{Kind: ShapeSystem, Subject: "trust-epr", Org: "RR8", Purpose: "TREAT", Audience: testAud},
			Identity{Kind: KindSystem, Subject: "trust-epr", Org: "RR8", Purpose: "TREAT"}},
		{"person", DevClaims{Kind: ShapePerson, Subject: "p-1", NHSNumber: "9990000026", Audience: testAud},
			Identity{Kind: KindPerson, Subject: "p-1", NHSNumber: "9990000026", Purpose: "PATRQT"}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			tok, err := f.dev.Mint(tc.dc, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if id.TokenID == "" || id.Issuer != DevIssuer {
				t.Errorf("jti %q, iss %q", id.TokenID, id.Issuer)
			}
			id.TokenID, id.Issuer = "", ""
			if !reflect.DeepEqual(*id, tc.want) {
				t.Errorf("identity\n got %+v\nwant %+v", *id, tc.want)
			}
			// The header names the development key.
			h, _, _ := strings.Cut(tok, ".")
			hb, err := b64.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			var header map[string]string
			if err := json.Unmarshal(hb, &header); err != nil {
				t.Fatal(err)
			}
			if header["alg"] != algES256 || header["kid"] != DevKeyID {
				t.Errorf("header %v", header)
			}
		})
	}
}

func TestMintRefuses(t *testing.T) {
	k, err := LoadDevKey(filepath.Join("..", "fixtures", "devkeys"))
	if err != nil {
		t.Fatal(err)
	}
	cis2 := DevClaims{Kind: ShapeCIS2, Subject: "u", Org: "RR8", Role: "R8000", Purpose: "TREAT", Audience: testAud}
	tests := []struct {
		note    string
		edit    func(*DevClaims)
		ttl     time.Duration
		wantMsg string
	}{
		{"unknown kind", func(c *DevClaims) { c.Kind = "user" }, time.Hour, "kind"},
		{"no audience", func(c *DevClaims) { c.Audience = "" }, time.Hour, "audience"},
		{"zero lifetime", func(*DevClaims) {}, 0, "lifetime"},
		{"lifetime too long", func(*DevClaims) {}, 25 * time.Hour, "lifetime"},
		{"no purpose", func(c *DevClaims) { c.Purpose = "" }, time.Hour, "purpose"},
		{"break glass without reason", func(c *DevClaims) { c.Purpose = "ETREAT" }, time.Hour, "break_glass_reason"},
		{"bad role", func(c *DevClaims) { c.Role = "doctor" }, time.Hour, "role"},
		{"no subject", func(c *DevClaims) { c.Subject = "" }, time.Hour, "sub"},
		{"system with a role", func(c *DevClaims) { c.Kind = ShapeSystem }, time.Hour, "no job role"},
		{"person with a bad NHS number", func(c *DevClaims) {
			*c = DevClaims{Kind: ShapePerson, Subject: "p", NHSNumber: "9991234560", Audience: testAud}
		}, time.Hour, "NHS number"},
		{"NHS number on a staff token", func(c *DevClaims) { c.NHSNumber = "9990000018" }, time.Hour, "NHS number"},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			dc := cis2
			tc.edit(&dc)
			tok, err := k.Mint(dc, tc.ttl)
			if err == nil {
				t.Fatalf("minted %s", tok)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
}

package auth

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseJWKS(t *testing.T) {
	ec := newECSigner(t, "ec-1")
	ecJWK, err := ec.publicJWK()
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(edit func(map[string]string)) string {
		m := map[string]string{}
		for k, v := range ecJWK {
			m[k] = v
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	good := jwk(func(map[string]string) {})
	tests := []struct {
		note     string
		set      string
		wantKids []string
		wantErr  string
	}{
		{note: "one EC key", set: `{"keys":[` + good + `]}`, wantKids: []string{"ec-1"}},
		{note: "encryption and unsupported keys are skipped", set: `{"keys":[` + good + `,` +
			jwk(func(m map[string]string) { m["kid"], m["use"] = "enc-1", "enc" }) + `,` +
			jwk(func(m map[string]string) { m["kid"], m["crv"] = "p384", "P-384" }) + `,` +
			jwk(func(m map[string]string) { m["kid"], m["alg"] = "es384", "ES384" }) + `,` +
			`{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}]}`, wantKids: []string{"ec-1"}},
		{note: "private key material", set: `{"keys":[` + jwk(func(m map[string]string) { m["d"] = "AAAA" }) + `]}`, wantErr: "private key"},
		{note: "duplicate kid", set: `{"keys":[` + good + `,` + good + `]}`, wantErr: "same kid"},
		{note: "no kid", set: `{"keys":[` + jwk(func(m map[string]string) { delete(m, "kid") }) + `]}`, wantErr: "no kid"},
		{note: "point not on the curve", set: `{"keys":[` + jwk(func(m map[string]string) { m["y"] = m["x"] }) + `]}`, wantErr: "not a point"},
		{note: "short coordinate", set: `{"keys":[` + jwk(func(m map[string]string) { m["x"] = "AAAA" }) + `]}`, wantErr: "32-byte"},
		{note: "small RSA key", set: `{"keys":[{"kty":"RSA","kid":"r","n":"` + b64.EncodeToString(make([]byte, 128)) + `","e":"AQAB"}]}`, wantErr: "bits"},
		{note: "no usable key", set: `{"keys":[]}`, wantErr: "no RS256 or ES256"},
		{note: "not JSON", set: `keys`, wantErr: "not a JSON key set"},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			keys, err := parseJWKS([]byte(tc.set))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v; want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tc.wantKids) {
				t.Fatalf("%d keys; want %v", len(keys), tc.wantKids)
			}
			for _, kid := range tc.wantKids {
				if keys[kid] == nil {
					t.Errorf("key %s missing", kid)
				}
			}
		})
	}
}

// TestThumbprint checks the RFC 7638 section 3.1 example.
func TestThumbprint(t *testing.T) {
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	keys, err := parseJWKS([]byte(`{"keys":[{"kty":"RSA","kid":"2011-04-29","n":"` + n + `","e":"AQAB"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys["2011-04-29"].thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint %s; want %s", got, want)
	}
}

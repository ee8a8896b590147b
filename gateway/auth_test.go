package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// Every FHIR endpoint needs a valid bearer token; the CapabilityStatement
// and health checks do not.
func TestAuthenticationRequired(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	good := e.token
	cases := []struct {
		note, header string
		wantError    bool // WWW-Authenticate carries error="invalid_token"
	}{
		{note: "no token", header: ""},
		{note: "not bearer", header: "Basic dXNlcjpwYXNz"},
		{note: "garbage", header: "Bearer not.a.jwt", wantError: true},
		{note: "forged signature", header: "Bearer " + good[:len(good)-4] + "AAAA", wantError: true},
		{note: "wrong audience", header: "Bearer " + mintAudience(t, "someone-else"), wantError: true},
	}
	e.token = ""
	for _, tc := range cases {
		t.Run(tc.note, func(t *testing.T) {
			var r *response
			if tc.header == "" {
				r = e.do("GET", "/Patient", "")
			} else {
				r = e.do("GET", "/Patient", "", "Authorization", tc.header)
			}
			e.mustStatus(r, http.StatusUnauthorized)
			outcome(t, r)
			ch := r.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, "Bearer") || strings.Contains(ch, "invalid_token") != tc.wantError {
				t.Errorf("WWW-Authenticate %q", ch)
			}
		})
	}
	e.mustStatus(e.do("GET", "/metadata", ""), http.StatusOK)
	e.mustStatus(e.do("GET", "/healthz", ""), http.StatusOK)
	e.mustStatus(e.do("GET", "/Patient", "", "Authorization", "Bearer "+good), http.StatusOK)
}

// A gateway built without an authenticator, policy or audit trail refuses
// everything: the request cannot even be recorded, so it is a 503.
func TestNoPolicyRefusesAll(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	bare := gateway.New(gateway.Config{}, e.store, nil)
	req, _ := http.NewRequest("GET", "/Patient", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	w := newRecorder()
	bare.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "Patient\"") {
		t.Fatalf("status %d", w.Code)
	}
}

func mintAudience(t *testing.T, aud string) string {
	tok, err := loadDevKey(t).Mint(auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "x", Org: "TST01", Role: "R1330", Purpose: "TREAT", Audience: aud}, 60e9)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

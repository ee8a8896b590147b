package gateway_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/gateway"
)

const smartTokenURL = "https://gateway.example.org/auth/token"

// backendClient is a trust system's key pair, as the trust's integration
// engine holds it: signing is done here, independently of package auth.
type backendClient struct {
	id  string
	kid string
	key crypto.Signer // *rsa.PrivateKey (RS384) or *ecdsa.PrivateKey on P-384 (ES384)
}

func newBackendClient(t *testing.T, id string, rsaKey bool) *backendClient {
	t.Helper()
	c := &backendClient{id: id, kid: id + "-key-1"}
	var err error
	if rsaKey {
		c.key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		c.key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jwks is the public key set the client registers.
func (c *backendClient) jwks(t *testing.T) []byte {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	var jwk map[string]string
	switch k := c.key.Public().(type) {
	case *rsa.PublicKey:
		jwk = map[string]string{"kty": "RSA", "alg": "RS384", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		pt, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		jwk = map[string]string{"kty": "EC", "crv": "P-384", "alg": "ES384", "x": b64(pt[1:49]), "y": b64(pt[49:])}
	}
	jwk["kid"], jwk["use"] = c.kid, "sig"
	b, err := json.Marshal(map[string]any{"keys": []any{jwk}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertion is a client assertion (RS384 or ES384) with the claims SMART
// asks for, jti fresh each time, edited by edit if set.
func (c *backendClient) assertion(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{"iss": c.id, "sub": c.id, "aud": smartTokenURL,
		"exp": time.Now().Add(4 * time.Minute).Unix(), "jti": base64.RawURLEncoding.EncodeToString(randomBytes(t))}
	if edit != nil {
		edit(claims)
	}
	alg := "ES384"
	if _, ok := c.key.(*rsa.PrivateKey); ok {
		alg = "RS384"
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": alg, "kid": c.kid, "typ": "JWT"}) + "." + enc(claims)
	h := crypto.SHA384.New()
	h.Write([]byte(input))
	var sig []byte
	switch k := c.key.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA384, h.Sum(nil)); err != nil {
			t.Fatal(err)
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, h.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 96)
		r.FillBytes(sig[:48])
		s.FillBytes(sig[48:])
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func randomBytes(t *testing.T) []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// smartEnv is a gateway under the baseline policy that issues SMART tokens
// to two RYQ (community trust) systems: one registered for system/*.rs,
// one for system/Patient.rs only.
type smartEnv struct {
	*env
	wide, narrow *backendClient
}

func newSmartEnv(t *testing.T) *smartEnv {
	t.Helper()
	se := &smartEnv{wide: newBackendClient(t, "ryq-epr", true), narrow: newBackendClient(t, "ryq-demographics", false)}
	se.env = se.serveOn(t, openEngine(t, ""))
	return se
}

// serveOn serves a gateway issuing tokens to se's clients over e's engine,
// whose database remembers the assertion ids, as cmd/gateway does.
func (se *smartEnv) serveOn(t *testing.T, e *env) *env {
	t.Helper()
	svc, err := auth.NewTokenService(context.Background(), auth.TokenServiceConfig{
		TokenURL: smartTokenURL, Issuer: "https://gateway.example.org/auth", Audience: testAudience,
		Key:  loadDevKey(t).Signer(), // development mode
		JTIs: e.eng.Assertions,
		Clients: []auth.Client{
			{ID: se.wide.id, JWKS: se.wide.jwks(t), Org: "RYQ", Purpose: "TREAT", Scopes: []string{"system/*.rs"}},
			{ID: se.narrow.id, JWKS: se.narrow.jwks(t), Org: "RYQ", Purpose: "TREAT", Scopes: []string{"system/Patient.rs"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Issuers: []auth.Issuer{loadDevKey(t).Issuer(testAudience), svc.TrustedIssuer()}})
	if err != nil {
		t.Fatal(err)
	}
	return e.serve(t, gateway.Config{Auth: v, Policy: loadPolicy(t, "../policy"), SMART: svc}, nil)
}

// tokenRequest posts a token request form.
func (se *smartEnv) tokenRequest(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	saved := se.token
	se.token = ""
	defer func() { se.token = saved }()
	r := se.do(http.MethodPost, gateway.TokenPath, form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token response Content-Type %q, Cache-Control %q", ct, r.Header.Get("Cache-Control"))
	}
	return r.Status, r.json(t)
}

func tokenForm(assertion, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {auth.AssertionType},
		"client_assertion": {assertion}, "scope": {scope}}
}

// accessToken gets a token for c with scope, failing the test otherwise.
func (se *smartEnv) accessToken(t *testing.T, c *backendClient, scope string) string {
	t.Helper()
	status, body := se.tokenRequest(t, tokenForm(c.assertion(t, nil), scope))
	if status != http.StatusOK {
		t.Fatalf("token request: %d %v", status, body)
	}
	if body["token_type"] != "bearer" || body["expires_in"] != float64(300) || body["scope"] != scope {
		t.Errorf("token response %v; want a bearer token for 300 s with scope %q", body, scope)
	}
	tok, _ := body["access_token"].(string)
	return tok
}

// relate gives RYQ a recent encounter with p, a care relationship under
// the baseline policy.
func relate(t *testing.T, e *env, p *person) {
	t.Helper()
	ctx := context.Background()
	day := time.Now().AddDate(0, 0, -7).UTC().Format(time.RFC3339)
	for _, raw := range []string{
		`{"resourceType":"Organization","id":"ryq","identifier":[{"system":"` + facts.ODSSystem + `","value":"RYQ"}],"name":"Community trust RYQ"}`,
		`{"resourceType":"Encounter","id":"ryq-visit","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HH"},
		  "subject":{"reference":"` + p.patient + `"},"serviceProvider":{"reference":"Organization/ryq"},"period":{"start":"` + day + `","end":"` + day + `"}}`,
	} {
		obj, err := fhir.DecodeObject([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		res := &fhir.Resource{Type: obj["resourceType"].(string), ID: obj["id"].(string), Object: obj}
		if _, err := e.store.Update(ctx, res, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSMARTBackendServices: a trust system registers its key, gets a token
// with a signed assertion and reads the record of a person it has a care
// relationship with, and no one else's, under the baseline policy.
func TestSMARTBackendServices(t *testing.T) {
	se := newSmartEnv(t)
	people := loadPeople(t, se.env)
	related, stranger := people["01"], people["02"]
	relate(t, se.env, related)

	se.token = se.accessToken(t, se.wide, "system/*.rs")
	se.mustStatus(se.do(http.MethodGet, "/"+related.patient, ""), http.StatusOK)
	if r := se.do(http.MethodGet, "/Encounter?patient="+related.patient, ""); r.Status != http.StatusOK {
		t.Errorf("system/*.rs search of Encounter: %d %s", r.Status, r.Body)
	}
	refused := se.do(http.MethodGet, "/"+stranger.patient, "")
	se.mustStatus(refused, http.StatusForbidden)
	if !strings.Contains(string(refused.Body), "relationship") {
		t.Errorf("the policy's refusal should name the missing relationship: %s", refused.Body)
	}
	// The other RYQ client signs its assertions ES384 (the first RS384):
	// both get tokens that read.
	se.token = se.accessToken(t, se.narrow, "system/Patient.rs")
	se.mustStatus(se.do(http.MethodGet, "/"+related.patient, ""), http.StatusOK)
}

// TestSMARTScopes: the gateway applies a token's scopes on top of the
// policy; no write scope is ever granted.
func TestSMARTScopes(t *testing.T) {
	se := newSmartEnv(t)
	people := loadPeople(t, se.env)
	p := people["01"]
	relate(t, se.env, p)
	se.token = se.accessToken(t, se.narrow, "system/Patient.rs")
	for _, tc := range []struct {
		note, method, path, body string
		want                     int
	}{
		{"read Patient", http.MethodGet, "/" + p.patient, "", http.StatusOK},
		{"search Patient", http.MethodGet, "/Patient?_id=" + strings.TrimPrefix(p.patient, "Patient/"), "", http.StatusOK},
		{"search Encounter", http.MethodGet, "/Encounter?patient=" + p.patient, "", http.StatusForbidden},
		{"read Encounter", http.MethodGet, "/Encounter/ryq-visit", "", http.StatusForbidden},
		{"revinclude Encounter", http.MethodGet, "/Patient?_revinclude=Encounter:subject", "", http.StatusForbidden},
		{"write Patient", http.MethodPost, "/Patient", patientAda, http.StatusForbidden},
		{"batch", http.MethodPost, "/", `{"resourceType":"Bundle","type":"batch","entry":[]}`, http.StatusForbidden},
	} {
		t.Run(tc.note, func(t *testing.T) {
			r := se.do(tc.method, tc.path, tc.body)
			if r.Status != tc.want {
				t.Fatalf("%s %s: %d %s; want %d", tc.method, tc.path, r.Status, r.Body, tc.want)
			}
			if tc.want == http.StatusForbidden {
				issues := outcome(t, r)
				if msg, _ := issues[0]["diagnostics"].(string); !strings.Contains(msg, "system/Patient.rs") {
					t.Errorf("refusal %q should name the token's scope", msg)
				}
			}
		})
	}
	// A CIS2 token (no SMART scopes) is not restricted by scope.
	se.token = gpToken(t, "R0260", "TREAT")
	se.mustStatus(se.do(http.MethodGet, "/Encounter?patient="+p.patient, ""), http.StatusOK)
}

// TestSMARTTokenErrors: refusals are RFC 6749 JSON with the right status.
func TestSMARTTokenErrors(t *testing.T) {
	se := newSmartEnv(t)
	replayed := se.wide.assertion(t, nil)
	if status, body := se.tokenRequest(t, tokenForm(replayed, "system/*.rs")); status != http.StatusOK {
		t.Fatalf("first use: %d %v", status, body)
	}
	for _, tc := range []struct {
		note   string
		form   url.Values
		status int
		code   string
	}{
		{"write scope", tokenForm(se.wide.assertion(t, nil), "system/*.cud"), 400, "invalid_scope"},
		{"v1 write scope", tokenForm(se.wide.assertion(t, nil), "system/*.write"), 400, "invalid_scope"},
		{"unregistered scope", tokenForm(se.narrow.assertion(t, nil), "system/Encounter.rs"), 400, "invalid_scope"},
		{"replayed jti", tokenForm(replayed, "system/*.rs"), 401, "invalid_client"},
		{"wrong aud", tokenForm(se.wide.assertion(t, func(c map[string]any) { c["aud"] = "https://gateway.example.org/" }), "system/*.rs"), 401, "invalid_client"},
		{"other client's claims", tokenForm(se.wide.assertion(t, func(c map[string]any) { c["iss"], c["sub"] = se.narrow.id, se.narrow.id }), "system/*.rs"), 401, "invalid_client"},
		{"grant type", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"no assertion", url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {auth.AssertionType}}, 400, "invalid_request"},
		{"parameter twice", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, 400, "invalid_request"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			status, body := se.tokenRequest(t, tc.form)
			if status != tc.status || body["error"] != tc.code {
				t.Fatalf("%d %v; want %d %s", status, body, tc.status, tc.code)
			}
			desc, _ := body["error_description"].(string)
			if desc == "" || (tc.form.Get("client_assertion") != "" && strings.Contains(desc, strings.Split(tc.form.Get("client_assertion"), ".")[1])) {
				t.Errorf("error_description %q: want a message that does not echo the assertion", desc)
			}
		})
	}
}

// Two gateway instances on one database: an assertion accepted by one is
// refused by the other (its id is remembered in the database).
func TestSMARTReplayToAnotherInstance(t *testing.T) {
	se := newSmartEnv(t)
	second := &smartEnv{env: se.serveOn(t, reopen(t, se.env)), wide: se.wide, narrow: se.narrow}
	a := se.wide.assertion(t, nil)
	if status, body := se.tokenRequest(t, tokenForm(a, "system/*.rs")); status != http.StatusOK {
		t.Fatalf("first instance: %d %v", status, body)
	}
	status, body := second.tokenRequest(t, tokenForm(a, "system/*.rs"))
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Fatalf("the same assertion at the second instance: %d %v; want 401 invalid_client", status, body)
	}
	// A fresh assertion is accepted there.
	if status, body := second.tokenRequest(t, tokenForm(se.wide.assertion(t, nil), "system/*.rs")); status != http.StatusOK {
		t.Fatalf("second instance, new assertion: %d %v", status, body)
	}
}

// TestSMARTDiscovery: the discovery document and the CapabilityStatement
// name the token endpoint.
func TestSMARTDiscovery(t *testing.T) {
	se := newSmartEnv(t)
	se.token = ""
	r := se.do(http.MethodGet, "/.well-known/smart-configuration", "")
	se.mustStatus(r, http.StatusOK)
	doc := r.json(t)
	has := func(key, want string) {
		t.Helper()
		var got []string
		for _, v := range asSlice(doc[key]) {
			s, _ := v.(string)
			got = append(got, s)
		}
		if !slices.Contains(got, want) {
			t.Errorf("%s = %v; want it to hold %s", key, got, want)
		}
	}
	if doc["token_endpoint"] != smartTokenURL {
		t.Errorf("token_endpoint %v", doc["token_endpoint"])
	}
	has("grant_types_supported", "client_credentials")
	has("token_endpoint_auth_methods_supported", "private_key_jwt")
	has("token_endpoint_auth_signing_alg_values_supported", "RS384")
	has("token_endpoint_auth_signing_alg_values_supported", "ES384")
	has("scopes_supported", "system/*.rs")
	has("scopes_supported", "system/Patient.rs")
	has("capabilities", "client-confidential-asymmetric")
	has("capabilities", "permission-v2")

	cs := se.do(http.MethodGet, "/metadata", "").json(t)
	rest, _ := asSlice(cs["rest"])[0].(map[string]any)
	sec, _ := rest["security"].(map[string]any)
	b, _ := json.Marshal(sec)
	for _, want := range []string{`"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"`, `"valueUri":"` + smartTokenURL + `"`, `"code":"SMART-on-FHIR"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("rest.security %s lacks %s", b, want)
		}
	}
}

// TestSMARTBulkExport: a trust system's SMART Backend Services token runs
// a Bulk Data export (the reason Backend Services exists), kick-off,
// status and files, and gets what the same token reads one resource at a
// time; a system/Patient.rs token exports Patients and nothing else, and
// is refused a _type its scopes do not cover and a Group export. Found by
// the outside Bulk Data client (scripts/bulk): every scoped export was
// refused as "not a read or search of a resource type".
func TestSMARTBulkExport(t *testing.T) {
	se := newSmartEnv(t)
	people := loadPeople(t, se.env)
	related := people["01"]
	relate(t, se.env, related)
	related.byType["Encounter"] = append(related.byType["Encounter"], fhir.Resource{Type: "Encounter", ID: "ryq-visit"})

	se.token = se.accessToken(t, se.wide, "system/*.rs")
	m := se.poll(t, se.kickOff(t, http.MethodGet, "/Patient/$export", ""))
	got := se.download(t, m)
	if _, ok := got[related.patient]; !ok {
		t.Fatalf("the trust's export lacks %s, whom it treats: %v", related.patient, slices.Collect(maps.Keys(got)))
	}
	sameResources(t, got, se.readable(t, people, patientTypes()))

	se.token = se.accessToken(t, se.narrow, "system/Patient.rs")
	got = se.download(t, se.poll(t, se.kickOff(t, http.MethodPost, "/$export", "")))
	if len(got) == 0 {
		t.Fatal("a system/Patient.rs export holds nothing")
	}
	for ref := range got {
		if !strings.HasPrefix(ref, "Patient/") {
			t.Errorf("a system/Patient.rs export holds %s", ref)
		}
	}
	for _, tc := range []struct {
		path string
		want int
	}{{"/$export?_type=Patient,Encounter", http.StatusBadRequest}, {"/$export?_type=Encounter", http.StatusBadRequest}, {"/Group/any/$export", http.StatusForbidden}} {
		path := tc.path
		r := se.do(http.MethodGet, path, "", "Accept", "application/fhir+json", "Prefer", "respond-async")
		if r.Status != tc.want {
			t.Fatalf("GET %s with system/Patient.rs: %d %s; want %d", path, r.Status, r.Body, tc.want)
		}
		issues := outcome(t, r)
		if msg, _ := issues[0]["diagnostics"].(string); !strings.Contains(msg, "system/Patient.rs") {
			t.Errorf("GET %s: refusal %q should name the token's scope", path, msg)
		}
	}
}

package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// Every mistake is an OperationOutcome with the right status, and nothing
// is stored.
func TestBadInput(t *testing.T) {
	e := newEnv(t, gateway.Config{MaxBodyBytes: 4096})
	big := `{"resourceType":"Patient","name":[{"text":"` + strings.Repeat("x", 5000) + `"}]}`
	cases := []struct {
		note, method, path, body string
		headers                  []string
		status                   int
		expr                     string // an expected issue.expression, if any
	}{
		{note: "malformed JSON", method: "POST", path: "/Patient", body: `{"resourceType":"Patient",`, status: 400},
		{note: "not an object", method: "POST", path: "/Patient", body: `[1,2]`, status: 400},
		{note: "wrong resourceType", method: "POST", path: "/Patient", body: `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`, status: 400, expr: "resourceType"},
		{note: "unknown element", method: "POST", path: "/Patient", body: `{"resourceType":"Patient","name":[{"family":"X","nickname":"Y"}]}`, status: 422, expr: "Patient.name[0].nickname"},
		{note: "bad code", method: "POST", path: "/Patient", body: `{"resourceType":"Patient","gender":"man"}`, status: 422, expr: "Patient.gender"},
		{note: "operator key in body", method: "POST", path: "/Patient", body: `{"resourceType":"Patient","$where":"1"}`, status: 422},
		{note: "NHS number check digit", method: "POST", path: "/Patient", body: `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990010006"}]}`, status: 422, expr: "Patient.identifier[0].value"},
		{note: "invalid id in URL", method: "GET", path: "/Patient/bad$id", status: 400},
		{note: "id mismatch", method: "PUT", path: "/Patient/a1", body: `{"resourceType":"Patient","id":"a2"}`, status: 400, expr: "Patient.id"},
		{note: "update without id", method: "PUT", path: "/Patient/a1", body: `{"resourceType":"Patient"}`, status: 400, expr: "Patient.id"},
		{note: "oversized body", method: "POST", path: "/Patient", body: big, status: 413},
		{note: "wrong content type", method: "POST", path: "/Patient", body: patientAda, headers: []string{"Content-Type", "text/plain"}, status: 415},
		{note: "xml only client", method: "GET", path: "/Patient", headers: []string{"Accept", "application/fhir+xml"}, status: 406},
		{note: "_format xml", method: "GET", path: "/Patient?_format=xml", status: 406, expr: "_format"},
		{note: "method not allowed", method: "DELETE", path: "/Patient", status: 405},
		{note: "unknown type", method: "GET", path: "/Spaceship/1", status: 404},
		{note: "missing resource", method: "GET", path: "/Patient/nope", status: 404},
		{note: "bad If-Match", method: "PUT", path: "/Patient/a1", body: `{"resourceType":"Patient","id":"a1"}`, headers: []string{"If-Match", "soon"}, status: 400, expr: "If-Match"},
		{note: "unknown search parameter", method: "GET", path: "/Patient?colour=blue", status: 400, expr: "colour"},
		{note: "invalid date prefix", method: "GET", path: "/Patient?birthdate=xx2000", status: 400, expr: "birthdate"},
		{note: "invalid date", method: "GET", path: "/Patient?birthdate=2000-13-45", status: 400, expr: "birthdate"},
		{note: "operator injection in parameter name", method: "GET", path: "/Patient?_id[$ne]=x", status: 400},
		{note: "bad _count", method: "GET", path: "/Patient?_count=lots", status: 400, expr: "_count"},
		{note: "bad cursor", method: "GET", path: "/Patient?_cursor=AAAA", status: 400, expr: "_cursor"},
		{note: "bad vid", method: "GET", path: "/Patient/a1/_history/x", status: 400},
		{note: "transaction bundle", method: "POST", path: "/", body: `{"resourceType":"Bundle","type":"transaction"}`, status: 422},
	}
	for _, tc := range cases {
		t.Run(tc.note, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			issues := outcome(t, r)
			if tc.expr != "" {
				found := false
				for _, is := range issues {
					for _, x := range asStrings(is["expression"]) {
						found = found || x == tc.expr
					}
				}
				if !found {
					t.Errorf("no issue at %q: %s", tc.expr, r.Body)
				}
			}
			for _, is := range issues {
				if d, _ := is["diagnostics"].(string); d == "" {
					t.Errorf("issue without a message: %v", is)
				}
			}
		})
	}
	// Nothing of the rejected writes was stored.
	r := e.do("GET", "/Patient?_total=accurate", "")
	e.mustStatus(r, http.StatusOK)
	if tot := r.json(t)["total"]; tot != float64(0) {
		t.Fatalf("rejected writes left %v patients", tot)
	}
}

func TestOperatorInjectionInValues(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	e.mustStatus(e.do("POST", "/Patient", patientAda), http.StatusCreated)
	// These are plain string values: they must match nothing, never everything.
	for _, q := range []string{`name=%7B%22%24ne%22%3Anull%7D`, `name=$where`, `family=.*`, `_id=%7B%22%24gt%22%3A%22%22%7D`} {
		r := e.do("GET", "/Patient?"+q, "")
		if r.Status == http.StatusOK {
			if n := len(asSlice(r.json(t)["entry"])); n != 0 {
				t.Errorf("%s matched %d resources", q, n)
			}
		} else if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d", q, r.Status)
		}
	}
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

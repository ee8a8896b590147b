package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// countingBody records how much of a request body was read.
type countingBody struct {
	r    *strings.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// A caller the policy lets write nothing at all (a GP practice, an NHS
// trust) is refused before its body is read: a large body costs the
// gateway nothing. (A person may write rights requests, so a person's body
// is read and judged.)
func TestNoWriteRightNoBodyRead(t *testing.T) {
	w := newWriteEnv(t)
	body := `{"resourceType":"Observation","status":"final","code":{"text":"x"},"note":[{"text":"` + strings.Repeat("a", 500000) + `"}]}`
	for _, name := range []string{wGP, wTrust, wCouncil} {
		tok := w.tokens[name]
		for _, tc := range []struct{ method, path, ct string }{
			{http.MethodPost, "/Observation", "application/fhir+json"},
			{http.MethodPut, "/Observation/o1", "application/fhir+json"},
			{http.MethodPost, "/social-care/records", "application/json"},
		} {
			b := &countingBody{r: strings.NewReader(body)}
			req := httptest.NewRequest(tc.method, tc.path, b)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", tc.ct)
			rec := httptest.NewRecorder()
			w.srv.Config.Handler.ServeHTTP(rec, req)
			switch name {
			case wGP, wTrust:
				if rec.Code != http.StatusForbidden || b.read != 0 {
					t.Errorf("%s %s %s: %d after reading %d bytes of the body, want 403 before reading any: %s", name, tc.method, tc.path, rec.Code, b.read, rec.Body)
				}
			case wCouncil:
				// The council may write: its body is read (and judged).
				if b.read == 0 {
					t.Errorf("%s %s %s: %d without reading the body", name, tc.method, tc.path, rec.Code)
				}
			}
		}
	}
}

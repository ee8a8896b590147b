package gateway_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// A POST _search is audited with the parameters of its body, as a GET
// search is with its query string.
func TestPostSearchRecordsItsQuery(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	e.mustStatus(e.doForm("/Patient/_search", "family=Lovelace&gender=female"), http.StatusOK)
	e.mustStatus(e.do(http.MethodGet, "/Patient?family=Byron", ""), http.StatusOK)
	qs := e.auditQueries()
	if !slices.ContainsFunc(qs, func(q string) bool {
		return strings.Contains(q, "family=Lovelace") && strings.Contains(q, "gender=female")
	}) {
		t.Errorf("audited queries %q lack the POST _search body's parameters", qs)
	}
	if !slices.Contains(qs, "family=Byron") {
		t.Errorf("audited queries %q lack the GET search's", qs)
	}
}

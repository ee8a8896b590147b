package gateway_test

import (
	"net/http"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// A conditional create whose criteria match a resource the caller may not
// see is refused (409), not made into a duplicate.
func TestConditionalCreateDoesNotDuplicateWhatTheCallerCannotSee(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	// A social worker of another council in the agreement, which knows none
	// of them.
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "LA001", Role: "R1330", Purpose: "TREAT"})
	tried := 0
	for _, p := range people {
		if p.nhs == "" {
			continue
		}
		if r := e.do(http.MethodGet, "/"+p.patient, ""); r.Status != http.StatusForbidden {
			continue
		}
		tried++
		body := `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + p.nhs + `"}]}`
		r := e.do(http.MethodPost, "/Patient", body, "If-None-Exist", "identifier=https://fhir.nhs.uk/Id/nhs-number|"+p.nhs)
		if r.Status != http.StatusConflict {
			t.Errorf("conditional create of %s's NHS number, held but hidden: %d %s; want 409", p.patient, r.Status, r.Body)
		}
		if tried == 3 {
			break
		}
	}
	if tried == 0 {
		t.Fatal("the other council sees every person: the test says nothing")
	}
	// No match at all still creates.
	r := e.do(http.MethodPost, "/Patient", `{"resourceType":"Patient","identifier":[{"system":"https://example.org/x","value":"new-1"}]}`,
		"If-None-Exist", "identifier=https://example.org/x|new-1")
	if r.Status != http.StatusCreated {
		t.Errorf("conditional create with no match: %d %s", r.Status, r.Body)
	}
}

package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/gateway"
)

// A refusal tells the caller only what the policy discloses: a rule about
// the person (an objection, third-party content) only to a caller who
// passes every other rule. The audit trail keeps every reason.
func TestRefusalDisclosesNothingAboutThePerson(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01, p05, p11 := people["01"], people["05"], people["11"]
	obs05 := p05.first(t, "Observation", nil)
	consent11 := p11.first(t, "Consent", hasLabel("third-party-confidential"))
	self01 := mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-01", Purpose: "PATRQT", NHSNumber: p01.nhs})
	self11 := mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-11", Purpose: "PATRQT", NHSNumber: p11.nhs})

	tests := []struct {
		note, token, path string
		told, notTold     []string
	}{
		{note: "a trust with no relationship is not told the person objected", token: mintTrust(t), path: obs05,
			told: []string{"REL-3-relationship"}, notTold: []string{"OBJ-5-objection"}},
		{note: "the person's GP, passing every other rule, is told", token: gpToken(t, "R0260", "TREAT"), path: obs05,
			told: []string{"OBJ-5-objection"}},
		{note: "another person is not told the record holds third-party content", token: self01, path: consent11,
			told: []string{"SELF-6"}, notTold: []string{"SELF-6-third-party"}},
		{note: "the person themselves is told", token: self11, path: consent11,
			told: []string{"SELF-6-third-party"}},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			r := e.do(http.MethodGet, "/"+tc.path, "", "Authorization", "Bearer "+tc.token)
			e.mustStatus(r, http.StatusForbidden)
			d := diagnostics(t, r)
			for _, id := range tc.told {
				if !strings.Contains(d, id+",") && !strings.Contains(d, id+";") {
					t.Errorf("refusal %q does not name %s", d, id)
				}
			}
			for _, id := range tc.notTold {
				if strings.Contains(d, id) {
					t.Errorf("refusal %q names %s", d, id)
				}
			}
		})
	}

	// The IG lead sees every reason of the trust's refusal.
	ig := councilToken(t, "R5105", "HOPERAT")
	r := e.do(http.MethodGet, "/AuditEvent?allowed=false&agent-org=RJ1", "", "Authorization", "Bearer "+ig)
	e.mustStatus(r, http.StatusOK)
	for _, want := range []string{"REL-3-relationship", "OBJ-5-objection"} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("the audit record of the trust's refusal lacks %s: %s", want, r.Body)
		}
	}
}

// accesses are the access parts of a $who-accessed answer, each as its
// parts by name.
func accesses(t *testing.T, r *response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range asSlice(r.json(t)["parameter"]) {
		parts := map[string]any{}
		for _, part := range asSlice(p.(map[string]any)["part"]) {
			pm := part.(map[string]any)
			for k, v := range pm {
				if strings.HasPrefix(k, "value") {
					parts[pm["name"].(string)] = v
				}
			}
		}
		out = append(out, parts)
	}
	return out
}

// Every refused attempt on a person's record reaches their access report:
// staff by organisation and role, the public as "a member of the public",
// never named.
func TestWhoAccessedShowsRefusedAttempts(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01, p02 := people["01"], people["02"]
	self01 := mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-01", Purpose: "PATRQT", NHSNumber: p01.nhs})
	self02 := mint(t, auth.DevClaims{Kind: auth.ShapePerson, Subject: "person-02", Purpose: "PATRQT", NHSNumber: p02.nhs})
	as := func(token, path string) *response {
		return e.do(http.MethodGet, path, "", "Authorization", "Bearer "+token)
	}
	e.mustStatus(as(self01, "/"+p02.first(t, "CarePlan", nil)), http.StatusForbidden)
	e.mustStatus(as(self01, "/"+p02.patient), http.StatusForbidden)
	e.mustStatus(as(mintTrust(t), "/"+p02.first(t, "CarePlan", nil)), http.StatusForbidden)
	// The person's own reads are not in their report.
	e.mustStatus(as(self02, "/"+p02.patient), http.StatusOK)

	r := as(self02, "/"+p02.patient+"/$who-accessed")
	e.mustStatus(r, http.StatusOK)
	var public, trust int
	for _, a := range accesses(t, r) {
		if a["allowed"] != false {
			t.Errorf("an allowed access in the report: %v", a)
		}
		switch {
		case a["who"] == "a member of the public":
			public++
			if a["organization"] != nil || a["role"] != nil {
				t.Errorf("a member of the public with an organisation or role: %v", a)
			}
		case a["organization"].(map[string]any)["value"] == "RJ1":
			trust++
		default:
			t.Errorf("unexpected access %v", a)
		}
	}
	if public != 2 || trust != 1 {
		t.Errorf("%d refused attempts by the public, %d by the trust; want 2 and 1: %s", public, trust, r.Body)
	}
	for _, leak := range []string{p01.nhs, "person-01", strings.TrimPrefix(p01.patient, "Patient/")} {
		if strings.Contains(string(r.Body), leak) {
			t.Errorf("the report names the other person (%s): %s", leak, r.Body)
		}
	}
	page := as(self02, "/"+p02.patient+"/$who-accessed?_format=html")
	e.mustStatus(page, http.StatusOK)
	if !strings.Contains(string(page.Body), "a member of the public") || strings.Contains(string(page.Body), p01.nhs) {
		t.Errorf("page: %s", page.Body)
	}
}

// $who-accessed is for the person and for council staff who know them
// (SELF-6-access-report, AUDIT-8-access-report), decided by the policy:
// not for an NHS trust with an active episode, nor for the person's GP.
func TestWhoAccessedIsForThePersonAndTheCouncil(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	p01, p02 := people["01"], people["02"]
	ctx := context.Background()
	// The trust RJ1 gets an active episode of care with person 01.
	for _, res := range []fhir.Resource{
		{Type: "Organization", ID: "org-rj1", Object: map[string]any{"resourceType": "Organization", "id": "org-rj1",
			"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RJ1"}}}},
		{Type: "EpisodeOfCare", ID: "ep-rj1", Object: map[string]any{"resourceType": "EpisodeOfCare", "id": "ep-rj1", "status": "active",
			"patient": map[string]any{"reference": p01.patient}, "managingOrganization": map[string]any{"reference": "Organization/org-rj1"}}},
	} {
		if _, err := e.store.Update(ctx, &res, 0); err != nil {
			t.Fatal(err)
		}
	}
	report := "/" + p01.patient + "/$who-accessed"
	tests := []struct {
		note, token string
		status      int
		reason      string
	}{
		{"the person", mint(t, auth.DevClaims{Kind: auth.ShapePerson, Purpose: "PATRQT", NHSNumber: p01.nhs}), 200, ""},
		{"council social worker who knows the person", councilToken(t, "R1330", "TREAT"), 200, ""},
		{"council IG lead", councilToken(t, "R5105", "HOPERAT"), 200, ""},
		{"another person", mint(t, auth.DevClaims{Kind: auth.ShapePerson, Purpose: "PATRQT", NHSNumber: p02.nhs}), 403, "SELF-6-access-report"},
		{"trust with an active episode", mintTrust(t), 403, "AUDIT-8-access-report"},
		{"the person's GP", gpToken(t, "R0260", "TREAT"), 403, "AUDIT-8-access-report"},
		{"a care provider", mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYNH1", Role: "R1460", Purpose: "TREAT"}), 403, "AUDIT-8-access-report"},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			r := e.do(http.MethodGet, report, "", "Authorization", "Bearer "+tc.token)
			e.mustStatus(r, tc.status)
			if tc.reason != "" && !strings.Contains(diagnostics(t, r), tc.reason) {
				t.Errorf("refusal %q does not name %s", diagnostics(t, r), tc.reason)
			}
		})
	}
	// The refused attempts reach the person's report too.
	r := e.do(http.MethodGet, report, "", "Authorization", "Bearer "+mint(t, auth.DevClaims{Kind: auth.ShapePerson, Purpose: "PATRQT", NHSNumber: p01.nhs}))
	refusedOps, allowedOps := 0, 0
	for _, a := range accesses(t, r) {
		if a["interaction"] != "operation" {
			continue
		}
		if a["allowed"] == true {
			allowedOps++
		} else {
			refusedOps++
		}
	}
	// The council's two reads of the report, and the other person's, the
	// trust's, the GP's and the provider's refused attempts; the person's
	// own reads are not listed.
	if allowedOps != 2 || refusedOps != 4 {
		t.Errorf("report reads in the report: %d allowed, %d refused; want 2 and 4: %s", allowedOps, refusedOps, r.Body)
	}
}

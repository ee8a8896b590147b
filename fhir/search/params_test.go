package search

import (
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func TestDefinitionsCoverEveryServedType(t *testing.T) {
	for _, rt := range fhir.ResourceTypes {
		params := Params(rt)
		if len(params) == 0 {
			t.Errorf("%s: no search parameters", rt)
			continue
		}
		if !slices.IsSortedFunc(params, func(a, b Param) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("%s: parameters not sorted by name", rt)
		}
		for i, p := range params {
			if i > 0 && params[i-1].Name == p.Name {
				t.Errorf("%s: %s defined twice", rt, p.Name)
			}
			if p.Expression == "" || p.Documentation == "" {
				t.Errorf("%s.%s: missing expression or documentation", rt, p.Name)
			}
			if (p.Type == TypeReference) != (len(p.Targets) > 0) {
				t.Errorf("%s.%s: type %s with targets %v", rt, p.Name, p.Type, p.Targets)
			}
			for _, target := range p.Targets {
				if !fhir.Supported(target) {
					t.Errorf("%s.%s: target %s is not served", rt, p.Name, target)
				}
			}
			if p.Sortable != (p.Type == TypeDate || p.Name == "_id") {
				t.Errorf("%s.%s: sortable=%v for a %s parameter", rt, p.Name, p.Sortable, p.Type)
			}
		}
		for _, common := range []string{"_id", "_lastUpdated", "_security", "_tag", "_profile"} {
			if _, ok := Lookup(rt, common); !ok {
				t.Errorf("%s: common parameter %s missing", rt, common)
			}
		}
		_, hasIdentifier := Lookup(rt, "identifier")
		if want := rt != "AuditEvent" && rt != "Provenance"; hasIdentifier != want {
			t.Errorf("%s: identifier parameter present=%v, want %v", rt, hasIdentifier, want)
		}
	}
}

// TestRequiredParams checks the parameters a care record needs, with their
// R4 types.
func TestRequiredParams(t *testing.T) {
	want := map[string]map[string]string{
		"Patient":                  {"name": "string", "family": "string", "given": "string", "birthdate": "date", "gender": "token", "general-practitioner": "reference", "address-postalcode": "string", "death-date": "date", "active": "token", "organization": "reference"},
		"RelatedPerson":            {"patient": "reference", "name": "string", "relationship": "token"},
		"Practitioner":             {"name": "string", "family": "string", "given": "string"},
		"PractitionerRole":         {"practitioner": "reference", "organization": "reference", "role": "token"},
		"Organization":             {"name": "string", "type": "token"},
		"CareTeam":                 {"patient": "reference", "subject": "reference", "status": "token", "category": "token", "participant": "reference", "date": "date"},
		"EpisodeOfCare":            {"patient": "reference", "status": "token", "type": "token", "date": "date", "organization": "reference", "care-manager": "reference"},
		"CarePlan":                 {"patient": "reference", "subject": "reference", "status": "token", "date": "date", "category": "token", "intent": "token", "care-team": "reference", "activity-reference": "reference"},
		"Goal":                     {"patient": "reference", "subject": "reference", "lifecycle-status": "token", "target-date": "date"},
		"ServiceRequest":           {"patient": "reference", "subject": "reference", "status": "token", "intent": "token", "code": "token", "category": "token", "authored": "date", "requester": "reference", "performer": "reference"},
		"Encounter":                {"patient": "reference", "subject": "reference", "date": "date", "status": "token", "type": "token", "class": "token", "service-provider": "reference", "participant": "reference", "episode-of-care": "reference"},
		"Observation":              {"patient": "reference", "subject": "reference", "code": "token", "category": "token", "date": "date", "status": "token", "value-quantity": "quantity", "encounter": "reference", "performer": "reference"},
		"MedicationAdministration": {"patient": "reference", "subject": "reference", "effective-time": "date", "status": "token", "code": "token", "medication": "reference", "performer": "reference"},
		"Medication":               {"code": "token"},
		"Flag":                     {"patient": "reference", "subject": "reference", "date": "date", "category": "token", "status": "token", "author": "reference"},
		"AdverseEvent":             {"patient": "reference", "subject": "reference", "date": "date", "category": "token", "event": "token", "actuality": "token", "recorder": "reference"},
		"Consent":                  {"patient": "reference", "status": "token", "category": "token", "scope": "token", "date": "date", "actor": "reference"},
		"Provenance":               {"target": "reference", "patient": "reference", "recorded": "date", "agent": "reference"},
		"DocumentReference":        {"patient": "reference", "subject": "reference", "status": "token", "type": "token", "category": "token", "date": "date"},
		"Composition":              {"patient": "reference", "subject": "reference", "status": "token", "type": "token", "date": "date"},
		"Basic":                    {"patient": "reference", "subject": "reference", "code": "token", "created": "date", "author": "reference"},
		"Task":                     {"patient": "reference", "subject": "reference", "focus": "reference", "status": "token", "business-status": "token", "code": "token", "authored-on": "date", "modified": "date", "requester": "reference", "deadline": "date"},
		"Group":                    {"actual": "token", "characteristic": "token", "code": "token", "exclude": "token", "identifier": "token", "managing-entity": "reference", "member": "reference", "type": "token", "value": "token"},
		"AuditEvent":               {"date": "date", "patient": "reference", "agent": "reference", "entity": "reference", "type": "token", "subtype": "token", "outcome": "token", "action": "token"},
	}
	for rt, params := range want {
		for name, typ := range params {
			p, ok := Lookup(rt, name)
			if !ok {
				t.Errorf("%s.%s missing", rt, name)
				continue
			}
			if p.Type != typ {
				t.Errorf("%s.%s has type %s, want %s", rt, name, p.Type, typ)
			}
		}
	}
	if _, ok := Lookup("Patient", "nonsense"); ok {
		t.Error("Lookup found an undefined parameter")
	}
	if Params("Unknown") != nil {
		t.Error("Params of an unknown type is not nil")
	}
}

func TestParamsReturnsCopies(t *testing.T) {
	p, _ := Lookup("Observation", "subject")
	p.Targets[0] = "Changed"
	again, _ := Lookup("Observation", "subject")
	if again.Targets[0] == "Changed" {
		t.Error("Lookup exposes the shared table")
	}
}

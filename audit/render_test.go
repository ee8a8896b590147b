package audit

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func TestAuditEventRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{Source: "gw.example"})
		id := mustRecord(t, l, readEntry(0, "Patient/p1"))
		got, err := l.AuditEvent(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		want := `{
		 "resourceType": "AuditEvent", "id": "` + id + `",
		 "meta": {"lastUpdated": "2025-03-01T09:00:00Z"},
		 "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "Restful Operation"},
		 "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read", "display": "read"}],
		 "action": "R", "recorded": "2025-03-01T09:00:00Z", "outcome": "0",
		 "source": {"site": "gw.example", "observer": {"display": "gw.example"},
		   "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server"}]},
		 "agent": [
		  {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152", "display": "Destination Role ID"}]},
		   "who": {"identifier": {"value": "gp-app"}}, "requestor": false},
		  {"type": {"coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110153", "display": "Source Role ID"}]},
		   "who": {"display": "gw.example"}, "requestor": false},
		  {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP", "display": "information recipient"}]},
		   "who": {"identifier": {"value": "u-gp"}}, "requestor": true,
		   "role": [{"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName", "code": "R8001"}]}],
		   "purposeOfUse": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]}]},
		  {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PROV", "display": "healthcare provider"}]},
		   "who": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "G81001"}}, "requestor": false}
		 ],
		 "entity": [
		  {"what": {"reference": "Patient/p1"},
		   "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1", "display": "Person"},
		   "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}},
		  {"what": {"reference": "CarePlan/cp-0"},
		   "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2", "display": "System Object"},
		   "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "4", "display": "Domain Resource"}},
		  {"what": {"identifier": {"value": "req-0"}},
		   "type": {"system": "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType", "code": "XrequestId"},
		   "detail": [
		    {"type": "interaction", "valueString": "read"},
		    {"type": "resource-type", "valueString": "CarePlan"},
		    {"type": "http-status", "valueString": "200"},
		    {"type": "policy-decision", "valueString": "permit"},
		    {"type": "policy-revision", "valueString": "rev-1"},
		    {"type": "policy-reason", "valueString": "DSA-1-signatory"},
		    {"type": "category", "valueString": "https://socialcare-fhir.example.org/CodeSystem/record-category|care-plan"}
		   ]}
		 ]
		}`
		var w any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		if g := roundTrip(t, got); !reflect.DeepEqual(g, w) {
			out, _ := json.MarshalIndent(g, "", " ")
			t.Fatalf("AuditEvent =\n%s", out)
		}
	})
}

func TestAuditEventShapes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		search := readEntry(1, "Patient/p1")
		search.Interaction, search.ResourceType, search.Query = "search-type", "Encounter", "patient=p1"
		search.Agent = Agent{Kind: KindSystem, Subject: "cm", Org: "LA001", Purpose: "COC"}
		refused := readEntry(2, "Patient/p1")
		refused.Decision = Decision{Allowed: false, Reasons: []string{"NTK-4-need-to-know", "DSA-1-signatory"}}
		refused.HTTPStatus = 403
		ingest := readEntry(3, "Patient/p1")
		ingest.Interaction = InteractionIngest
		person := readEntry(4, "Patient/p1")
		person.Agent = Agent{Kind: KindPerson, Subject: "nhs-login-1", Purpose: "PATRQT", Patient: "Patient/p1"}
		person.Interaction, person.Operation = "operation", "$who-accessed"
		bg := breakGlassEntry(5, true)

		tests := []struct {
			note   string
			e      Entry
			checks map[string]any // path -> value
		}{
			{"search", search, map[string]any{
				"action": "E", "subtype.0.code": "search-type",
				"agent.0.type.coding.0.code": "110153", "agent.0.requestor": true, "agent.0.who.identifier.value": "cm",
				"agent.0.purposeOfUse.0.coding.0.code": "COC",
				"agent.1.type.coding.0.code":           "110152",
				"agent.2.type.coding.0.code":           "PROV", // no human user agent
				"entity.2.role.code":                   "24", "entity.2.query": "cGF0aWVudD1wMQ==", "entity.2.what.display": "Encounter",
			}},
			{"refused", refused, map[string]any{
				"type.system": "http://dicom.nema.org/resources/ontology/DCM", "type.code": "110113",
				"subtype.0.code": "AuthZ-Consent", "action": "E", "outcome": "8",
				"outcomeDesc":                "refused by policy: NTK-4-need-to-know, DSA-1-signatory",
				"agent.0.type.coding.0.code": "110150", "agent.2.type.coding.0.code": "authserver",
				"entity.2.detail.3.valueString": "deny",
			}},
			{"ingest", ingest, map[string]any{
				"action": "C", "subtype.0.system": "https://socialcare-fhir.example.org/CodeSystem/audit-event-subtype",
				"subtype.0.code": "ingest",
			}},
			{"person operation", person, map[string]any{
				"action": "E", "subtype.0.code": "operation",
				"agent.2.who.reference": "Patient/p1", "agent.2.purposeOfUse.0.coding.0.code": "PATRQT",
				"entity.2.detail.1.type": "operation", "entity.2.detail.1.valueString": "$who-accessed",
			}},
			{"break glass", bg, map[string]any{
				"agent.2.purposeOfUse.0.coding.0.code": "BTG",
				"entity.2.detail.6.type":               "break-glass", "entity.2.detail.7.valueString": "unconscious in A&E",
			}},
		}
		for _, tc := range tests {
			t.Run(tc.note, func(t *testing.T) {
				id := mustRecord(t, l, tc.e)
				ev, err := l.AuditEvent(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				doc := roundTrip(t, ev)
				for path, want := range tc.checks {
					if got := at(doc, path); !reflect.DeepEqual(got, want) {
						out, _ := json.MarshalIndent(doc, "", " ")
						t.Fatalf("%s = %v, want %v in\n%s", path, got, want, out)
					}
				}
			})
		}
		if _, err := l.AuditEvent(context.Background(), "missing"); !errors.Is(err, fhir.ErrNotFound) {
			t.Fatalf("AuditEvent(missing): %v", err)
		}
	})
}

// at follows a dotted path of keys and list indexes through parsed JSON.
func at(v any, path string) any {
	for len(path) > 0 {
		key := path
		rest := ""
		for i := range len(path) {
			if path[i] == '.' {
				key, rest = path[:i], path[i+1:]
				break
			}
		}
		switch x := v.(type) {
		case map[string]any:
			v = x[key]
		case []any:
			i := 0
			for _, c := range key {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
		path = rest
	}
	return v
}

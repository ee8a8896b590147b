package validate

import (
	"strings"
	"testing"
)

// invariantCase is one R4 invariant: a resource that breaks it (rejected with
// one issue naming the key at expr) and one that keeps it (accepted).
type invariantCase struct {
	key, note string
	bad, good string
	expr      string
}

func invariantCases() []invariantCase {
	obs := func(extra string) string {
		return `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}` + extra + `}`
	}
	pat := func(extra string) string { return `{"resourceType": "Patient"` + extra + `}` }
	org := func(extra string) string { return `{"resourceType": "Organization", "name": "Council"` + extra + `}` }
	sr := func(extra string) string {
		return `{"resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": {"reference": "Patient/1"}` + extra + `}`
	}
	repeat := func(r string) string { return sr(`, "occurrenceTiming": {"repeat": {` + r + `}}`) }
	ma := func(dosage string) string {
		return `{"resourceType": "MedicationAdministration", "status": "completed", "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"}, "effectiveDateTime": "2024-01-01", "dosage": ` + dosage + `}`
	}
	comp := func(section string) string {
		return `{"resourceType": "Composition", "status": "final", "type": {"text": "x"}, "date": "2024-01-01", "author": [{"reference": "Practitioner/1"}], "title": "t", "section": [` + section + `]}`
	}
	consent := func(extra string) string {
		return `{"resourceType": "Consent", "status": "active", "category": [{"text": "x"}]` + extra + `}`
	}
	scope := func(code, extra string) string {
		return consent(`, "policyRule": {"text": "p"}, "scope": {"coding": [{"system": "something", "code": "` + code + `"}]}` + extra)
	}
	audit := func(entity string) string {
		return `{"resourceType": "AuditEvent", "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110"}, "recorded": "2024-01-01T00:00:00Z", "agent": [{"requestor": true}], "source": {"observer": {"display": "gateway"}}, "entity": [` + entity + `]}`
	}
	enc := func(length string) string {
		return `{"resourceType": "Encounter", "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH"}, "length": ` + length + `}`
	}
	div := func(inner string) string {
		return pat(`, "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">` + inner + `</div>"}`)
	}
	loinc := `{"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}`
	return []invariantCase{
		{key: "obs-6", bad: obs(`, "valueString": "a", "dataAbsentReason": {"text": "x"}`), good: obs(`, "dataAbsentReason": {"text": "x"}`), expr: "Observation"},
		{key: "obs-7", bad: `{"resourceType": "Observation", "status": "final", "code": ` + loinc + `, "valueString": "a", "component": [{"code": ` + loinc + `, "valueString": "b"}]}`,
			good: `{"resourceType": "Observation", "status": "final", "code": ` + loinc + `, "component": [{"code": ` + loinc + `, "valueString": "b"}]}`, expr: "Observation"},
		{key: "obs-3", bad: obs(`, "referenceRange": [{"appliesTo": [{"text": "adults"}]}]`), good: obs(`, "referenceRange": [{"text": "normal"}]`), expr: "Observation.referenceRange[0]"},
		{key: "pat-1", bad: pat(`, "contact": [{"relationship": [{"text": "neighbour"}]}]`), good: pat(`, "contact": [{"relationship": [{"text": "neighbour"}], "name": {"family": "X"}}]`), expr: "Patient.contact[0]"},
		{key: "org-1", bad: `{"resourceType": "Organization", "active": true}`, good: `{"resourceType": "Organization", "active": true, "identifier": [{"value": "1"}]}`, expr: "Organization"},
		{key: "org-2", bad: org(`, "address": [{"city": "Leeds"}, {"use": "home", "city": "Leeds"}]`), good: org(`, "address": [{"use": "work", "city": "Leeds"}]`), expr: "Organization.address[1]"},
		{key: "org-3", bad: org(`, "telecom": [{"system": "phone", "value": "1", "use": "home"}]`), good: org(`, "telecom": [{"system": "phone", "value": "1", "use": "work"}]`), expr: "Organization.telecom[0]"},
		{key: "cpl-3", bad: `{"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": {"reference": "Patient/1"}, "activity": [{"reference": {"reference": "ServiceRequest/1"}, "detail": {"status": "scheduled"}}]}`,
			good: `{"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": {"reference": "Patient/1"}, "activity": [{"detail": {"status": "scheduled"}}]}`, expr: "CarePlan.activity[0]"},
		{key: "cmp-1", bad: comp(`{"title": "s"}`), good: comp(`{"title": "s", "entry": [{"reference": "Observation/1"}]}`), expr: "Composition.section[0]"},
		{key: "cmp-2", bad: comp(`{"emptyReason": {"text": "none"}, "entry": [{"reference": "Observation/1"}]}`), good: comp(`{"emptyReason": {"text": "none"}, "section": [{"entry": [{"reference": "Observation/1"}]}]}`), expr: "Composition.section[0]"},
		{key: "ppc-1", bad: consent(`, "scope": {"text": "x"}`), good: consent(`, "scope": {"text": "x"}, "policy": [{"uri": "https://example.org/policy"}]`), expr: "Consent"},
		{key: "ppc-2", bad: scope("patient-privacy", ""), good: scope("patient-privacy", `, "patient": {"reference": "Patient/1"}`), expr: "Consent"},
		{key: "ppc-3", bad: scope("research", ""), good: scope("research", `, "patient": {"reference": "Patient/1"}`), expr: "Consent"},
		{key: "ppc-4", bad: scope("adr", ""), good: scope("adr", `, "patient": {"reference": "Patient/1"}`), expr: "Consent"},
		{key: "ppc-5", bad: scope("treatment", ""), good: scope("treatment", `, "patient": {"reference": "Patient/1"}`), expr: "Consent"},
		{key: "gol-1", bad: `{"resourceType": "Goal", "lifecycleStatus": "active", "description": {"text": "x"}, "subject": {"reference": "Patient/1"}, "target": [{"detailString": "x"}]}`,
			good: `{"resourceType": "Goal", "lifecycleStatus": "active", "description": {"text": "x"}, "subject": {"reference": "Patient/1"}, "target": [{"measure": {"text": "m"}, "detailString": "x"}]}`, expr: "Goal.target[0]"},
		{key: "mad-1", bad: ma(`{"text": "one tablet"}`), good: ma(`{"text": "one tablet", "dose": {"value": 1, "unit": "tablet"}}`), expr: "MedicationAdministration.dosage"},
		{key: "sqty-1", bad: ma(`{"dose": {"value": 1, "comparator": "<", "unit": "tablet"}}`), good: ma(`{"dose": {"value": 1, "unit": "tablet"}}`), expr: "MedicationAdministration.dosage.dose"},
		{key: "sqty-1", note: "Range.low", bad: obs(`, "valueRange": {"low": {"value": 1, "comparator": ">"}}`), good: obs(`, "valueRange": {"low": {"value": 1}}`), expr: "Observation.valueRange.low"},
		{key: "prr-1", bad: sr(`, "orderDetail": [{"text": "x"}]`), good: sr(`, "orderDetail": [{"text": "x"}], "code": {"text": "x"}`), expr: "ServiceRequest"},
		{key: "sev-1", bad: audit(`{"name": "n", "query": "cXVlcnk="}`), good: audit(`{"name": "n"}`), expr: "AuditEvent.entity[0]"},
		{key: "per-1", bad: pat(`, "name": [{"family": "X", "period": {"start": "2024-02-01", "end": "2024-01-31"}}]`), good: pat(`, "name": [{"family": "X", "period": {"start": "2024-02-01", "end": "2024-02-01"}}]`), expr: "Patient.name[0].period"},
		{key: "per-1", note: "instants in different zones", bad: pat(`, "name": [{"family": "X", "period": {"start": "2024-01-01T10:00:00Z", "end": "2024-01-01T10:30:00+01:00"}}]`),
			good: pat(`, "name": [{"family": "X", "period": {"start": "2024-01-01T10:00:00+01:00", "end": "2024-01-01T09:30:00Z"}}]`), expr: "Patient.name[0].period"},
		{key: "per-1", note: "different precisions", bad: pat(`, "name": [{"family": "X", "period": {"start": "2024-02", "end": "2024-01-31T23:00:00Z"}}]`),
			good: pat(`, "name": [{"family": "X", "period": {"start": "2024-01", "end": "2024-01-15"}}]`), expr: "Patient.name[0].period"},
		{key: "qty-3", bad: obs(`, "valueQuantity": {"value": 1, "code": "kg"}`), good: obs(`, "valueQuantity": {"value": 1, "code": "kg", "system": "http://unitsofmeasure.org"}`), expr: "Observation.valueQuantity"},
		{key: "rng-2", bad: obs(`, "valueRange": {"low": {"value": 5, "unit": "kg"}, "high": {"value": 2.5, "unit": "kg"}}`), good: obs(`, "valueRange": {"low": {"value": 2.5, "unit": "kg"}, "high": {"value": 5, "unit": "kg"}}`), expr: "Observation.valueRange"},
		{key: "rat-1", bad: obs(`, "valueRatio": {"numerator": {"value": 1}}`), good: obs(`, "valueRatio": {"numerator": {"value": 1}, "denominator": {"value": 2}}`), expr: "Observation.valueRatio"},
		{key: "ref-1", bad: obs(`, "subject": {"reference": "#p1"}`), good: obs(`, "contained": [{"resourceType": "Patient", "id": "p1"}], "subject": {"reference": "#p1"}`), expr: "Observation.subject"},
		{key: "att-1", bad: `{"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"data": "aGVsbG8="}}]}`,
			good: `{"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"contentType": "text/plain", "data": "aGVsbG8="}}]}`, expr: "DocumentReference.content[0].attachment"},
		{key: "cpt-2", bad: pat(`, "telecom": [{"value": "01234"}]`), good: pat(`, "telecom": [{"system": "phone", "value": "01234"}]`), expr: "Patient.telecom[0]"},
		{key: "ext-1", bad: pat(`, "extension": [{"url": "https://example.org/x"}]`), good: pat(`, "extension": [{"url": "https://example.org/x", "valueString": "a"}]`), expr: "Patient.extension[0]"},
		{key: "ext-1", note: "both", bad: pat(`, "extension": [{"url": "https://example.org/x", "valueString": "a", "extension": [{"url": "y", "valueString": "b"}]}]`),
			good: pat(`, "extension": [{"url": "https://example.org/x", "extension": [{"url": "y", "valueString": "b"}]}]`), expr: "Patient.extension[0]"},
		{key: "ele-1", bad: pat(`, "maritalStatus": {"id": "m1"}`), good: pat(`, "maritalStatus": {"id": "m1", "text": "Widowed"}`), expr: "Patient.maritalStatus"},
		{key: "txt-1", bad: div(`<script>alert(1)</script>`), good: div(`<p>Jo</p>`), expr: "Patient.text"},
		{key: "txt-1", note: "event attribute", bad: div(`<p onclick='x()'>Jo</p>`), good: div(`<p class='x'>Jo &amp; Al&nbsp;</p>`), expr: "Patient.text"},
		{key: "txt-2", bad: div(` <p> </p> `), good: div(`<p>Jo</p>`), expr: "Patient.text"},
		{key: "tim-1", bad: repeat(`"duration": 1`), good: repeat(`"duration": 1, "durationUnit": "h"`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-2", bad: repeat(`"period": 1`), good: repeat(`"period": 1, "periodUnit": "d"`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-4", bad: repeat(`"duration": -0.5, "durationUnit": "h"`), good: repeat(`"duration": 0, "durationUnit": "h"`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-5", bad: repeat(`"period": -1, "periodUnit": "d"`), good: repeat(`"period": 1, "periodUnit": "d"`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-6", bad: repeat(`"periodMax": 2, "periodUnit": "d"`), good: repeat(`"period": 1, "periodMax": 2, "periodUnit": "d"`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-7", bad: repeat(`"durationMax": 2, "durationUnit": "h"`), good: repeat(`"duration": 1, "durationMax": 2, "durationUnit": "h"`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-8", bad: repeat(`"countMax": 3`), good: repeat(`"count": 1, "countMax": 3`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-9", bad: repeat(`"offset": 30`), good: repeat(`"offset": 30, "when": ["AC"]`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-9", note: "with C", bad: repeat(`"offset": 30, "when": ["C"]`), good: repeat(`"when": ["C"]`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "tim-10", bad: repeat(`"timeOfDay": ["08:00:00"], "when": ["MORN"]`), good: repeat(`"timeOfDay": ["08:00:00"]`), expr: "ServiceRequest.occurrenceTiming.repeat"},
		{key: "drt-1", bad: enc(`{"value": 30, "system": "https://example.org/units", "code": "min"}`), good: enc(`{"value": 30, "system": "http://unitsofmeasure.org", "code": "min"}`), expr: "Encounter.length"},
		{key: "dom-2", bad: obs(`, "contained": [{"resourceType": "Medication", "id": "m", "contained": [{"resourceType": "Medication", "id": "n"}]}], "focus": [{"reference": "#m"}]`),
			good: obs(`, "contained": [{"resourceType": "Medication", "id": "m"}], "focus": [{"reference": "#m"}]`), expr: "Observation.contained[0].contained"},
		{key: "dom-3", bad: obs(`, "contained": [{"resourceType": "Medication", "id": "m"}]`), good: obs(`, "contained": [{"resourceType": "Medication", "id": "m"}], "focus": [{"reference": "#m"}]`), expr: "Observation.contained[0]"},
		{key: "dom-3", note: "refers to its container", bad: obs(`, "contained": [{"resourceType": "Provenance", "id": "p", "target": [{"reference": "Observation/1"}], "recorded": "2024-01-01T00:00:00Z", "agent": [{"who": {"display": "x"}}]}]`),
			good: obs(`, "contained": [{"resourceType": "Provenance", "id": "p", "target": [{"reference": "#"}], "recorded": "2024-01-01T00:00:00Z", "agent": [{"who": {"display": "x"}}]}]`), expr: "Observation.contained[0]"},
		{key: "dom-4", bad: obs(`, "contained": [{"resourceType": "Medication", "id": "m", "meta": {"versionId": "2"}}], "focus": [{"reference": "#m"}]`),
			good: obs(`, "contained": [{"resourceType": "Medication", "id": "m", "meta": {"profile": ["https://example.org/p"]}}], "focus": [{"reference": "#m"}]`), expr: "Observation.contained[0]"},
		{key: "dom-5", bad: obs(`, "contained": [{"resourceType": "Medication", "id": "m", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]}}], "focus": [{"reference": "#m"}]`),
			good: obs(`, "contained": [{"resourceType": "Medication", "id": "m"}], "focus": [{"reference": "#m"}]`), expr: "Observation.contained[0]"},
	}
}

func TestInvariants(t *testing.T) {
	for _, tc := range invariantCases() {
		t.Run(tc.key+" "+tc.note, func(t *testing.T) {
			if _, err := Resource([]byte(tc.good)); err != nil {
				t.Errorf("a resource keeping %s was rejected: %v", tc.key, err)
			}
			_, err := Resource([]byte(tc.bad))
			if err == nil {
				t.Fatalf("a resource breaking %s was accepted", tc.key)
			}
			e := asFHIRError(t, err)
			if e.Status != 422 || len(e.Issues) != 1 {
				t.Fatalf("want one 422 issue, got %d: %v", e.Status, err)
			}
			is := e.Issues[0]
			if is.Code != "invariant" || !strings.HasPrefix(is.Diagnostics, tc.key+": ") || len(is.Expression) != 1 || is.Expression[0] != tc.expr {
				t.Errorf("issue = %+v, want code invariant, diagnostics naming %s, expression %s", is, tc.key, tc.expr)
			}
		})
	}
}

// TestEveryInvariantIsTested checks that each implemented invariant has a
// case in TestInvariants, and that the tables name real model types and
// elements.
func TestEveryInvariantIsTested(t *testing.T) {
	tested := map[string]bool{}
	for _, tc := range invariantCases() {
		tested[tc.key] = true
	}
	types := reachable()
	keys := []string{"ele-1", "dom-2", "dom-3", "dom-4", "dom-5"}
	for _, table := range []map[string][]invariant{resourceInvariants, typeInvariants} {
		for name, invs := range table {
			st, ok := types[name]
			if !ok {
				t.Errorf("%s is not a model type of a served resource", name)
				continue
			}
			for _, inv := range invs {
				keys = append(keys, inv.key)
				if _, ok := infoFor(st).fields[inv.on]; inv.on != "" && !ok {
					t.Errorf("%s: %s has no element %s", inv.key, name, inv.on)
				}
				if inv.human == "" || inv.expr == "" {
					t.Errorf("%s on %s lacks its human text or expression", inv.key, name)
				}
			}
		}
	}
	for _, k := range keys {
		if !tested[k] {
			t.Errorf("invariant %s has no test case", k)
		}
	}
}

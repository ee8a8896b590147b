package validate

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestInvalidResources(t *testing.T) {
	obs := func(extra string) string {
		return `{"resourceType": "Observation", "status": "final", "code": {"text": "x"}` + extra + `}`
	}
	pat := func(extra string) string {
		return `{"resourceType": "Patient"` + extra + `}`
	}
	tests := []struct {
		note   string
		body   string
		status int
		exprs  []string // the Expression of every issue, in any order
		codes  []string // if set, the issue codes in the order of exprs after sorting
		diag   string   // if set, the first issue's diagnostics must contain it
	}{
		{note: "malformed JSON", body: "{\"resourceType\": \"Patient\",\n  \"id\": x}", status: 400, diag: "line 2, column 9"},
		{note: "truncated JSON", body: `{"resourceType": "Patient",`, status: 400, diag: "ends too early"},
		{note: "empty body", body: ``, status: 400, diag: "empty"},
		{note: "not an object", body: `"Patient"`, status: 400, diag: "not a string"},
		{note: "array at root", body: `[{"resourceType": "Patient"}]`, status: 400, diag: "not an array"},
		{note: "two values", body: `{"resourceType": "Patient"} {}`, status: 400, diag: "line 1, column 29"},
		{note: "invalid UTF-8", body: "{\"resourceType\": \"Patient\", \"id\": \"a\xffb\"}", status: 400, diag: "UTF-8"},
		{note: "missing resourceType", body: `{"id": "x"}`, status: 422, exprs: []string{"resourceType"}, codes: []string{"required"}},
		{note: "unsupported resourceType", body: `{"resourceType": "Location"}`, status: 422, exprs: []string{"resourceType"}, diag: "Location is not supported"},
		{note: "unknown resourceType", body: `{"resourceType": "Pateint"}`, status: 422, exprs: []string{"resourceType"}, diag: "supported types: AdverseEvent"},
		{note: "resourceType not a string", body: `{"resourceType": 1}`, status: 422, exprs: []string{"resourceType"}},
		{note: "unknown element", body: pat(`, "foo": 1`), status: 422, exprs: []string{"Patient.foo"}, codes: []string{"structure"}},
		{note: "unknown nested element", body: pat(`, "name": [{"family": "X"}, {"nickname": "Y"}]`), status: 422, exprs: []string{"Patient.name[1].nickname"}},
		{note: "misspelt choice variant", body: obs(`, "valueText": "x"`), status: 422, exprs: []string{"Observation.valueText"}},
		{note: "string where boolean expected", body: pat(`, "active": "true"`), status: 422, exprs: []string{"Patient.active"}, codes: []string{"structure"}},
		{note: "number where date expected", body: pat(`, "birthDate": 19800101`), status: 422, exprs: []string{"Patient.birthDate"}},
		{note: "object where array expected", body: pat(`, "name": {"family": "X"}`), status: 422, exprs: []string{"Patient.name"}},
		{note: "array where code expected", body: pat(`, "gender": ["male"]`), status: 422, exprs: []string{"Patient.gender"}},
		{note: "string where object expected", body: pat(`, "maritalStatus": "W"`), status: 422, exprs: []string{"Patient.maritalStatus"}},
		{note: "string where decimal expected", body: obs(`, "valueQuantity": {"value": "1.5"}`), status: 422, exprs: []string{"Observation.valueQuantity.value"}},
		{note: "fraction where integer expected", body: pat(`, "multipleBirthInteger": 1.5`), status: 422, exprs: []string{"Patient.multipleBirthInteger"}},
		{note: "zero positiveInt", body: pat(`, "telecom": [{"system": "phone", "value": "1", "rank": 0}]`), status: 422, exprs: []string{"Patient.telecom[0].rank"}},
		{note: "integer out of range", body: pat(`, "multipleBirthInteger": 3000000000`), status: 422, exprs: []string{"Patient.multipleBirthInteger"}},
		{note: "null value", body: pat(`, "birthDate": null`), status: 422, exprs: []string{"Patient.birthDate"}},
		{note: "null in array", body: pat(`, "name": [null]`), status: 422, exprs: []string{"Patient.name[0]"}},
		{note: "empty string", body: pat(`, "name": [{"family": ""}]`), status: 422, exprs: []string{"Patient.name[0].family"}},
		{note: "empty object", body: pat(`, "maritalStatus": {}`), status: 422, exprs: []string{"Patient.maritalStatus"}},
		{note: "empty array", body: pat(`, "identifier": []`), status: 422, exprs: []string{"Patient.identifier"}},
		{note: "bad code", body: pat(`, "gender": "man"`), status: 422, exprs: []string{"Patient.gender"}, codes: []string{"value"}, diag: "male, female, other, unknown"},
		{note: "code with surrounding space", body: pat(`, "gender": " male"`), status: 422, exprs: []string{"Patient.gender"}},
		{note: "bad code kept as string by the model", body: `{"resourceType": "MedicationAdministration", "status": "given", "medicationCodeableConcept": {"text": "x"}, "subject": {"reference": "Patient/1"}, "effectiveDateTime": "2024"}`, status: 422, exprs: []string{"MedicationAdministration.status"}, diag: "in-progress, not-done"},
		{note: "bad code in repeating enum", body: `{"resourceType": "PractitionerRole", "availableTime": [{"daysOfWeek": ["mon", "monday"]}]}`, status: 422, exprs: []string{"PractitionerRole.availableTime[0].daysOfWeek[1]"}},
		{note: "missing required", body: `{"resourceType": "Observation"}`, status: 422, exprs: []string{"Observation.code", "Observation.status"}, codes: []string{"required", "required"}},
		{note: "missing required in backbone element", body: obs(`, "component": [{"valueString": "x"}]`), status: 422, exprs: []string{"Observation.component[0].code"}},
		{note: "missing required choice", body: `{"resourceType": "MedicationAdministration", "status": "completed", "subject": {"reference": "Patient/1"}}`, status: 422, exprs: []string{"MedicationAdministration.effective[x]", "MedicationAdministration.medication[x]"}},
		{note: "two variants of a choice", body: obs(`, "effectiveDateTime": "2024-01-01", "effectivePeriod": {"start": "2024-01-01"}`), status: 422, exprs: []string{"Observation.effective[x]"}, diag: "effectiveDateTime, effectivePeriod"},
		{note: "bad id", body: pat(`, "id": "bad id!"`), status: 422, exprs: []string{"Patient.id"}, codes: []string{"value"}},
		{note: "id too long", body: pat(`, "id": "` + strings.Repeat("a", 65) + `"`), status: 422, exprs: []string{"Patient.id"}},
		{note: "bad month", body: pat(`, "birthDate": "2020-13-01"`), status: 422, exprs: []string{"Patient.birthDate"}},
		{note: "no such day", body: pat(`, "birthDate": "2023-02-29"`), status: 422, exprs: []string{"Patient.birthDate"}},
		{note: "dateTime where date expected", body: pat(`, "birthDate": "2020-01-01T10:00:00Z"`), status: 422, exprs: []string{"Patient.birthDate"}},
		{note: "dateTime with time but no timezone", body: obs(`, "effectiveDateTime": "2024-01-01T10:00:00"`), status: 422, exprs: []string{"Observation.effectiveDateTime"}},
		{note: "dateTime without seconds", body: obs(`, "effectiveDateTime": "2024-01-01T10:00Z"`), status: 422, exprs: []string{"Observation.effectiveDateTime"}},
		{note: "Period dateTime", body: pat(`, "name": [{"period": {"start": "01/02/2024"}}]`), status: 422, exprs: []string{"Patient.name[0].period.start"}},
		{note: "instant without timezone", body: obs(`, "issued": "2024-01-01T10:00:00"`), status: 422, exprs: []string{"Observation.issued"}},
		{note: "instant without time", body: `{"resourceType": "Provenance", "target": [{"reference": "Patient/1"}], "recorded": "2024-01-01", "agent": [{"who": {"display": "x"}}]}`, status: 422, exprs: []string{"Provenance.recorded"}},
		{note: "meta.lastUpdated", body: pat(`, "meta": {"lastUpdated": "yesterday"}`), status: 422, exprs: []string{"Patient.meta.lastUpdated"}},
		{note: "bad time", body: `{"resourceType": "PractitionerRole", "availableTime": [{"availableStartTime": "9am"}]}`, status: 422, exprs: []string{"PractitionerRole.availableTime[0].availableStartTime"}},
		{note: "bad base64", body: `{"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"contentType": "text/plain", "data": "not base64!"}}]}`, status: 422, exprs: []string{"DocumentReference.content[0].attachment.data"}},
		{note: "uri with whitespace", body: pat(`, "identifier": [{"system": "https://example.org/a b", "value": "1"}]`), status: 422, exprs: []string{"Patient.identifier[0].system"}},
		{note: "narrative without div", body: pat(`, "text": {"status": "generated", "div": "hello"}`), status: 422, exprs: []string{"Patient.text.div"}},
		{note: "reference with space", body: obs(`, "subject": {"reference": "Patient 123"}`), status: 422, exprs: []string{"Observation.subject.reference"}, codes: []string{"value"}},
		{note: "reference to unknown type", body: obs(`, "subject": {"reference": "Pateint/123"}`), status: 422, exprs: []string{"Observation.subject.reference"}},
		{note: "reference without id", body: obs(`, "subject": {"reference": "Patient/"}`), status: 422, exprs: []string{"Observation.subject.reference"}},
		{note: "reference with bad history", body: obs(`, "subject": {"reference": "Patient/1/_history/"}`), status: 422, exprs: []string{"Observation.subject.reference"}},
		{note: "bad urn:uuid reference", body: obs(`, "subject": {"reference": "urn:uuid:not-a-uuid"}`), status: 422, exprs: []string{"Observation.subject.reference"}},
		{note: "NHS number failing check digit", body: pat(`, "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765918"}]`), status: 422, exprs: []string{"Patient.identifier[0].value"}, diag: "fails its Modulus 11 check digit"},
		{note: "NHS number wrong length", body: pat(`, "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "943 476 5919"}]`), status: 422, exprs: []string{"Patient.identifier[0].value"}, diag: "exactly 10 digits"},
		{note: "NHS number missing", body: pat(`, "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number"}]`), status: 422, exprs: []string{"Patient.identifier[0].value"}},
		{note: "NHS number in a reference identifier", body: obs(`, "subject": {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "4123456879"}}`), status: 422, exprs: []string{"Observation.subject.identifier.value"}},
		{note: "$where key", body: pat(`, "$where": "sleep(1000)"`), status: 422, exprs: []string{"Patient.$where"}, codes: []string{"invalid"}},
		{note: "nested operator key", body: pat(`, "name": [{"$set": {"family": "x"}}]`), status: 422, exprs: []string{"Patient.name[0].$set"}},
		{note: "dotted key", body: pat(`, "name.family": "x"`), status: 422, exprs: []string{"Patient.name.family"}},
		{note: "NUL in key", body: pat(`, "na\u0000me": []`), status: 422, exprs: []string{"Patient"}},
		{note: "NUL in string", body: pat(`, "name": [{"family": "a\u0000b"}]`), status: 422, exprs: []string{"Patient.name[0].family"}},
		{note: "deep nesting", body: pat(`, "extension": ` + nest(40)), status: 422, exprs: []string{"Patient" + strings.Repeat(".extension[0]", 32) + ".extension"}, diag: "deeper"},
		{note: "unknown primitive extension", body: pat(`, "_foo": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}`), status: 422, exprs: []string{"Patient._foo"}},
		{note: "primitive extension on complex element", body: pat(`, "_maritalStatus": {"id": "x"}`), status: 422, exprs: []string{"Patient._maritalStatus"}},
		{note: "primitive extension not an object", body: pat(`, "_birthDate": "x"`), status: 422, exprs: []string{"Patient._birthDate"}},
		{note: "primitive extension arrays differ in length", body: pat(`, "name": [{"given": ["a", "b"], "_given": [{"id": "1"}]}]`), status: 422, exprs: []string{"Patient.name[0]._given"}},
		{note: "null given without extension", body: pat(`, "name": [{"given": ["a", null], "_given": [{"id": "1"}, null]}]`), status: 422, exprs: []string{"Patient.name[0]._given[1]", "Patient.name[0].given[1]"}},
		{note: "contained of unsupported type", body: obs(`, "contained": [{"resourceType": "Location", "id": "l1"}], "subject": {"reference": "#l1"}`), status: 422, exprs: []string{"Observation.contained[0].resourceType"}},
		{note: "invalid contained resource", body: obs(`, "contained": [{"resourceType": "Medication", "status": "bogus", "foo": 1}]`), status: 422, exprs: []string{"Observation.contained[0].foo", "Observation.contained[0].id", "Observation.contained[0].status"}},
		{note: "nested contained", body: obs(`, "contained": [{"resourceType": "Medication", "id": "m", "contained": [{"resourceType": "Medication", "id": "n"}]}], "focus": [{"reference": "#m"}]`), status: 422, exprs: []string{"Observation.contained[0].contained"}},
		{note: "all problems at once", body: pat(`, "id": "a b", "gender": "man", "birthDate": "1980-1-1", "foo": true, "name": [{"family": 1}]`), status: 422, exprs: []string{"Patient.birthDate", "Patient.foo", "Patient.gender", "Patient.id", "Patient.name[0].family"}},
	}
	for _, tt := range tests {
		t.Run(tt.note, func(t *testing.T) {
			res, err := Resource([]byte(tt.body))
			if err == nil {
				t.Fatalf("Resource accepted the body: %+v", res)
			}
			e := asFHIRError(t, err)
			if e.Status != tt.status {
				t.Errorf("status = %d, want %d (%v)", e.Status, tt.status, err)
			}
			var got, codes []string
			for _, is := range e.Issues {
				if is.Severity != "error" || is.Diagnostics == "" {
					t.Errorf("issue %+v lacks severity or diagnostics", is)
				}
				got = append(got, strings.Join(is.Expression, ","))
				codes = append(codes, is.Code)
			}
			if tt.status == 400 {
				if len(e.Issues) != 1 || e.Issues[0].Code != "structure" || len(e.Issues[0].Expression) != 0 {
					t.Errorf("issues = %+v, want one structure issue without expression", e.Issues)
				}
			} else {
				want := slices.Sorted(slices.Values(tt.exprs))
				if !slices.Equal(got, want) {
					t.Errorf("expressions = %q, want %q (%v)", got, want, err)
				}
				if tt.codes != nil && !slices.Equal(codes, tt.codes) {
					t.Errorf("codes = %q, want %q", codes, tt.codes)
				}
			}
			if tt.diag != "" && !strings.Contains(e.Issues[0].Diagnostics, tt.diag) {
				t.Errorf("diagnostics %q do not contain %q", e.Issues[0].Diagnostics, tt.diag)
			}
			if tt.status == 422 {
				// Check, on the decoded object, reports exactly what Object does.
				obj := decodeNumbers(t, tt.body)
				_, oerr := Object(obj)
				cerr := Check(obj)
				if cerr == nil || !reflect.DeepEqual(asFHIRError(t, cerr).Issues, asFHIRError(t, oerr).Issues) {
					t.Errorf("Check = %v, want %v", cerr, oerr)
				}
			}
		})
	}
}

func decodeNumbers(t *testing.T, body string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestDiagnosticsDoNotEchoValues checks that values which may be personal
// data never appear in error messages.
func TestDiagnosticsDoNotEchoValues(t *testing.T) {
	secrets := []string{"9434765918", "1980-13-45", "Smithers"}
	body := pat0(`, "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765918"}],
		"birthDate": "1980-13-45", "gender": "Smithers"`)
	_, err := Resource([]byte(body))
	e := asFHIRError(t, err)
	if len(e.Issues) != 3 {
		t.Fatalf("issues = %+v, want 3", e.Issues)
	}
	for _, s := range secrets {
		if strings.Contains(e.Error(), s) {
			t.Errorf("error %q echoes %q", e.Error(), s)
		}
	}
}

func TestTooManyIssuesAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType": "Patient"`)
	for i := range 150 {
		b.WriteString(`, "x`)
		b.WriteString(strings.Repeat("y", i))
		b.WriteString(`": 1`)
	}
	b.WriteString("}")
	_, err := Resource([]byte(b.String()))
	e := asFHIRError(t, err)
	if len(e.Issues) != maxIssues+1 || !strings.Contains(e.Issues[maxIssues].Diagnostics, "50 more problems") {
		t.Errorf("got %d issues, last %+v", len(e.Issues), e.Issues[len(e.Issues)-1])
	}
}

func pat0(extra string) string { return `{"resourceType": "Patient"` + extra + `}` }

// nest returns n levels of extensions nested in extensions.
func nest(n int) string {
	s := `[{"url": "http://example.org/leaf", "valueString": "x"}]`
	for range n {
		s = `[{"url": "http://example.org/x", "extension": ` + s + `}]`
	}
	return s
}

package socialcare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/socialcare-fhir/gateway/fhir"
)

// r4Models gives a fresh samply R4 struct for each resource type the
// translator produces.
var r4Models = map[string]func() any{
	"Organization": func() any { return new(r4.Organization) }, "Practitioner": func() any { return new(r4.Practitioner) },
	"PractitionerRole": func() any { return new(r4.PractitionerRole) }, "Patient": func() any { return new(r4.Patient) },
	"RelatedPerson": func() any { return new(r4.RelatedPerson) }, "EpisodeOfCare": func() any { return new(r4.EpisodeOfCare) },
	"CarePlan": func() any { return new(r4.CarePlan) }, "Goal": func() any { return new(r4.Goal) },
	"ServiceRequest": func() any { return new(r4.ServiceRequest) }, "Encounter": func() any { return new(r4.Encounter) },
	"Observation": func() any { return new(r4.Observation) }, "MedicationAdministration": func() any { return new(r4.MedicationAdministration) },
	"AdverseEvent": func() any { return new(r4.AdverseEvent) }, "Flag": func() any { return new(r4.Flag) },
	"Consent": func() any { return new(r4.Consent) }, "Basic": func() any { return new(r4.Basic) },
	"Provenance": func() any { return new(r4.Provenance) },
}

// requiredPaths are the elements R4 requires (cardinality 1..) of each
// produced type; "a|b" means one of the choice elements.
var requiredPaths = map[string][]string{
	"RelatedPerson":            {"patient"},
	"EpisodeOfCare":            {"status", "patient"},
	"CarePlan":                 {"status", "intent", "subject"},
	"Goal":                     {"lifecycleStatus", "description", "subject"},
	"ServiceRequest":           {"status", "intent", "subject"},
	"Encounter":                {"status", "class"},
	"Observation":              {"status", "code"},
	"MedicationAdministration": {"status", "medicationCodeableConcept|medicationReference", "subject", "effectiveDateTime|effectivePeriod"},
	"AdverseEvent":             {"actuality", "subject"},
	"Flag":                     {"status", "code", "subject"},
	"Consent":                  {"status", "scope", "category"},
	"Basic":                    {"code"},
	"Provenance":               {"target", "recorded", "agent"},
}

// patientCompartment lists where each clinical type references the patient.
var patientCompartment = map[string]string{
	"RelatedPerson": "patient", "EpisodeOfCare": "patient", "CarePlan": "subject", "Goal": "subject",
	"ServiceRequest": "subject", "Encounter": "subject", "Observation": "subject",
	"MedicationAdministration": "subject", "AdverseEvent": "subject", "Flag": "subject",
	"Consent": "patient", "Basic": "subject",
}

var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// checkResources decodes every resource strictly into its R4 model, checks
// required elements, ids, that every reference resolves within the output,
// that clinical resources are in the patient's compartment, and the
// dependency order. It returns one message per problem.
func checkResources(res []fhir.Resource) []string {
	var problems []string
	bad := func(r fhir.Resource, f string, a ...any) {
		problems = append(problems, fmt.Sprintf("%s/%s: %s", r.Type, r.ID, fmt.Sprintf(f, a...)))
	}
	pos := map[string]int{}
	for i, r := range res {
		key := r.Type + "/" + r.ID
		if _, dup := pos[key]; dup {
			bad(r, "emitted twice")
		}
		pos[key] = i
	}
	patient := ""
	for i, r := range res {
		if !fhirID.MatchString(r.ID) || r.Object["id"] != r.ID || r.Object["resourceType"] != r.Type {
			bad(r, "id or resourceType does not match the object")
		}
		if r.Type == "Patient" {
			patient = r.Type + "/" + r.ID
		}
		mk, ok := r4Models[r.Type]
		if !ok {
			bad(r, "unexpected resource type")
			continue
		}
		if m, ok := r.Object["meta"].(map[string]any); ok {
			if _, ok := m["versionId"]; ok {
				bad(r, "meta.versionId must be left to the store")
			}
			if _, ok := m["lastUpdated"]; ok {
				bad(r, "meta.lastUpdated must be left to the store")
			}
		}
		body := make(map[string]any, len(r.Object))
		for k, v := range r.Object {
			if k != "resourceType" {
				body[k] = v
			}
		}
		data, err := json.Marshal(body)
		if err != nil {
			bad(r, "marshal: %v", err)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(mk()); err != nil {
			bad(r, "does not decode strictly into the R4 model: %v", err)
		}
		for _, p := range requiredPaths[r.Type] {
			found := false
			for _, alt := range strings.Split(p, "|") {
				if v, ok := r.Object[alt]; ok && v != nil {
					found = true
				}
			}
			if !found {
				bad(r, "required element %s is missing", p)
			}
		}
		if el, ok := patientCompartment[r.Type]; ok {
			ref, _ := r.Object[el].(map[string]any)
			if ref == nil || ref["reference"] != patient {
				bad(r, "%s does not reference the record's Patient", el)
			}
		}
		for _, target := range references(r.Object) {
			j, ok := pos[target]
			switch {
			case !ok:
				bad(r, "reference %s does not resolve", target)
			case j > i && r.Type != "CarePlan":
				// CarePlan may point at nothing later; everything else must
				// come after what it references.
				bad(r, "reference %s comes later in the output", target)
			}
		}
	}
	return problems
}

// references returns every Reference.reference string inside v.
func references(v any) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "reference" {
					out = append(out, s)
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

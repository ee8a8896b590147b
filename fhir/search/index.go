package search

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
)

// compartmentParams are the reference parameters whose Patient references
// put a resource in that patient's compartment: the R4 Patient
// CompartmentDefinition, limited to the parameters this package defines.
var compartmentParams = map[string][]string{
	"AdverseEvent":             {"subject"},
	"AuditEvent":               {"patient"},
	"Basic":                    {"patient", "author"},
	"CarePlan":                 {"patient"},
	"CareTeam":                 {"patient", "participant"},
	"Composition":              {"subject"},
	"Consent":                  {"patient"},
	"DocumentReference":        {"subject"},
	"Encounter":                {"patient"},
	"EpisodeOfCare":            {"patient"},
	"Flag":                     {"patient"},
	"Goal":                     {"patient"},
	"MedicationAdministration": {"patient", "performer", "subject"},
	"Observation":              {"subject", "performer"},
	"Provenance":               {"patient"},
	"RelatedPerson":            {"patient"},
	"ServiceRequest":           {"subject", "performer"},
}

// CompartmentTypes are the resource types that may be in a patient's
// compartment (besides Patient itself), sorted.
func CompartmentTypes() []string {
	out := make([]string, 0, len(compartmentParams))
	for t := range compartmentParams {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Index extracts the search fields for a resource (decoded JSON; numbers may
// be json.Number or float64). sp is the document's "sp" field; patients is
// the patient compartment as "Patient/<id>" strings (for a Patient, itself;
// otherwise the references of the compartment parameters that point at a
// Patient), sorted. An unknown resource type gives an empty sp.
func Index(resourceType string, resource map[string]any) (sp bson.M, patients []string) {
	sp = bson.M{}
	sorts := bson.M{}
	for _, d := range definitions[resourceType] {
		if d.Name == "_id" || d.Name == "_lastUpdated" {
			continue
		}
		var nodes []any
		for _, path := range d.paths {
			nodes = append(nodes, collect(resource, path)...)
		}
		switch d.Type {
		case TypeToken:
			if v := indexToken(nodes, d.system); v != nil {
				sp[d.Name] = v
			}
		case TypeString:
			if v := indexString(nodes); v != nil {
				sp[d.Name] = v
			}
		case TypeDate:
			lo, hi, ok := indexDate(nodes)
			if ok {
				sp[d.Name] = bson.M{"lo": bson.NewDateTimeFromTime(lo), "hi": bson.NewDateTimeFromTime(hi)}
			} else {
				// Missing values sort last in both directions.
				lo, hi = maxTime, minTime
			}
			sorts[d.Name] = bson.M{"a": bson.NewDateTimeFromTime(lo), "d": bson.NewDateTimeFromTime(hi)}
		case TypeReference:
			if v := indexReference(nodes, d.patientOnly); len(v) > 0 {
				sp[d.Name] = v
			}
		case TypeQuantity:
			if v := indexQuantity(nodes); v != nil {
				sp[d.Name] = v
			}
		case TypeURI:
			if v := indexURI(nodes); len(v) > 0 {
				sp[d.Name] = v
			}
		}
	}
	if len(sorts) > 0 {
		sp["_sort"] = sorts
	}
	return sp, compartment(resourceType, resource, sp)
}

// compartment lists the patients whose compartment holds the resource.
func compartment(resourceType string, resource map[string]any, sp bson.M) []string {
	if resourceType == "Patient" {
		if id, _ := resource["id"].(string); fhir.ValidID(id) {
			return []string{"Patient/" + id}
		}
		return nil
	}
	var out []string
	for _, name := range compartmentParams[resourceType] {
		refs, _ := sp[name].([]string)
		for _, r := range refs {
			if strings.HasPrefix(r, "Patient/") {
				out = uniq(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

// indexURI extracts uri primitives.
func indexURI(nodes []any) []string {
	var out []string
	for _, n := range nodes {
		if s, ok := n.(string); ok {
			out = uniq(out, s)
		}
	}
	return out
}

// IndexKeys lists the stored-document fields the store should index for
// resourceType, one per query shape this package issues (_id is indexed by
// the database itself). Token :text searches (sp.<name>.t) are left out to
// stay well inside MongoDB's 64 indexes per collection.
func IndexKeys(resourceType string) []string {
	var keys []string
	for _, d := range definitions[resourceType] {
		f := d.field()
		switch {
		case d.Name == "_id":
		case d.Name == "_lastUpdated":
			keys = append(keys, f)
		case d.Type == TypeToken:
			keys = append(keys, f+".c", f+".sc", f+".s")
		case d.Type == TypeString:
			keys = append(keys, f+".n", f+".e")
		case d.Type == TypeDate:
			keys = append(keys, f+".lo", f+".hi", sortField(d, false), sortField(d, true))
		case d.Type == TypeQuantity:
			keys = append(keys, f+".v", f+".sc", f+".c")
		default:
			keys = append(keys, f)
		}
	}
	return keys
}

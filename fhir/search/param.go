package search

import (
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Search parameter types, as in http://hl7.org/fhir/search-param-type.
const (
	TypeToken     = "token"
	TypeString    = "string"
	TypeDate      = "date"
	TypeReference = "reference"
	TypeQuantity  = "quantity"
	TypeURI       = "uri"
	TypeNumber    = "number"
)

// Param describes one search parameter of a resource type, as the
// CapabilityStatement advertises it.
type Param struct {
	Name          string   // e.g. "birthdate"
	Type          string   // "token", "string", "date", "reference", "quantity", "uri", "number"
	Expression    string   // FHIRPath from the R4 spec, for the CapabilityStatement
	Targets       []string // reference target types (only those in fhir.ResourceTypes)
	Sortable      bool
	Documentation string
}

// def is a Param with what Index needs to extract its values.
type def struct {
	Param
	// paths are dotted element paths from the resource root. A segment
	// "value[x]" matches any choice type of value; "value[Quantity]" only
	// valueQuantity.
	paths []string
	// patientOnly keeps only references to Patient (FHIRPath
	// ".where(resolve() is Patient)").
	patientOnly bool
	// system is the code system of a code primitive with a required binding
	// to a single code system, stored with the code.
	system string
}

// field is the stored-document path of the parameter's values.
func (d def) field() string {
	switch d.Name {
	case "_id":
		return "_id"
	case "_lastUpdated":
		return "lu"
	}
	return "sp." + d.Name
}

// Params lists the parameters supported for resourceType, including the
// common ones (_id, _lastUpdated, identifier where the type has
// Resource.identifier, _security, _tag, _profile), sorted by name. It returns
// nil for a type the gateway does not serve.
func Params(resourceType string) []Param {
	defs := definitions[resourceType]
	if defs == nil {
		return nil
	}
	out := make([]Param, 0, len(defs))
	for _, d := range defs {
		p := d.Param
		p.Targets = slices.Clone(p.Targets)
		out = append(out, p)
	}
	return out
}

// Lookup returns the parameter name of resourceType.
func Lookup(resourceType, name string) (Param, bool) {
	d, ok := lookupDef(resourceType, name)
	if !ok {
		return Param{}, false
	}
	p := d.Param
	p.Targets = slices.Clone(p.Targets)
	return p, true
}

func lookupDef(resourceType, name string) (def, bool) {
	defs := definitions[resourceType]
	i, ok := slices.BinarySearchFunc(defs, name, func(d def, n string) int { return strings.Compare(d.Name, n) })
	if !ok {
		return def{}, false
	}
	return defs[i], true
}

// allTypes is the target list of a reference to Any resource.
func allTypes() []string { return slices.Clone(fhir.ResourceTypes) }

// served keeps the types the gateway serves, so that a CapabilityStatement
// never advertises a target it cannot resolve.
func served(types ...string) []string {
	out := make([]string, 0, len(types))
	for _, t := range types {
		if fhir.Supported(t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

package validate

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

const (
	// maxDepth is the deepest nesting of objects and arrays accepted.
	maxDepth = 64
	// nhsNumberSystem is the identifier system of NHS numbers.
	nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
)

// resKind says whether an object is a resource, and which kind.
type resKind uint8

const (
	resNone      resKind = iota // an element inside a resource
	resTop                      // the resource being validated
	resContained                // a resource in contained
)

// walker collects the problems found in one resource.
type walker struct {
	issues  []fhir.Issue
	tooDeep bool
	// root is the resource being validated (%rootResource).
	root map[string]any
	// localRefs are the local references ("#id") met so far, for dom-3.
	localRefs []localRef
	// inContained is the index of the contained resource being walked, or -1.
	inContained int
}

// localRef is a reference, canonical, uri or url value starting with "#".
type localRef struct {
	target    string
	contained int // the contained resource it is in, or -1
}

func (w *walker) add(code string, p *path, msg string) {
	w.issues = append(w.issues, fhir.Issue{
		Severity:    "error",
		Code:        code,
		Diagnostics: msg,
		Expression:  []string{p.String()},
	})
}

// object checks o against the model ti.
func (w *walker) object(o map[string]any, ti *typeInfo, p *path, depth int, res resKind) {
	if w.deeper(depth, p) {
		return
	}
	for k, v := range o {
		if strings.IndexByte(k, 0) >= 0 {
			w.add("invalid", p, "element names must not contain NUL characters")
			continue
		}
		cp := p.child(k)
		if msg := badKey(k); msg != "" {
			w.add("invalid", &cp, msg)
			continue
		}
		if res != resNone {
			switch k {
			case "resourceType":
				continue
			case "contained":
				w.contained(v, &cp, depth, res)
				continue
			}
		}
		if k[0] == '_' {
			w.primitiveExtension(o, k[1:], v, ti, &cp, depth)
			continue
		}
		f := ti.fields[k]
		if f == nil {
			w.add("structure", &cp, "unknown element: not part of the R4 "+ti.name+" model")
			continue
		}
		w.value(o, f, v, &cp, depth)
	}
	for _, name := range ti.required {
		if !present(o, name) {
			cp := p.child(name)
			w.add("required", &cp, "required element is missing")
		}
	}
	for _, c := range ti.choices {
		w.checkChoice(o, c, p)
	}
	if ti.special == specialIdentifier {
		w.nhsNumber(o, p)
	}
	if res == resNone && ti.name != elementType.Name() && len(o) == 1 && o["id"] != nil {
		w.add("invariant", p, ele1)
	}
	w.checkInvariants(o, ti, p)
}

// ele1 is Element's invariant (hasValue() or (children().count() > id.count())),
// broken by a complex element holding only an id. Empty objects and strings
// are reported as JSON problems.
const ele1 = "ele-1: All FHIR elements must have a @value or children"

// deeper reports whether depth is past maxDepth, reporting it once.
func (w *walker) deeper(depth int, p *path) bool {
	if depth <= maxDepth {
		return false
	}
	if !w.tooDeep {
		w.tooDeep = true
		w.add("structure", p, "nesting is deeper than the 64 levels allowed")
	}
	return true
}

// badKey returns why k cannot be an element name, or "".
func badKey(k string) string {
	switch {
	case k == "":
		return "element names must not be empty"
	case k[0] == '$':
		return "element names must not start with '$'"
	case strings.IndexByte(k, '.') >= 0:
		return "element names must not contain '.'"
	}
	return ""
}

func present(o map[string]any, name string) bool {
	if _, ok := o[name]; ok {
		return true
	}
	_, ok := o["_"+name]
	return ok
}

func (w *walker) checkChoice(o map[string]any, c *choice, p *path) {
	var found []string
	for _, v := range c.variants {
		if present(o, v) {
			found = append(found, v)
		}
	}
	switch {
	case len(found) > 1:
		cp := p.child(c.base + "[x]")
		w.add("structure", &cp, "only one of "+strings.Join(found, ", ")+" may be present")
	case len(found) == 0 && c.required:
		cp := p.child(c.base + "[x]")
		w.add("required", &cp, "required element is missing: one of "+strings.Join(c.variants, ", ")+" must be present")
	}
}

// value checks the value v of element f of object o.
func (w *walker) value(o map[string]any, f *field, v any, p *path, depth int) {
	if v == nil {
		w.add("structure", p, "null is not allowed in FHIR JSON")
		return
	}
	arr, isArray := v.([]any)
	if !f.array {
		if isArray {
			w.add("structure", p, "must be a single value, not an array")
			return
		}
		w.single(f, v, p, depth)
		return
	}
	if !isArray {
		w.add("structure", p, "must be an array: the element repeats")
		return
	}
	if len(arr) == 0 {
		w.add("structure", p, "empty arrays are not allowed in FHIR JSON")
		return
	}
	if w.deeper(depth+1, p) {
		return
	}
	var ext []any // the matching primitive extensions, which allow nulls here
	if f.kind != kindObject {
		ext, _ = o["_"+f.name].([]any)
	}
	for i, e := range arr {
		ep := p.at(i)
		if e == nil {
			if i < len(ext) && ext[i] != nil {
				continue
			}
			w.add("structure", &ep, "null is not allowed in FHIR JSON")
			continue
		}
		w.single(f, e, &ep, depth+1)
	}
}

// single checks one (non-array) value of element f.
func (w *walker) single(f *field, v any, p *path, depth int) {
	switch f.kind {
	case kindObject:
		m, ok := v.(map[string]any)
		switch {
		case !ok:
			w.add("structure", p, "must be a JSON object ("+f.obj.name+")")
		case len(m) == 0:
			w.add("structure", p, "empty objects are not allowed in FHIR JSON")
		default:
			w.object(m, f.obj, p, depth+1, resNone)
		}
	case kindEnum:
		s, ok := v.(string)
		switch {
		case !ok:
			w.add("structure", p, "must be a JSON string (a code)")
		case s == "":
			w.add("structure", p, "empty strings are not allowed in FHIR JSON")
		case !f.enum.validCode(s):
			w.add("value", p, "value is not one of the allowed codes: "+f.enum.allowed)
		}
	default:
		if !w.primitive(f.prim, v, p) || f.codes == nil {
			return
		}
		if s, _ := v.(string); !slices.Contains(f.codes, s) {
			w.add("value", p, "value is not one of the allowed codes: "+strings.Join(f.codes, ", "))
		}
	}
}

// primitive checks the JSON value v of a primitive of type pt and reports
// whether it is valid.
func (w *walker) primitive(pt primitive, v any, p *path) bool {
	switch pt {
	case pBoolean:
		if _, ok := v.(bool); !ok {
			w.add("structure", p, "must be a JSON boolean (true or false)")
			return false
		}
	case pInteger, pPositiveInt, pUnsignedInt, pDecimal:
		n, ok := v.(json.Number)
		if !ok {
			w.add("structure", p, "must be a JSON number ("+pt.String()+")")
			return false
		}
		if msg := checkNumber(pt, n); msg != "" {
			w.add("value", p, "value "+msg)
			return false
		}
	default:
		s, ok := v.(string)
		switch {
		case !ok:
			w.add("structure", p, "must be a JSON string ("+pt.String()+")")
			return false
		case s == "":
			w.add("structure", p, "empty strings are not allowed in FHIR JSON")
			return false
		case strings.IndexByte(s, 0) >= 0:
			w.add("invalid", p, "strings must not contain NUL characters")
			return false
		}
		if msg := checkString(pt, s); msg != "" {
			w.add("value", p, "value "+msg)
			return false
		}
		w.localRef(pt, s)
	}
	return true
}

// localRef notes a local reference for dom-3.
func (w *walker) localRef(pt primitive, s string) {
	if s[0] != '#' {
		return
	}
	switch pt {
	case pReference, pURI, pURL, pCanonical:
		w.localRefs = append(w.localRefs, localRef{target: s, contained: w.inContained})
	}
}

// primitiveExtension checks "_name", the id and extensions of primitive
// element name.
func (w *walker) primitiveExtension(o map[string]any, name string, v any, ti *typeInfo, p *path, depth int) {
	f := ti.fields[name]
	if f == nil || f.kind == kindObject {
		w.add("structure", p, "unknown element: primitive extensions need a primitive element of the R4 "+ti.name+" model")
		return
	}
	el := infoFor(elementType)
	if v == nil {
		w.add("structure", p, "null is not allowed in FHIR JSON")
		return
	}
	arr, isArray := v.([]any)
	if !f.array {
		w.single(&field{name: p.name, kind: kindObject, obj: el}, v, p, depth)
		return
	}
	if !isArray {
		w.add("structure", p, "must be an array: the element repeats")
		return
	}
	if len(arr) == 0 {
		w.add("structure", p, "empty arrays are not allowed in FHIR JSON")
		return
	}
	vals, hasVals := o[name].([]any)
	if hasVals && len(vals) != len(arr) {
		w.add("structure", p, "must have one entry for each entry of "+name)
	}
	ef := &field{name: p.name, kind: kindObject, obj: el}
	for i, e := range arr {
		ep := p.at(i)
		if e == nil {
			if i < len(vals) && vals[i] != nil {
				continue
			}
			w.add("structure", &ep, "null is not allowed in FHIR JSON")
			continue
		}
		w.single(ef, e, &ep, depth+1)
	}
}

// contained checks the contained resources of a resource.
func (w *walker) contained(v any, p *path, depth int, res resKind) {
	if res == resContained {
		w.add("invariant", p, "dom-2: If the resource is contained in another resource, it SHALL NOT contain nested Resources")
		return
	}
	arr, ok := v.([]any)
	switch {
	case v == nil:
		w.add("structure", p, "null is not allowed in FHIR JSON")
		return
	case !ok:
		w.add("structure", p, "must be an array: the element repeats")
		return
	case len(arr) == 0:
		w.add("structure", p, "empty arrays are not allowed in FHIR JSON")
		return
	}
	for i, e := range arr {
		ep := p.at(i)
		m, ok := e.(map[string]any)
		if !ok || len(m) == 0 {
			w.add("structure", &ep, "must be a resource (a non-empty JSON object)")
			continue
		}
		rt, _ := m["resourceType"].(string)
		mt, ok := resourceModels[rt]
		if !ok {
			mt, ok = containedModels[rt]
		}
		if !ok {
			rp := ep.child("resourceType")
			w.add("value", &rp, "contained resources must be of a type this server supports: "+strings.Join(fhir.ResourceTypes, ", ")+" (or MeasureReport, Questionnaire, QuestionnaireResponse)")
			continue
		}
		if _, ok := m["id"]; !ok {
			ip := ep.child("id")
			w.add("required", &ip, "required element is missing: contained resources need an id")
		}
		w.inContained = i
		w.object(m, infoFor(mt), &ep, depth+2, resContained)
		w.inContained = -1
		w.containedMeta(m, &ep)
	}
}

// nhsNumber checks an Identifier o that may hold an NHS number. The number is
// personal data, so messages never include it.
func (w *walker) nhsNumber(o map[string]any, p *path) {
	if sys, _ := o["system"].(string); sys != nhsNumberSystem {
		return
	}
	vp := p.child("value")
	v, ok := o["value"]
	if !ok {
		w.add("required", &vp, "required element is missing: an NHS number identifier needs a value")
		return
	}
	s, ok := v.(string)
	switch {
	case !ok || s == "":
		// Already reported as a JSON type problem.
	case len(s) != 10 || strings.Trim(s, "0123456789") != "":
		w.add("value", &vp, "an NHS number must be exactly 10 digits")
	case !fhir.ValidNHSNumber(s):
		w.add("value", &vp, "the NHS number fails its Modulus 11 check digit")
	}
}

package validate

import (
	"reflect"
	"strings"
)

// invariant is one constraint (invariant) with severity error from the FHIR
// R4 (4.0.1) StructureDefinitions, expressed in Go. Keys, human texts and
// FHIRPath expressions are the specification's own.
type invariant struct {
	key   string // "obs-6"
	human string // the specification's human description
	expr  string // the specification's FHIRPath expression, for reference
	// on, if set, names an element of the object: ok is then evaluated on
	// each of that element's values (the constraint is defined on it).
	on string
	// ok reports whether object o satisfies the invariant; root is the
	// resource being validated (%rootResource).
	ok func(o, root map[string]any) bool
}

// resourceInvariants are the invariants of the served resource types and
// their backbone elements, keyed by samply struct name. Resource types with
// no error invariants in R4 (AdverseEvent, Basic, DocumentReference,
// Encounter, EpisodeOfCare, Flag, Medication, Practitioner,
// PractitionerRole, Provenance, RelatedPerson) have no entry.
var resourceInvariants = map[string][]invariant{
	"AuditEventEntity": {{
		key: "sev-1", human: "Either a name or a query (NOT both)",
		expr: "name.empty() or query.empty()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "name") || !present(o, "query") },
	}},
	"CarePlanActivity": {{
		key: "cpl-3", human: "Provide a reference or detail, not both",
		expr: "detail.empty() or reference.empty()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "detail") || !present(o, "reference") },
	}},
	"CompositionSection": {{
		key: "cmp-1", human: "A section must contain at least one of text, entries, or sub-sections",
		expr: "text.exists() or entry.exists() or section.exists()",
		ok:   func(o, _ map[string]any) bool { return anyPresent(o, "text", "entry", "section") },
	}, {
		key: "cmp-2", human: "A section can only have an emptyReason if it is empty",
		expr: "emptyReason.empty() or entry.empty()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "emptyReason") || !present(o, "entry") },
	}},
	"Consent": {{
		key: "ppc-1", human: "Either a Policy or PolicyRule",
		expr: "policy.exists() or policyRule.exists()",
		ok:   func(o, _ map[string]any) bool { return anyPresent(o, "policy", "policyRule") },
	},
		consentScope("ppc-2", "privacy", "patient-privacy"),
		consentScope("ppc-3", "research", "research"),
		consentScope("ppc-4", "adr", "adr"),
		consentScope("ppc-5", "treatment", "treatment"),
	},
	"GoalTarget": {{
		key: "gol-1", human: "Goal.target.measure is required if Goal.target.detail is populated",
		expr: "(detail.exists() and measure.exists()) or detail.exists().not()",
		ok:   func(o, _ map[string]any) bool { return !hasChoice(o, "detail") || present(o, "measure") },
	}},
	"MedicationAdministrationDosage": {{
		key: "mad-1", human: "SHALL have at least one of dosage.dose or dosage.rate[x]",
		expr: "dose.exists() or rate.exists()",
		ok:   func(o, _ map[string]any) bool { return present(o, "dose") || hasChoice(o, "rate") },
	}, simpleQuantity("dose")},
	"Observation": {{
		key: "obs-6", human: "dataAbsentReason SHALL only be present if Observation.value[x] is not present",
		expr: "dataAbsentReason.empty() or value.empty()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "dataAbsentReason") || !hasChoice(o, "value") },
	}, {
		key:   "obs-7",
		human: "If Observation.code is the same as an Observation.component.code then the value element associated with the code SHALL NOT be present",
		expr:  "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()",
		ok:    obs7,
	}},
	"ObservationReferenceRange": {{
		key: "obs-3", human: "Must have at least a low or a high or text",
		expr: "low.exists() or high.exists() or text.exists()",
		ok:   func(o, _ map[string]any) bool { return anyPresent(o, "low", "high", "text") },
	}, simpleQuantity("low"), simpleQuantity("high")},
	"Organization": {{
		key: "org-1", human: "The organization SHALL at least have a name or an identifier, and possibly more than one",
		expr: "(identifier.count() + name.count()) > 0",
		ok:   func(o, _ map[string]any) bool { return anyPresent(o, "identifier", "name") },
	}, {
		key: "org-2", human: "An address of an organization can never be of use 'home'",
		expr: "where(use = 'home').empty()", on: "address",
		ok: notHomeUse,
	}, {
		key: "org-3", human: "The telecom of an organization can never be of use 'home'",
		expr: "where(use = 'home').empty()", on: "telecom",
		ok: notHomeUse,
	}},
	"PatientContact": {{
		key: "pat-1", human: "SHALL at least contain a contact's details or a reference to an organization",
		expr: "name.exists() or telecom.exists() or address.exists() or organization.exists()",
		ok:   func(o, _ map[string]any) bool { return anyPresent(o, "name", "telecom", "address", "organization") },
	}},
	"ServiceRequest": {{
		key: "prr-1", human: "orderDetail SHALL only be present if code is present",
		expr: "orderDetail.empty() or code.exists()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "orderDetail") || present(o, "code") },
	}},
	"CarePlanActivityDetail": {simpleQuantity("dailyAmount"), simpleQuantity("quantity")},
}

// consentScope is one of ppc-2 to ppc-5. Their R4 expressions test a
// placeholder code system, literally 'something', so they only fire for a
// scope coded in that system; they are implemented as written.
func consentScope(key, scope, code string) invariant {
	return invariant{
		key: key, human: "IF Scope=" + scope + ", there must be a patient",
		expr: "patient.exists() or scope.coding.where(system='something' and code='" + code + "').exists().not()",
		ok: func(o, _ map[string]any) bool {
			if present(o, "patient") {
				return true
			}
			scope, _ := o["scope"].(map[string]any)
			for _, c := range objects(scope["coding"]) {
				if c["system"] == "something" && c["code"] == code {
					return false
				}
			}
			return true
		},
	}
}

// obs7 checks that an Observation with a value has no component whose code
// shares a Coding with the Observation's code.
func obs7(o, _ map[string]any) bool {
	if !hasChoice(o, "value") {
		return true
	}
	code, _ := o["code"].(map[string]any)
	codings := objects(code["coding"])
	if len(codings) == 0 {
		return true
	}
	for _, comp := range objects(o["component"]) {
		cc, _ := comp["code"].(map[string]any)
		for _, c := range objects(cc["coding"]) {
			for _, oc := range codings {
				if reflect.DeepEqual(c, oc) {
					return false
				}
			}
		}
	}
	return true
}

func notHomeUse(o, _ map[string]any) bool { return o["use"] != "home" }

// checkInvariants reports the invariants of ti that object o, at p, breaks.
func (w *walker) checkInvariants(o map[string]any, ti *typeInfo, p *path) {
	for i := range ti.invariants {
		inv := &ti.invariants[i]
		if inv.on == "" {
			if !inv.ok(o, w.root) {
				w.invariant(inv, p)
			}
			continue
		}
		cp := p.child(inv.on)
		switch v := o[inv.on].(type) {
		case map[string]any:
			if !inv.ok(v, w.root) {
				w.invariant(inv, &cp)
			}
		case []any:
			for j, e := range v {
				if m, ok := e.(map[string]any); ok && !inv.ok(m, w.root) {
					ep := cp.at(j)
					w.invariant(inv, &ep)
				}
			}
		}
	}
}

// invariant reports a broken invariant: its key and human text, never the
// values that break it.
func (w *walker) invariant(inv *invariant, p *path) {
	w.add("invariant", p, inv.key+": "+inv.human)
}

// invariantsFor returns the invariants of the samply struct named name.
func invariantsFor(name string) []invariant {
	if invs, ok := resourceInvariants[name]; ok {
		return invs
	}
	return typeInvariants[name]
}

// anyPresent reports whether any of the elements is present in o.
func anyPresent(o map[string]any, names ...string) bool {
	for _, n := range names {
		if present(o, n) {
			return true
		}
	}
	return false
}

// hasChoice reports whether any variant of choice element base (such as
// value[x]) is present in o, including as a primitive extension.
func hasChoice(o map[string]any, base string) bool {
	for k := range o {
		k = strings.TrimPrefix(k, "_")
		if len(k) > len(base) && strings.HasPrefix(k, base) && k[len(base)] >= 'A' && k[len(base)] <= 'Z' {
			return true
		}
	}
	return false
}

// objects returns the JSON objects of v, a single object or an array.
func objects(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// DomainResource's invariants on contained resources. dom-2 (no nested
// contained resources) is reported where the walk meets one; dom-6 (a
// narrative) is best practice, not an error, and is not checked.
const (
	dom3 = "dom-3: If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing resource"
	dom4 = "dom-4: If a resource is contained in another resource, it SHALL NOT have a meta.versionId or a meta.lastUpdated"
	dom5 = "dom-5: If a resource is contained in another resource, it SHALL NOT have a security label"
)

// containedMeta checks dom-4 and dom-5 on contained resource c at p.
func (w *walker) containedMeta(c map[string]any, p *path) {
	meta, _ := c["meta"].(map[string]any)
	if present(meta, "versionId") || present(meta, "lastUpdated") {
		w.add("invariant", p, dom4)
	}
	if present(meta, "security") {
		w.add("invariant", p, dom5)
	}
}

// containedReferenced checks dom-3 once the whole resource has been walked:
// each contained resource with an id must be the target of a local
// reference somewhere in the resource, or refer to its container ("#").
func (w *walker) containedReferenced(obj map[string]any, p *path) {
	arr, _ := obj["contained"].([]any)
	for i, e := range arr {
		c, _ := e.(map[string]any)
		id, ok := c["id"].(string)
		if !ok || id == "" || w.referenced(i, id) {
			continue
		}
		cp := p.child("contained")
		ep := cp.at(i)
		w.add("invariant", &ep, dom3)
	}
}

// referenced reports whether contained resource i, with id, is referred to.
func (w *walker) referenced(i int, id string) bool {
	for _, r := range w.localRefs {
		if (r.target[1:] == id) || (r.target == "#" && r.contained == i) {
			return true
		}
	}
	return false
}

package search

import (
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// refKey turns a Reference.reference into the stored "Type/id" form: a
// relative reference as is, an absolute URL by its last two segments, a
// version ("/_history/n") removed. Contained ("#x") and urn: references have
// no stored form.
func refKey(s string) (string, bool) {
	if s == "" || s[0] == '#' || strings.HasPrefix(s, "urn:") {
		return "", false
	}
	if i := strings.Index(s, "/_history/"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || (len(parts) > 2 && !strings.Contains(s, "://")) {
		return "", false
	}
	typ, id := parts[len(parts)-2], parts[len(parts)-1]
	if !typeName(typ) || !fhir.ValidID(id) {
		return "", false
	}
	return typ + "/" + id, true
}

// indexReference extracts the "Type/id" keys of Reference nodes.
func indexReference(nodes []any, patientOnly bool) []string {
	var out []string
	for _, n := range nodes {
		m, ok := n.(map[string]any)
		if !ok {
			continue
		}
		s, _ := m["reference"].(string)
		key, ok := refKey(s)
		if !ok || (patientOnly && !strings.HasPrefix(key, "Patient/")) {
			continue
		}
		out = uniq(out, key)
	}
	return out
}

// referenceCondition matches one reference search value: an id (any target
// type), Type/id, or an absolute URL ending in Type/id. modifier is "" or a
// target type.
func referenceCondition(d def, modifier, raw string) (*cond.Node, *problem) {
	field := d.field()
	v := unescape(raw)
	if modifier != "" {
		if !fhir.ValidID(v) {
			if key, ok := refKey(v); ok && strings.HasPrefix(key, modifier+"/") {
				return cond.Is(field, key), nil
			}
			return nil, invalid("%q is not a valid resource id", truncate(v))
		}
		return cond.Is(field, modifier+"/"+v), nil
	}
	if strings.Contains(v, "/") {
		key, ok := refKey(v)
		if !ok {
			return nil, invalid("%q is not a reference of the form [Type/]id or an absolute URL ending in Type/id", truncate(v))
		}
		typ, _, _ := strings.Cut(key, "/")
		if !slices.Contains(d.Targets, typ) {
			return nil, invalid("%s cannot refer to %s; its targets are %s", d.Name, typ, strings.Join(d.Targets, ", "))
		}
		return cond.Is(field, key), nil
	}
	if !fhir.ValidID(v) {
		return nil, invalid("%q is not a valid resource id (1 to 64 of A-Z, a-z, 0-9, '-' and '.')", truncate(v))
	}
	keys := make([]string, len(d.Targets))
	for i, t := range d.Targets {
		keys[i] = t + "/" + v
	}
	return cond.OneOf(field, keys), nil
}

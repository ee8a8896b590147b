package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

var leading = []string{"resourceType", "id", "meta"}

// MarshalResource encodes a resource object with resourceType, id and meta
// first (as FHIR's own examples are written) and the other elements in
// sorted order, so the same content always gives the same bytes.
func MarshalResource(obj map[string]any) ([]byte, error) {
	buf := make([]byte, 0, 1024)
	buf = append(buf, '{')
	first := true
	write := func(k string, v any) error {
		var err error
		if buf, err = appendMember(buf, !first, k, v); err != nil {
			return fmt.Errorf("encode %s: %w", k, err)
		}
		first = false
		return nil
	}
	for _, k := range leading {
		if v, ok := obj[k]; ok {
			if err := write(k, v); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if slices.Contains(leading, k) {
			continue
		}
		if err := write(k, obj[k]); err != nil {
			return nil, err
		}
	}
	return append(buf, '}'), nil
}

// DecodeObject decodes JSON into an object keeping numbers as json.Number.
func DecodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Elements returns the resource with only the named top-level elements
// (plus resourceType, id and meta), tagged SUBSETTED as the _elements
// parameter requires. On a body that is not an object it returns b.
func Elements(b []byte, names []string) []byte {
	obj, err := DecodeObject(b)
	if err != nil {
		return b
	}
	keep := map[string]bool{"resourceType": true, "id": true, "meta": true}
	for _, n := range names {
		keep[n] = true
	}
	for k := range obj {
		if !keep[k] {
			delete(obj, k)
		}
	}
	meta, _ := obj["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, map[string]any{
		"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
		"code":   "SUBSETTED", "display": "Resource content not complete"})
	obj["meta"] = meta
	out, err := MarshalResource(obj)
	if err != nil {
		return b
	}
	return out
}

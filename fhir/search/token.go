package search

import (
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// tokenIndex accumulates the stored form of token values.
type tokenIndex struct {
	codes, systemCodes, systems, texts []string
}

func (t *tokenIndex) add(system, code string) {
	if code == "" {
		t.systems = uniq(t.systems, system)
		return
	}
	t.codes = uniq(t.codes, code)
	t.systemCodes = uniq(t.systemCodes, system+"|"+code)
	t.systems = uniq(t.systems, system)
}

func (t *tokenIndex) text(s string) {
	if s != "" {
		t.texts = uniq(t.texts, normalize(s))
	}
}

// indexToken extracts codes from Coding, CodeableConcept, Identifier and
// code, boolean and string primitives. system is the code system of a code
// primitive with a fixed binding ("" when none).
func indexToken(nodes []any, system string) bson.M {
	var t tokenIndex
	for _, n := range nodes {
		switch v := n.(type) {
		case string:
			t.add(system, v)
		case bool:
			t.add("", strconv.FormatBool(v))
		case map[string]any:
			addTokenObject(&t, v)
		}
	}
	if len(t.codes) == 0 && len(t.systems) == 0 && len(t.texts) == 0 {
		return nil
	}
	m := bson.M{}
	if len(t.codes) > 0 {
		m["c"] = t.codes
		m["sc"] = t.systemCodes
	}
	if len(t.systems) > 0 {
		m["s"] = t.systems
	}
	if len(t.texts) > 0 {
		m["t"] = t.texts
	}
	return m
}

func addTokenObject(t *tokenIndex, v map[string]any) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	switch {
	case v["coding"] != nil || (v["text"] != nil && v["code"] == nil && v["value"] == nil):
		// CodeableConcept.
		for _, c := range appendFlat(nil, v["coding"]) {
			if cm, ok := c.(map[string]any); ok {
				addTokenObject(t, cm)
			}
		}
		t.text(str("text"))
	case v["code"] != nil || (v["system"] != nil && v["value"] == nil):
		// Coding.
		t.add(str("system"), str("code"))
		t.text(str("display"))
	case v["value"] != nil:
		// Identifier.
		t.add(str("system"), str("value"))
		if typ, ok := v["type"].(map[string]any); ok {
			if s, ok := typ["text"].(string); ok {
				t.text(s)
			}
		}
	}
}

// tokenValue is a parsed token search value.
type tokenValue struct {
	system    string
	hasSystem bool // a '|' was present
	code      string
}

func parseToken(raw string) (tokenValue, *problem) {
	parts := splitEscaped(raw, '|')
	switch len(parts) {
	case 1:
		if parts[0] == "" {
			return tokenValue{}, invalid("an empty token cannot be searched")
		}
		return tokenValue{code: unescape(parts[0])}, nil
	case 2:
		if parts[0] == "" && parts[1] == "" {
			return tokenValue{}, invalid("a token needs a system, a code, or both: [system]|[code]")
		}
		return tokenValue{system: unescape(parts[0]), hasSystem: true, code: unescape(parts[1])}, nil
	}
	return tokenValue{}, invalid("a token has at most one unescaped '|' ([system]|[code]); escape a '|' in a code as '\\|'")
}

// tokenCondition matches one token search value against stored token
// fields (without the :not modifier, which the caller applies).
func tokenCondition(field, modifier, raw string) (*cond.Node, *problem) {
	if modifier == "text" {
		if raw == "" {
			return nil, invalid("an empty text cannot be searched")
		}
		return cond.Compare(field+".t", cond.Prefix, normalize(unescape(raw))), nil
	}
	tv, p := parseToken(raw)
	if p != nil {
		return nil, p
	}
	switch {
	case !tv.hasSystem:
		return cond.Is(field+".c", tv.code), nil
	case tv.code == "":
		return cond.Is(field+".s", tv.system), nil
	}
	return cond.Is(field+".sc", tv.system+"|"+tv.code), nil
}

// idCondition matches _id values.
func idCondition(raw string) (*cond.Node, *problem) {
	id := unescape(raw)
	if !fhir.ValidID(id) {
		return nil, invalid("%q is not a valid resource id (1 to 64 of A-Z, a-z, 0-9, '-' and '.')", truncate(id))
	}
	return cond.Is(cond.ID, id), nil
}

// truncate shortens client text quoted back in an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}

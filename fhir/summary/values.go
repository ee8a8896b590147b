package summary

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reading values out of decoded FHIR JSON: every helper accepts whatever it
// is given (a missing element is the zero value), so a redacted resource
// simply shows less.

// at walks o by keys, taking the first element of any array on the way.
func at(o any, keys ...string) any {
	v := o
	for _, k := range keys {
		v = first(v)
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func first(v any) any {
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return nil
		}
		return a[0]
	}
	return v
}

// str is the string at keys, or "".
func str(o any, keys ...string) string {
	switch v := first(at(o, keys...)).(type) {
	case string:
		return v
	case bool:
		return fmt.Sprint(v)
	case fmt.Stringer: // json.Number
		return v.String()
	case float64, int:
		return fmt.Sprint(v)
	}
	return ""
}

// list is the array at key of o (an element that does not repeat is a
// list of one).
func list(o any, keys ...string) []any {
	switch v := at(o, keys...).(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

// concept is the words of a CodeableConcept: its text, else its codings'
// displays.
func concept(cc any) string {
	if t := str(cc, "text"); t != "" {
		return t
	}
	var out []string
	for _, c := range list(cc, "coding") {
		if d := str(c, "display"); d != "" {
			out = appendNew(out, d)
		} else if d := str(c, "code"); d != "" {
			out = appendNew(out, d)
		}
	}
	return strings.Join(out, ", ")
}

// concepts joins the words of several CodeableConcepts.
func concepts(ccs []any) string {
	var out []string
	for _, cc := range ccs {
		if w := concept(cc); w != "" {
			out = appendNew(out, w)
		}
	}
	return strings.Join(out, "; ")
}

// hasCoding reports whether any of the CodeableConcepts (or Codings) holds
// system|code.
func hasCoding(ccs []any, system, code string) bool {
	for _, cc := range ccs {
		codings := list(cc, "coding")
		if codings == nil {
			codings = []any{cc} // a Coding itself
		}
		for _, c := range codings {
			if str(c, "system") == system && (code == "" || str(c, "code") == code) {
				return true
			}
		}
	}
	return false
}

// codeIn is the code of the first coding of cc in system, or "".
func codeIn(cc any, system string) string {
	for _, c := range list(cc, "coding") {
		if str(c, "system") == system {
			return str(c, "code")
		}
	}
	return ""
}

// extension is the first extension of o with the url, or nil.
func extension(o any, url string) map[string]any {
	for _, e := range list(o, "extension") {
		if m, ok := e.(map[string]any); ok && m["url"] == url {
			return m
		}
	}
	return nil
}

// extensions are the string values of o's extensions with the url.
func extensions(o any, url string) []string {
	var out []string
	for _, e := range list(o, "extension") {
		if m, ok := e.(map[string]any); ok && m["url"] == url {
			if s := str(m, "valueString"); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func appendNew(dst []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// when shows a FHIR date or dateTime as people read it (UK style, in the
// zone it was recorded in); what cannot be parsed is shown as it is.
func when(s string) string {
	if s == "" {
		return ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2 Jan 2006 15:04")
		}
	}
	for _, layout := range []string{time.DateOnly, "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			switch layout {
			case time.DateOnly:
				return t.Format("2 Jan 2006")
			case "2006-01":
				return t.Format("Jan 2006")
			}
			return s
		}
	}
	return s
}

// period shows a Period: "from A", "A to B".
func period(p any) string {
	start, end := when(str(p, "start")), when(str(p, "end"))
	switch {
	case start != "" && end != "":
		return start + " to " + end
	case start != "":
		return "from " + start
	case end != "":
		return "until " + end
	}
	return ""
}

// humanName shows a HumanName: its text, else given names and family.
func humanName(n any) string {
	if t := str(n, "text"); t != "" {
		return t
	}
	var parts []string
	for _, g := range list(n, "given") {
		if s, ok := g.(string); ok {
			parts = append(parts, s)
		}
	}
	if f := str(n, "family"); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// telecoms shows ContactPoints: "phone 0123".
func telecoms(o any) string {
	var out []string
	for _, t := range list(o, "telecom") {
		if v := str(t, "value"); v != "" {
			out = append(out, strings.TrimSpace(str(t, "system")+" "+v))
		}
	}
	return strings.Join(out, ", ")
}

// ref is the "Type/id" a Reference points at.
func ref(o any, keys ...string) string { return str(at(o, keys...), "reference") }

// refs are the references of an element that repeats.
func refs(o any, keys ...string) []string {
	var out []string
	for _, r := range list(o, keys...) {
		if s := str(r, "reference"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/socialcare-fhir/gateway/fhir"
)

// maxIssues caps the problems reported for one resource.
const maxIssues = 100

// Resource checks body as a FHIR R4 resource in JSON and returns it decoded.
//
// Errors are *fhir.Error: status 400 (code "structure") when the body is not
// JSON or not a single JSON object, saying where (line and column); status
// 422 for an invalid resource, with one issue per problem, each pointing at
// the element with a FHIRPath-like Expression such as
// "Patient.identifier[0].value". The returned Resource has Type, ID (when
// present) and Object, decoded with json.Decoder.UseNumber.
func Resource(body []byte) (*fhir.Resource, error) {
	v, err := decode(body)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the body must be a JSON object holding a resource, not %s", jsonKind(v))
	}
	return check(obj)
}

// Object validates an already decoded resource object with the same rules
// and errors as Resource. The object is first normalised through JSON, so
// maps built in Go may hold any JSON-encodable values; the returned Resource
// holds the normalised copy (numbers as json.Number), never obj itself.
func Object(obj map[string]any) (*fhir.Resource, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		e := fhir.Errorf(http.StatusUnprocessableEntity, "structure", "the resource cannot be represented as JSON")
		e.Err = fmt.Errorf("validate: encode object: %w", err)
		return nil, e
	}
	// What json.Marshal wrote is one valid JSON value, UTF-8, with no
	// member twice, and no bigger than the object: the checks decode makes
	// of a body from outside (fhir.CheckJSON) cannot fail here, and cost
	// more than the decoding itself.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("validate: decode encoded object: %w", err)
	}
	m, _ := v.(map[string]any) // nil for a nil obj: reported as missing resourceType
	if m == nil {
		m = map[string]any{}
	}
	return check(m)
}

// Check validates an already decoded resource object with the same rules
// and errors as Object, without returning it. An object that is already
// what decoding JSON gives (maps, []any, strings in UTF-8, bool, valid
// json.Number, nil, nothing typed nil) is checked as it is, which costs a
// fraction of Object's round trip through JSON; anything else, for
// example a number built in Go, goes through Object. obj is not changed.
func Check(obj map[string]any) error {
	if obj == nil || !decodedValue(obj) {
		_, err := Object(obj)
		return err
	}
	_, err := check(obj)
	return err
}

// decodedValue reports whether v holds only what json.Decoder.UseNumber
// produces, so that marshalling and decoding it again would give v back.
func decodedValue(v any) bool {
	switch x := v.(type) {
	case nil, bool:
		return true
	case string:
		return utf8.ValidString(x)
	case json.Number:
		return fhir.ValidNumber(string(x))
	case map[string]any:
		if x == nil {
			return false
		}
		for k, e := range x {
			if !utf8.ValidString(k) || !decodedValue(e) {
				return false
			}
		}
		return true
	case []any:
		if x == nil {
			return false
		}
		for _, e := range x {
			if !decodedValue(e) {
				return false
			}
		}
		return true
	}
	return false
}

// check validates a decoded resource object.
func check(obj map[string]any) (*fhir.Resource, error) {
	rt, err := resourceType(obj)
	if err != nil {
		return nil, err
	}
	w := &walker{root: obj, inContained: -1}
	root := path{name: rt, index: -1}
	w.object(obj, infoFor(resourceModels[rt]), &root, 0, resTop)
	w.containedReferenced(obj, &root)
	if len(w.issues) > 0 {
		return nil, w.err()
	}
	res := &fhir.Resource{Type: rt, Object: obj}
	res.ID, _ = obj["id"].(string)
	return res, nil
}

// resourceType returns obj's resourceType when it is one the gateway serves.
func resourceType(obj map[string]any) (string, error) {
	v, ok := obj["resourceType"]
	rt, isString := v.(string)
	supported := "supported types: " + strings.Join(fhir.ResourceTypes, ", ")
	var msg string
	switch {
	case !ok:
		msg = "required element resourceType is missing; " + supported
	case !isString:
		msg = "resourceType must be a JSON string; " + supported
	case fhir.Supported(rt):
		if _, ok := resourceModels[rt]; ok {
			return rt, nil
		}
		msg = "resource type " + rt + " is not supported; " + supported
	case r4ResourceTypes[rt]:
		msg = "resource type " + rt + " is not supported; " + supported
	default:
		msg = "resourceType is not an R4 resource type; " + supported
	}
	code := "value"
	if !ok {
		code = "required"
	}
	e := fhir.Errorf(http.StatusUnprocessableEntity, code, "%s", msg)
	return "", e.At("resourceType")
}

// err returns the collected issues as one 422 error, in a stable order.
func (w *walker) err() *fhir.Error {
	issues := w.issues
	sort.SliceStable(issues, func(i, j int) bool {
		a, b := issues[i], issues[j]
		if a.Expression[0] != b.Expression[0] {
			return a.Expression[0] < b.Expression[0]
		}
		return a.Diagnostics < b.Diagnostics
	})
	if len(issues) > maxIssues {
		issues = append(issues[:maxIssues:maxIssues], fhir.Issue{
			Severity:    "error",
			Code:        "invalid",
			Diagnostics: fmt.Sprintf("%d more problems were found and not listed", len(w.issues)-maxIssues),
		})
	}
	return &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: issues}
}

// decode parses body as exactly one JSON value, keeping numbers as
// json.Number. Errors are 400s that say where the problem is.
func decode(body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, badJSON(body, invalidUTF8At(body), "the body is not valid UTF-8")
	}
	// Bounded and unambiguous before anything is built from it.
	if err := fhir.CheckJSON(body, fhir.DefaultJSONLimits); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.EOF):
			return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the body is empty: expected a JSON object")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, badJSON(body, len(body), "the body is not valid JSON: it ends too early")
		case errors.As(err, &se):
			return nil, badJSON(body, int(se.Offset), "the body is not valid JSON: "+se.Error())
		default:
			e := badJSON(body, int(dec.InputOffset()), "the body is not valid JSON")
			e.Err = err
			return nil, e
		}
	}
	off := int(dec.InputOffset())
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		for off < len(body) && strings.IndexByte(" \t\r\n", body[off]) >= 0 {
			off++
		}
		return nil, badJSON(body, off+1, "the body holds more than one JSON value")
	}
	return v, nil
}

// badJSON returns a 400 saying msg at the line and column of the byte before
// offset (json.SyntaxError offsets count the bytes read up to the error).
func badJSON(body []byte, offset int, msg string) *fhir.Error {
	pos := min(max(offset-1, 0), len(body))
	line := 1 + bytes.Count(body[:pos], []byte{'\n'})
	col := pos - bytes.LastIndexByte(body[:pos], '\n')
	return fhir.Errorf(http.StatusBadRequest, "structure", "%s (line %d, column %d)", msg, line, col)
}

// invalidUTF8At returns one past the offset of the first byte that is not
// part of valid UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i + 1
		}
		i += n
	}
	return len(b)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "a JSON value"
}

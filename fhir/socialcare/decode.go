package socialcare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Decode parses one record strictly and validates it completely. now is the
// reference time for "in the future" checks.
//
// Malformed JSON is a *fhir.Error with Status 400. A well-formed record with
// problems is a *fhir.Error with Status 422 and one Issue per problem, each
// naming the JSON path in the input (for example "visits[2].actualEnd") and
// saying in plain English what to fix. Messages never repeat personal data
// from the record.
func Decode(data []byte, now time.Time) (*Record, error) {
	// Parse into a generic tree first: it finds malformed JSON, and walking
	// it finds every unknown field (exact, case-sensitive names) and wrongly
	// typed value with its path, which encoding/json's strict mode cannot.
	if err := fhir.CheckJSON(data, fhir.DefaultJSONLimits); err != nil {
		return nil, err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, malformed(err)
	}
	if err := checkTrailing(dec); err != nil {
		return nil, err
	}
	var issues []fhir.Issue
	walk(generic, recordShape(), "", &issues)
	rec := new(Record)
	if err := json.Unmarshal(data, rec); err != nil && len(issues) == 0 {
		// The walk accepts only what the struct can hold, so this means
		// the two disagree; refuse rather than half-read the record.
		issues = append(issues, issue("structure", "", "The record does not match the record format."))
	}
	issues = mergeIssues(issues, validate(rec, now))
	if len(issues) > 0 {
		return nil, unprocessable(issues)
	}
	return rec, nil
}

func checkTrailing(dec *json.Decoder) error {
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{
			Severity: "error", Code: "structure",
			Diagnostics: "The body holds more than one JSON value; send one record per request (use NDJSON for many).",
		}}}
	}
	return nil
}

func malformed(err error) *fhir.Error {
	msg := "The body is not valid JSON"
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = fmt.Sprintf("The body is not valid JSON (syntax error at byte %d)", se.Offset)
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		msg = "The body is empty or ends too early; send one complete JSON record"
	}
	return &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "structure", Diagnostics: msg}}, Err: err}
}

func unprocessable(issues []fhir.Issue) *fhir.Error {
	return &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: issues}
}

// mergeIssues keeps every structural issue and drops value issues at a path
// that already has a structural one (a wrongly typed field would otherwise
// also be reported as missing).
func mergeIssues(structural, semantic []fhir.Issue) []fhir.Issue {
	bad := make(map[string]bool, len(structural))
	for _, is := range structural {
		bad[is.Expression[0]] = true
	}
	out := structural
	for _, is := range semantic {
		if len(is.Expression) > 0 && bad[is.Expression[0]] {
			continue
		}
		out = append(out, is)
	}
	return out
}

// shape describes the JSON form of a Go type of the record, built once by
// reflection from the struct tags and never modified.
type shape struct {
	kind   shapeKind
	fields map[string]*shape // objects
	elem   *shape            // arrays
}

type shapeKind int

const (
	shapeString shapeKind = iota
	shapeBool
	shapeNumber
	shapeInteger
	shapeObject
	shapeArray
)

var numberType = reflect.TypeFor[json.Number]()

var recordShape = sync.OnceValue(func() *shape { return shapeOf(reflect.TypeFor[Record]()) })

func shapeOf(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == numberType:
		return &shape{kind: shapeNumber}
	case t.Kind() == reflect.String:
		return &shape{kind: shapeString}
	case t.Kind() == reflect.Bool:
		return &shape{kind: shapeBool}
	case t.Kind() == reflect.Int:
		return &shape{kind: shapeInteger}
	case t.Kind() == reflect.Slice:
		return &shape{kind: shapeArray, elem: shapeOf(t.Elem())}
	case t.Kind() == reflect.Struct:
		s := &shape{kind: shapeObject, fields: map[string]*shape{}}
		addFields(s, t)
		return s
	}
	panic("socialcare: unsupported record field type " + t.String()) // programming error, caught by tests
}

func addFields(s *shape, t reflect.Type) {
	for f := range t.Fields() {
		if f.Anonymous {
			addFields(s, f.Type)
			continue
		}
		name := jsonName(f)
		if name == "" {
			continue
		}
		s.fields[name] = shapeOf(f.Type)
	}
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// walk checks v against s and records every unknown field and wrongly typed
// value with its path. A null value counts as absent.
func walk(v any, s *shape, path string, out *[]fhir.Issue) {
	if v == nil {
		return
	}
	switch s.kind {
	case shapeString:
		if _, ok := v.(string); !ok {
			*out = append(*out, issue("structure", path, "This must be text (a JSON string)."))
		}
	case shapeBool:
		if _, ok := v.(bool); !ok {
			*out = append(*out, issue("structure", path, "This must be true or false."))
		}
	case shapeNumber, shapeInteger:
		n, ok := v.(json.Number)
		if !ok {
			*out = append(*out, issue("structure", path, "This must be a number (not in quotes)."))
			return
		}
		if s.kind == shapeInteger {
			if _, err := n.Int64(); err != nil {
				*out = append(*out, issue("structure", path, "This must be a whole number."))
			}
		}
	case shapeArray:
		arr, ok := v.([]any)
		if !ok {
			*out = append(*out, issue("structure", path, "This must be a list (a JSON array)."))
			return
		}
		for i, e := range arr {
			walk(e, s.elem, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case shapeObject:
		obj, ok := v.(map[string]any)
		if !ok {
			*out = append(*out, issue("structure", path, "This must be an object (a JSON object with named fields)."))
			return
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := join(path, k)
			fs, known := s.fields[k]
			if !known {
				*out = append(*out, issue("structure", child, fmt.Sprintf("Unknown field %q: record format %s does not have it. Check the spelling against the published schema, or remove it.", k, SchemaVersion)))
				continue
			}
			walk(obj[k], fs, child, out)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func issue(code, path, msg string) fhir.Issue {
	is := fhir.Issue{Severity: "error", Code: code, Diagnostics: msg}
	if path != "" {
		is.Expression = []string{path}
	} else {
		is.Expression = []string{"$"}
	}
	return is
}

package socialcare

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestSchemaMatchesStruct walks the JSON Schema and the Go struct together:
// the same field names at every level, the same JSON types, and the
// required lists equal to the fields without omitempty.
func TestSchemaMatchesStruct(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" || schema["$id"] != SchemaURL {
		t.Errorf("schema $schema/$id = %v / %v", schema["$schema"], schema["$id"])
	}
	defs, _ := schema["$defs"].(map[string]any)
	resolve := func(node map[string]any) map[string]any {
		if r, ok := node["$ref"].(string); ok {
			d, _ := defs[strings.TrimPrefix(r, "#/$defs/")].(map[string]any)
			return d
		}
		return node
	}
	var check func(path string, node map[string]any, s *shape)
	check = func(path string, node map[string]any, s *shape) {
		node = resolve(node)
		if node == nil {
			t.Errorf("%s: dangling $ref", path)
			return
		}
		want := map[shapeKind]string{shapeString: "string", shapeBool: "boolean", shapeNumber: "number",
			shapeInteger: "integer", shapeObject: "object", shapeArray: "array"}[s.kind]
		if typ, ok := node["type"]; ok && typ != want {
			t.Errorf("%s: schema type %v; Go type is %s", path, typ, want)
		} else if !ok && node["const"] == nil {
			t.Errorf("%s: schema gives no type", path)
		}
		switch s.kind {
		case shapeArray:
			items, _ := node["items"].(map[string]any)
			check(path+"[]", items, s.elem)
		case shapeObject:
			if node["additionalProperties"] != false {
				t.Errorf("%s: schema must set additionalProperties false", path)
			}
			props, _ := node["properties"].(map[string]any)
			var sk, gk []string
			for k := range props {
				sk = append(sk, k)
			}
			for k := range s.fields {
				gk = append(gk, k)
			}
			sort.Strings(sk)
			sort.Strings(gk)
			if !slices.Equal(sk, gk) {
				t.Errorf("%s: schema fields %v; Go fields %v", path, sk, gk)
				return
			}
			for _, k := range gk {
				check(join(path, k), props[k].(map[string]any), s.fields[k])
			}
		}
	}
	check("", schema, recordShape())
}

// TestSchemaRequiredMatchesStruct compares required lists with the fields
// that have no omitempty.
func TestSchemaRequiredMatchesStruct(t *testing.T) {
	var schema struct {
		Required []string                  `json:"required"`
		Defs     map[string]map[string]any `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	for name, want := range requiredByType() {
		var got []string
		if name == "Record" {
			got = schema.Required
		} else {
			d, ok := schema.Defs[name]
			if !ok {
				t.Errorf("schema has no $defs/%s", name)
				continue
			}
			for _, r := range asStrings(d["required"]) {
				got = append(got, r)
			}
		}
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema requires %v; Go struct requires %v", name, got, want)
		}
	}
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func TestSchemaEnumsMatchCodeLists(t *testing.T) {
	var schema struct {
		Defs map[string]struct {
			Properties map[string]map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		def, field string
		list       codeList
	}{
		{"PackageLine", "serviceType", cldServiceTypes},
		{"PackageLine", "serviceComponent", cldServiceComponents},
		{"PackageLine", "deliveryMechanism", cldDeliveryMechanisms},
		{"Person", "primarySupportReason", cldPrimarySupportReasons},
		{"Assessment", "outcome", cldEventOutcomes},
		{"Medication", "outcome", medicationOutcomes},
		{"Medication", "support", supportLevels},
		{"Incident", "type", incidentTypes},
		{"Note", "kind", statementKinds},
		{"Visit", "status", visitStatuses},
	} {
		got := asStrings(schema.Defs[tc.def].Properties[tc.field]["enum"])
		if !slices.Equal(got, []string(tc.list)) {
			t.Errorf("%s.%s: schema enum %v; Go list %v", tc.def, tc.field, got, tc.list)
		}
	}
}

// requiredByType lists, per struct type name, the JSON fields without
// omitempty (embedded Entry fields included).
func requiredByType() map[string][]string {
	out := map[string][]string{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == numberType {
			return
		}
		if _, done := out[t.Name()]; done {
			return
		}
		out[t.Name()] = []string{}
		var add func(st reflect.Type)
		add = func(st reflect.Type) {
			for f := range st.Fields() {
				if f.Anonymous {
					add(f.Type)
					continue
				}
				if f.Tag.Get("json") == "-" {
					continue // not part of the JSON (set by the gateway)
				}
				if !strings.Contains(f.Tag.Get("json"), ",omitempty") {
					out[t.Name()] = append(out[t.Name()], jsonName(f))
				}
				visit(f.Type)
			}
		}
		add(t)
		sort.Strings(out[t.Name()])
	}
	visit(reflect.TypeFor[Record]())
	delete(out, "Entry")
	return out
}

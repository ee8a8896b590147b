package validate

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/socialcare-fhir/gateway/fhir"
)

func TestResourceModelsMatchServedTypes(t *testing.T) {
	var got []string
	for rt, typ := range resourceModels {
		got = append(got, rt)
		if typ.Name() != rt {
			t.Errorf("resourceModels[%q] is %v", rt, typ)
		}
		if !r4ResourceTypes[rt] {
			t.Errorf("%s is not in r4ResourceTypes", rt)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, fhir.ResourceTypes) {
		t.Errorf("resourceModels has %q, want fhir.ResourceTypes %q", got, fhir.ResourceTypes)
	}
}

// reachable returns the model struct types reachable from the served
// resource types, by name.
func reachable() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		if _, ok := out[t.Name()]; ok {
			return
		}
		out[t.Name()] = t
		for i := range t.NumField() {
			ft := t.Field(i).Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				walk(ft)
			}
		}
	}
	for _, t := range resourceModels {
		walk(t)
	}
	for _, t := range containedModels {
		walk(t)
	}
	return out
}

// TestTablesNameRealElements guards the hand-written tables against typos.
func TestTablesNameRealElements(t *testing.T) {
	types := reachable()
	check := func(table, key string) {
		typ, name, _ := strings.Cut(key, ".")
		st, ok := types[typ]
		if !ok {
			t.Errorf("%s: %s is not a reachable model type", table, key)
			return
		}
		if _, ok := infoFor(st).fields[name]; !ok {
			if ti := infoFor(st); !slices.ContainsFunc(ti.choices, func(c *choice) bool { return c.base == name }) {
				t.Errorf("%s: %s is not an element", table, key)
			}
		}
	}
	for k := range elementTypes {
		check("elementTypes", k)
	}
	for k := range codeSets {
		check("codeSets", k)
	}
	for k := range requiredChoices {
		check("requiredChoices", k)
	}
}

// TestRequiredChoicesAgreeWithModel checks the hand-written table of
// required choice elements against the samply model, which renders the
// variants of a required choice without omitempty.
func TestRequiredChoicesAgreeWithModel(t *testing.T) {
	for name, st := range reachable() {
		ti := infoFor(st)
		for _, c := range ti.choices {
			sf, _ := st.FieldByNameFunc(func(n string) bool {
				f, _ := st.FieldByName(n)
				return strings.Split(f.Tag.Get("json"), ",")[0] == c.variants[0]
			})
			modelRequired := !strings.Contains(sf.Tag.Get("json"), "omitempty")
			if c.required != modelRequired {
				t.Errorf("%s.%s[x]: table says required=%v, model says %v", name, c.base, c.required, modelRequired)
			}
		}
	}
}

func TestEnumCodes(t *testing.T) {
	seen := map[reflect.Type]bool{}
	for _, st := range reachable() {
		for _, f := range infoFor(st).fields {
			if f.kind != kindEnum || seen[f.enum.typ] {
				continue
			}
			seen[f.enum.typ] = true
			if f.enum.allowed == "" {
				t.Errorf("%v: no codes listed", f.enum.typ)
			}
			for code := range strings.SplitSeq(f.enum.allowed, ", ") {
				if !f.enum.validCode(code) {
					t.Errorf("%v: listed code %q is rejected", f.enum.typ, code)
				}
			}
			for _, bad := range []string{"not-a-code", `male"`, `\u0022`} {
				if f.enum.validCode(bad) {
					t.Errorf("%v: %q accepted", f.enum.typ, bad)
				}
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d enum types found", len(seen))
	}
	cmp := enumFor(reflect.TypeFor[models.QuantityComparator]())
	if !cmp.validCode("<=") || cmp.allowed != "<, <=, >=, >" {
		t.Errorf("QuantityComparator: allowed %q, <= valid %v", cmp.allowed, cmp.validCode("<="))
	}
}

func TestElementTypesInferred(t *testing.T) {
	tests := []struct {
		typ   reflect.Type
		field string
		want  primitive
	}{
		{reflect.TypeFor[models.Patient](), "id", pID},
		{reflect.TypeFor[models.HumanName](), "id", pString},
		{reflect.TypeFor[models.Patient](), "birthDate", pDate},
		{reflect.TypeFor[models.Patient](), "deceasedDateTime", pDateTime},
		{reflect.TypeFor[models.Patient](), "multipleBirthInteger", pInteger},
		{reflect.TypeFor[models.Observation](), "effectiveInstant", pInstant},
		{reflect.TypeFor[models.Observation](), "valueTime", pTime},
		{reflect.TypeFor[models.AdverseEvent](), "recordedDate", pDateTime},
		{reflect.TypeFor[models.DocumentReference](), "date", pInstant},
		{reflect.TypeFor[models.Extension](), "valueUuid", pUUID},
		{reflect.TypeFor[models.Quantity](), "value", pDecimal},
		{reflect.TypeFor[models.Patient](), "active", pBoolean},
		{reflect.TypeFor[models.Reference](), "reference", pReference},
		{reflect.TypeFor[models.Meta](), "lastUpdated", pInstant},
		{reflect.TypeFor[models.Attachment](), "size", pUnsignedInt},
	}
	for _, tt := range tests {
		f := infoFor(tt.typ).fields[tt.field]
		if f == nil || f.kind != kindPrimitive || f.prim != tt.want {
			t.Errorf("%s.%s: got %+v, want primitive %v", tt.typ.Name(), tt.field, f, tt.want)
		}
	}
}

package validate

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// fieldKind says how an element's JSON value is checked.
type fieldKind uint8

const (
	kindObject    fieldKind = iota // a complex type or backbone element
	kindEnum                       // a code bound to a required value set
	kindPrimitive                  // any other primitive
)

// typeInfo is what the walk needs to know about one model struct type.
// Values are built once per Go type and never modified afterwards.
type typeInfo struct {
	name     string // Go type name, e.g. "ObservationComponent"
	fields   map[string]*field
	required []string  // JSON names of required elements that are not choice variants
	choices  []*choice // choice elements (value[x]) with two or more variants
	resource bool      // a resource type: its id is an id, contained is allowed
	special  special
	// invariants are the R4 constraints on this type (invariants.go).
	invariants []invariant
}

// special marks types with checks beyond their elements.
type special uint8

const (
	specialNone special = iota
	specialIdentifier
)

// field is one element of a model struct.
type field struct {
	name   string
	array  bool
	kind   fieldKind
	obj    *typeInfo // kindObject
	enum   *enumInfo // kindEnum
	prim   primitive // kindPrimitive
	choice *choice   // the choice element this field is a variant of, if any
	codes  []string  // for codes the model keeps as strings: the allowed codes
}

// choice is a choice element such as Observation.value[x].
type choice struct {
	base     string   // "value"
	variants []string // "valueQuantity", "valueString", ...
	required bool
}

// enumInfo describes a samply code enum type.
type enumInfo struct {
	typ     reflect.Type
	allowed string // the codes, comma separated, for messages
}

// typeCache maps reflect.Type to *typeInfo; entries are immutable.
var typeCache sync.Map

var (
	jsonNumberType  = reflect.TypeFor[json.Number]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	identifierType  = reflect.TypeFor[models.Identifier]()
	elementType     = reflect.TypeFor[element]()
)

// element is the model of a primitive extension ("_birthDate"): a primitive
// value's id and extensions.
type element struct {
	ID        *string            `json:"id,omitempty"`
	Extension []models.Extension `json:"extension,omitempty"`
}

// infoFor returns the cached metadata of struct type t, building it (and
// that of every struct type reachable from it) on first use.
func infoFor(t reflect.Type) *typeInfo {
	if ti, ok := typeCache.Load(t); ok {
		return ti.(*typeInfo)
	}
	b := builder{infos: map[reflect.Type]*typeInfo{}}
	ti := b.build(t)
	for typ, info := range b.infos {
		typeCache.LoadOrStore(typ, info)
	}
	if cached, ok := typeCache.Load(t); ok {
		return cached.(*typeInfo)
	}
	return ti
}

// builder builds a graph of typeInfo values; infos breaks cycles such as
// Extension.extension.
type builder struct {
	infos map[reflect.Type]*typeInfo
}

func (b *builder) build(t reflect.Type) *typeInfo {
	if ti, ok := typeCache.Load(t); ok {
		return ti.(*typeInfo)
	}
	if ti, ok := b.infos[t]; ok {
		return ti
	}
	ti := &typeInfo{name: t.Name(), fields: make(map[string]*field, t.NumField())}
	_, ti.resource = resourceModels[t.Name()]
	if _, ok := containedModels[t.Name()]; ok {
		ti.resource = true
	}
	ti.invariants = invariantsFor(ti.name)
	if t == identifierType {
		ti.special = specialIdentifier
	}
	b.infos[t] = ti

	type tagged struct {
		f        *field
		optional bool
		ft       reflect.Type
	}
	var order []tagged
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		f := &field{name: name}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice && ft != reflect.TypeFor[json.RawMessage]() {
			f.array = true
			ft = ft.Elem()
		}
		ti.fields[name] = f
		order = append(order, tagged{f: f, optional: strings.Contains(opts, "omitempty"), ft: ft})
	}

	ti.choices = findChoices(ti)
	for _, tg := range order {
		f := tg.f
		switch {
		case tg.ft.Kind() == reflect.Struct:
			f.kind = kindObject
			f.obj = b.build(tg.ft)
		case tg.ft.Kind() == reflect.Int && tg.ft.PkgPath() != "" && reflect.PointerTo(tg.ft).Implements(unmarshalerType):
			f.kind = kindEnum
			f.enum = enumFor(tg.ft)
		default:
			f.kind = kindPrimitive
			f.prim = primitiveFor(ti, f, tg.ft)
			f.codes = codeSets[ti.name+"."+f.name]
		}
		if !tg.optional && f.choice == nil {
			ti.required = append(ti.required, f.name)
		}
	}
	for _, c := range ti.choices {
		c.required = requiredChoices[ti.name+"."+c.base]
	}
	return ti
}

// findChoices groups the non-repeating fields named base+DataType into choice
// elements; a group needs at least two variants, so that ordinary elements
// such as birthDate are not taken for choices.
func findChoices(ti *typeInfo) []*choice {
	groups := map[string][]string{}
	for name, f := range ti.fields {
		if f.array {
			continue
		}
		if base, _, ok := splitChoice(name); ok {
			groups[base] = append(groups[base], name)
		}
	}
	var out []*choice
	for base, vs := range groups {
		if len(vs) < 2 {
			continue
		}
		sort.Strings(vs)
		c := &choice{base: base, variants: vs}
		for _, v := range vs {
			ti.fields[v].choice = c
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].base < out[j].base })
	return out
}

// splitChoice splits a choice variant's name such as "effectiveDateTime" into
// its base and the longest FHIR data type name it ends with.
func splitChoice(name string) (base, typ string, ok bool) {
	for i := 1; i < len(name); i++ {
		if c := name[i]; c < 'A' || c > 'Z' {
			continue
		}
		if _, known := choiceTypes[name[i:]]; known {
			return name[:i], name[i:], true
		}
	}
	return "", "", false
}

// enumFor lists the codes an enum type accepts by asking its Code method for
// successive values until it returns "<unknown>".
func enumFor(t reflect.Type) *enumInfo {
	ei := &enumInfo{typ: t}
	m, ok := t.MethodByName("Code")
	if !ok || t.Kind() != reflect.Int {
		return ei
	}
	var codes []string
	for i := range 1000 {
		v := reflect.New(t).Elem()
		v.SetInt(int64(i))
		out := m.Func.Call([]reflect.Value{v})
		code := out[0].String()
		if code == "<unknown>" {
			break
		}
		codes = append(codes, code)
	}
	ei.allowed = strings.Join(codes, ", ")
	return ei
}

// validCode reports whether the enum type's UnmarshalJSON accepts code.
// The JSON string is built by hand: json.Marshal would escape "<" in
// comparators such as "<=", which the generated UnmarshalJSON compares
// literally.
func (ei *enumInfo) validCode(code string) bool {
	if strings.ContainsRune(code, '"') || strings.ContainsRune(code, '\\') {
		return false
	}
	u, ok := reflect.New(ei.typ).Interface().(json.Unmarshaler)
	if !ok {
		return false
	}
	buf := make([]byte, 0, len(code)+2)
	buf = append(buf, '"')
	buf = append(buf, code...)
	buf = append(buf, '"')
	return u.UnmarshalJSON(buf) == nil
}

package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// JSONLimits bound what decoding one JSON body may cost, so that a small
// body cannot make the gateway build a huge tree: how deep values nest, how
// many items an array and how many members an object holds, how many
// values the body holds in all, and how long one string is.
type JSONLimits struct {
	Depth, ArrayItems, ObjectMembers, Values, StringBytes int
}

// DefaultJSONLimits are generous for FHIR resources and social care
// records (a resource nests about 10 deep; the validator refuses past 64
// with the FHIR path) and far below what hurts.
var DefaultJSONLimits = JSONLimits{Depth: 128, ArrayItems: 10000, ObjectMembers: 1000, Values: 250000, StringBytes: 2 << 20}

// CheckJSON reads body once, without building it, and refuses it when it
// exceeds the limits (413, naming the limit and where) or when an object
// holds the same member twice (400: JSON leaves its meaning open, and the
// last one would silently win). Malformed JSON passes: the decoder that
// follows reports it with its position.
func CheckJSON(body []byte, lim JSONLimits) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		n      int
		keys   map[string]bool
		path   string
		key    string // the member whose value comes next (objects)
	}
	var stack []*frame
	values := 0
	child := func() string {
		if len(stack) == 0 {
			return "$"
		}
		f := stack[len(stack)-1]
		if f.object {
			return f.path + "." + f.key
		}
		return f.path + "[" + strconv.Itoa(f.n-1) + "]"
	}
	tooMuch := func(what string, limit int, at string) error {
		return Errorf(http.StatusRequestEntityTooLarge, "too-costly", "the body holds %s (the gateway's limit is %d) at %s", what, limit, at)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed: the decoder says which
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object {
			if d, ok := tok.(json.Delim); !ok || d != '}' {
				// A member name: objects alternate names and values.
				if name, ok := tok.(string); ok && top.key == "" {
					if top.keys[name] {
						where := "the object at " + top.path
						if top.path == "$" {
							where = "the body"
						}
						return Errorf(http.StatusBadRequest, "structure", "%s holds the member %q twice; send each member once", where, name).At(strings.TrimPrefix(top.path+"."+name, "$."))
					}
					top.keys[name] = true
					top.n++
					if top.n > lim.ObjectMembers {
						return tooMuch("an object with more members", lim.ObjectMembers, top.path)
					}
					top.key = name
					continue
				}
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = ""
			}
			continue
		}
		// A value.
		if top != nil && !top.object {
			top.n++
			if top.n > lim.ArrayItems {
				return tooMuch("an array with more items", lim.ArrayItems, top.path)
			}
		}
		values++
		if values > lim.Values {
			return tooMuch("more values", lim.Values, child())
		}
		switch v := tok.(type) {
		case json.Delim:
			if len(stack) >= lim.Depth {
				return tooMuch("values nested deeper", lim.Depth, child())
			}
			f := &frame{object: v == '{', path: child()}
			if f.object {
				f.keys = map[string]bool{}
			}
			stack = append(stack, f)
			continue
		case string:
			if len(v) > lim.StringBytes {
				return tooMuch(fmt.Sprintf("a string of %d bytes, longer", len(v)), lim.StringBytes, child())
			}
		}
		if top != nil && top.object {
			top.key = ""
		}
	}
}

package fhir

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// PatchOp is one operation of a JSON Patch (RFC 6902). Only add, remove,
// replace and test are supported (no move or copy).
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// DecodePatch reads a JSON Patch document, numbers kept as json.Number.
func DecodePatch(b []byte) ([]PatchOp, error) {
	var ops []PatchOp
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&ops); err != nil {
		return nil, fmt.Errorf("not a JSON Patch (an array of operations): %w", err)
	}
	return ops, nil
}

// ApplyPatch applies ops to obj in order, changing it; the first
// operation that cannot be applied stops it with an error naming its
// index (obj may then be partly changed: patch a copy). A patch may not
// change resourceType or id.
func ApplyPatch(obj map[string]any, ops []PatchOp) error {
	for i, op := range ops {
		parts, err := pointerParts(op.Path)
		if err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
		if parts[0] == "resourceType" || parts[0] == "id" {
			return fmt.Errorf("operation %d: %s cannot be patched", i, op.Path)
		}
		if err := applyOp(obj, op, parts); err != nil {
			return fmt.Errorf("operation %d (%s %s): %w", i, op.Op, op.Path, err)
		}
	}
	return nil
}

func pointerParts(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") || p == "/" {
		return nil, fmt.Errorf("path %q is not a JSON pointer below the resource", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func applyOp(obj map[string]any, op PatchOp, parts []string) error {
	parent, err := walk(obj, parts[:len(parts)-1])
	if err != nil {
		return err
	}
	last := parts[len(parts)-1]
	switch op.Op {
	case "test":
		cur, ok := child(parent, last)
		if !ok || !reflect.DeepEqual(normalise(cur), normalise(op.Value)) {
			return fmt.Errorf("the value there is not the one tested")
		}
		return nil
	case "add", "replace", "remove":
	default:
		return fmt.Errorf("op %q is not supported (add, remove, replace, test)", op.Op)
	}
	if _, ok := child(parent, last); !ok && op.Op != "add" {
		return fmt.Errorf("nothing is there")
	}
	return setChild(obj, parts, op)
}

// walk follows parts from node to a container (object or array).
func walk(node any, parts []string) (any, error) {
	for _, p := range parts {
		next, ok := child(node, p)
		if !ok {
			return nil, fmt.Errorf("%q is not there", p)
		}
		node = next
	}
	switch node.(type) {
	case map[string]any, []any:
		return node, nil
	}
	return nil, fmt.Errorf("the parent is not an object or array")
}

func child(node any, key string) (any, bool) {
	switch n := node.(type) {
	case map[string]any:
		v, ok := n[key]
		return v, ok
	case []any:
		i, err := strconv.Atoi(key)
		if err != nil || i < 0 || i >= len(n) {
			return nil, false
		}
		return n[i], true
	}
	return nil, false
}

// setChild applies an add, replace or remove at parts below obj, replacing
// arrays on the way as they grow or shrink.
func setChild(obj map[string]any, parts []string, op PatchOp) error {
	var set func(node any, parts []string) (any, error)
	set = func(node any, parts []string) (any, error) {
		key := parts[0]
		switch n := node.(type) {
		case map[string]any:
			if len(parts) > 1 {
				v, err := set(n[key], parts[1:])
				n[key] = v
				return n, err
			}
			if op.Op == "remove" {
				delete(n, key)
			} else {
				n[key] = op.Value
			}
			return n, nil
		case []any:
			i, err := strconv.Atoi(key)
			if key == "-" && len(parts) == 1 && op.Op == "add" {
				return append(n, op.Value), nil
			}
			if err != nil || i < 0 || i > len(n) || (i == len(n) && (len(parts) > 1 || op.Op != "add")) {
				return n, fmt.Errorf("index %q is out of range", key)
			}
			if len(parts) > 1 {
				v, err := set(n[i], parts[1:])
				n[i] = v
				return n, err
			}
			switch op.Op {
			case "remove":
				return append(n[:i:i], n[i+1:]...), nil
			case "replace":
				n[i] = op.Value
				return n, nil
			}
			out := append(n[:i:i], op.Value)
			return append(out, n[i:]...), nil
		}
		return node, fmt.Errorf("the parent is not an object or array")
	}
	_, err := set(obj, parts)
	return err
}

// normalise makes decoded JSON values comparable (numbers as strings).
func normalise(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

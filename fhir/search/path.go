package search

import (
	"strings"
	"unicode"
)

// collect returns the nodes at path in a decoded JSON resource, flattening
// arrays at every step. Segment "x[x]" matches any choice-type element
// "x<Type>"; "x[Type]" matches only "x<Type>".
func collect(node any, path string) []any {
	nodes := []any{node}
	for seg := range strings.SplitSeq(path, ".") {
		var next []any
		for _, n := range nodes {
			obj, ok := n.(map[string]any)
			if !ok {
				continue
			}
			for _, v := range step(obj, seg) {
				next = appendFlat(next, v)
			}
		}
		nodes = next
		if len(nodes) == 0 {
			return nil
		}
	}
	return nodes
}

// step returns the values of obj selected by one path segment.
func step(obj map[string]any, seg string) []any {
	base, choice, ok := strings.Cut(seg, "[")
	if !ok {
		if v, ok := obj[seg]; ok {
			return []any{v}
		}
		return nil
	}
	choice = strings.TrimSuffix(choice, "]")
	if choice != "x" {
		if v, ok := obj[base+upperFirst(choice)]; ok {
			return []any{v}
		}
		return nil
	}
	var out []any
	for k, v := range obj {
		if rest, ok := strings.CutPrefix(k, base); ok && rest != "" && unicode.IsUpper(rune(rest[0])) {
			out = append(out, v)
		}
	}
	return out
}

func appendFlat(dst []any, v any) []any {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			dst = appendFlat(dst, e)
		}
		return dst
	}
	if v == nil {
		return dst
	}
	return append(dst, v)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

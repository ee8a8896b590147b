package fhir

import (
	"strconv"
	"strings"
)

// RemovePointer removes the element a JSON pointer (RFC 6901) names from
// obj, if it is there: "/note" removes the note element, "/code/text" the
// text of code, "/note/0" the first note. A pointer that names nothing
// changes nothing.
func RemovePointer(obj map[string]any, pointer string) {
	if !strings.HasPrefix(pointer, "/") {
		return
	}
	parts := strings.Split(pointer[1:], "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	removeAt(obj, parts)
}

func removeAt(node any, parts []string) any {
	switch n := node.(type) {
	case map[string]any:
		if len(parts) == 1 {
			delete(n, parts[0])
			return n
		}
		if child, ok := n[parts[0]]; ok {
			n[parts[0]] = removeAt(child, parts[1:])
		}
		return n
	case []any:
		i, err := strconv.Atoi(parts[0])
		if err != nil || i < 0 || i >= len(n) {
			return n
		}
		if len(parts) == 1 {
			return append(n[:i:i], n[i+1:]...)
		}
		n[i] = removeAt(n[i], parts[1:])
		return n
	}
	return node
}

package search

import (
	"regexp"
	"strings"
)

// splitEscaped splits a search value at every sep that is not escaped with
// a backslash, as the FHIR search syntax requires for ',', '|' and '$'. The
// parts keep their escapes; see unescape.
func splitEscaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescape removes the search escapes \, \| \$ and \\.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`,|$\`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// typeName reports whether s has the shape of a resource type name:
// [A-Z][A-Za-z]{1,63}.
func typeName(s string) bool {
	if len(s) < 2 || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// elementPattern is a simple top-level element name for _elements.
var elementPattern = regexp.MustCompile(`^[a-z][A-Za-z0-9]{0,63}$`)

// uniq appends s to list unless it is empty or already there.
func uniq(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

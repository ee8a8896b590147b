package fhir

// ValidID reports whether s is an R4 id: 1 to 64 characters, each a
// letter, a digit, '-' or '.' (datatypes.html#id: [A-Za-z0-9\-\.]{1,64}).
// It is the one id check of the gateway, the validator and the search
// index; it is a loop rather than a regular expression because every
// stored reference and every request's id pass through it.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ValidCode reports whether s is an R4 code: not empty, and no leading,
// trailing or repeated whitespace (datatypes.html#code:
// [^\s]+(\s[^\s]+)*, whitespace being space, tab, newline, carriage
// return and form feed, as in the specification's regular expressions).
func ValidCode(s string) bool {
	if s == "" {
		return false
	}
	prevSpace := true // a leading space fails as a repeated one does
	for i := 0; i < len(s); i++ {
		sp := isCodeSpace(s[i])
		if sp && prevSpace {
			return false
		}
		prevSpace = sp
	}
	return !prevSpace
}

func isCodeSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

package fhir

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The specification's patterns, as Go's regexp reads them: ValidID and
// ValidCode must agree with them on every input.
var (
	specID   = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	specCode = regexp.MustCompile(`^[^\s]+(\s[^\s]+)*$`)
)

func TestValidIDAndCodeAgreeWithTheSpecificationsPatterns(t *testing.T) {
	cases := []string{"", "a", "A-1.b", strings.Repeat("x", 64), strings.Repeat("x", 65), "a b", "a_b", "a/b", "é", "a\n",
		" a", "a ", "a  b", "a b", "a\tb", "a\u00a0b", "\u00a0", "\x00", "a\v", "a\fb", "a\r\nb", "\n"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ09-._ \t\n\r\f\v/\x00\xc3\xa9")
	for range 20_000 {
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := ValidID(s), specID.MatchString(s); got != want {
			t.Errorf("ValidID(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := ValidCode(s), specCode.MatchString(s); got != want {
			t.Errorf("ValidCode(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}

func BenchmarkValidID(b *testing.B) {
	for b.Loop() {
		ValidID("0449d8c259550265aff5fb1367edb556")
	}
}

func BenchmarkValidIDRegexp(b *testing.B) {
	for b.Loop() {
		specID.MatchString("0449d8c259550265aff5fb1367edb556")
	}
}

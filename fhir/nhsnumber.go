package fhir

// ValidNHSNumber reports whether s is a well-formed NHS number: exactly ten
// ASCII digits whose last digit is the Modulus 11 check digit of the first
// nine. Digits 1 to 9 are weighted 10 down to 2 and summed; the check digit is
// 11 minus the sum modulo 11, where 11 means 0 and 10 means no number with
// those nine digits is valid. It says nothing about whether the number was
// ever issued: numbers in the 999 range pass when their check digit is right
// and are reserved for test data.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := range 10 {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		if i < 9 {
			sum += int(c-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return int(s[9]-'0') == check
}

package socialcare

// validNHSNumber reports whether s is ten digits whose tenth digit is the
// Modulus 11 check digit of the first nine. Spaces are not accepted: send
// the number as ten digits.
func validNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return check == int(s[9]-'0')
}

// nhsStatusCode returns the current verification status code for a code or
// a retired word code.
func nhsStatusCode(s string) (string, bool) {
	if c, ok := verificationCodes.canonical(s); ok {
		return c, true
	}
	c, ok := verificationWords[s]
	return c, ok
}

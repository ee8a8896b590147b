package socialcare

// nhsStatusCode returns the current verification status code for a code or
// a retired word code.
func nhsStatusCode(s string) (string, bool) {
	if c, ok := verificationCodes.canonical(s); ok {
		return c, true
	}
	c, ok := verificationWords[s]
	return c, ok
}

package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// ErrUnauthenticated is wrapped by every error of [BearerToken] and
// [Verifier.Verify]: the request must be answered with 401.
var ErrUnauthenticated = errors.New("unauthenticated")

// Reason says why a token was refused, for metrics and for choosing the
// OperationOutcome issue code.
type Reason string

// Reasons a token is refused.
const (
	ReasonMissingToken     Reason = "missing_token"           // no bearer token at all
	ReasonMalformed        Reason = "malformed"               // not a compact JWS with JSON header and claims
	ReasonAlgorithm        Reason = "unsupported_algorithm"   // alg is not RS256 or ES256
	ReasonUnknownIssuer    Reason = "unknown_issuer"          // iss is not a trusted issuer
	ReasonUnknownKey       Reason = "unknown_key"             // kid is not in the issuer's key set
	ReasonBadSignature     Reason = "bad_signature"           // signature does not verify
	ReasonExpired          Reason = "expired"                 // exp has passed (beyond the clock skew)
	ReasonNotYetValid      Reason = "not_yet_valid"           // nbf or iat is in the future
	ReasonWrongAudience    Reason = "wrong_audience"          // aud does not name this gateway
	ReasonMissingPurpose   Reason = "missing_purpose"         // no purpose_of_use / reason_for_request
	ReasonBadPurpose       Reason = "bad_purpose"             // purpose is not an accepted ActReason code
	ReasonBreakGlassReason Reason = "break_glass_reason"      // BTG/ETREAT without a stated reason
	ReasonClaims           Reason = "invalid_identity_claims" // who-is-acting claims missing or inconsistent
)

// TokenError is an authentication failure. Msg is written for the person
// fixing the client; it never contains the token or claim values.
type TokenError struct {
	Reason Reason
	Msg    string
	// Err is an underlying cause for logs (for example a JWKS fetch failure).
	Err error
}

func (e *TokenError) Error() string {
	s := "unauthenticated: " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrUnauthenticated and the cause, if any.
func (e *TokenError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnauthenticated, e.Err}
	}
	return []error{ErrUnauthenticated}
}

func tokenErr(r Reason, msg string) *TokenError { return &TokenError{Reason: r, Msg: msg} }

// BearerToken returns the token of an Authorization header value of the
// form "Bearer <token>" (the scheme is case-insensitive, RFC 6750 section 2.1).
func BearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", tokenErr(ReasonMissingToken, "this endpoint needs an Authorization: Bearer <token> header")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", tokenErr(ReasonMissingToken, "the Authorization header must use the Bearer scheme")
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", tokenErr(ReasonMalformed, "the bearer token is empty or contains spaces")
	}
	return token, nil
}

// Challenge returns the 401 error the gateway renders as an OperationOutcome
// for an authentication failure, with a WWW-Authenticate header as RFC 6750
// section 3 describes: no error code when the request carried no token,
// error="invalid_token" and a description otherwise. realm may be "".
func Challenge(err error, realm string) *fhir.Error {
	var te *TokenError
	if !errors.As(err, &te) {
		te = tokenErr(ReasonMalformed, "the bearer token could not be verified")
	}
	params := []string{}
	if realm != "" {
		params = append(params, `realm="`+quotable(realm)+`"`)
	}
	code := "unknown" // issue-type: the proffered token is unacceptable
	switch te.Reason {
	case ReasonMissingToken:
		code = "login"
	case ReasonExpired:
		code = "expired"
	}
	if te.Reason != ReasonMissingToken {
		params = append(params, `error="invalid_token"`, `error_description="`+quotable(te.Msg)+`"`)
	}
	challenge := "Bearer"
	if len(params) > 0 {
		challenge += " " + strings.Join(params, ", ")
	}
	fe := fhir.Errorf(http.StatusUnauthorized, code, "%s", te.Msg)
	fe.Header = http.Header{"Www-Authenticate": {challenge}}
	fe.Err = err
	return fe
}

// quotable keeps the characters RFC 6750 allows in error_description
// (printable ASCII without '"' and '\').
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

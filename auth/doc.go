// Package auth answers "who is asking, for which organisation, and why": it
// verifies the bearer JWT on every request and turns it into an [Identity].
//
// Data moves through it like this. At start-up [NewVerifier] loads the JSON
// Web Key Sets (JWKS) of the trusted issuers from files, URLs or inline bytes.
// Per request the HTTP edge takes the token from the Authorization header
// ([BearerToken]) and calls [Verifier.Verify], which
//
//  1. splits the compact JWS and accepts only RS256 and ES256 (never "none"
//     or HMAC);
//  2. finds the trusted issuer named by "iss" and the key named by "kid"
//     (an unknown kid makes a URL key set be fetched again, rate limited;
//     key sets are also refreshed periodically, so rotated keys are picked up);
//  3. checks the signature, then exp, nbf and iat with a bounded clock skew,
//     and that "aud" names this gateway;
//  4. reads the token's shape (NHS CIS2 user, council staff, NHS trust
//     system, or a person with their NHS number) and builds a normalised
//     [Identity]: subject, acting organisation (ODS code), job role, purpose
//     of use (an HL7 v3 ActReason code) and, for emergency access, the stated
//     break-glass reason.
//
// Every failure wraps [ErrUnauthenticated] as a [*TokenError] whose message a
// person can act on and which never echoes the token or its claim values;
// [Challenge] turns it into the 401 OperationOutcome with a WWW-Authenticate
// header. The gateway puts the Identity on the request context
// ([WithIdentity], [FromContext]); the kind of the acting organisation is not
// in the Identity: it comes from the data sharing agreement in policy data.
//
// A token's SMART resource scopes (system/Patient.rs, ...) are read into
// [Identity.Scopes]; [Identity.Allows] says which types it may read and
// search. [TokenService] is the SMART Backend Services token endpoint's
// logic: it checks a client's RS384/ES384 assertion (RFC 7523) against the
// client's registered key set, grants read scopes and signs short-lived
// system tokens that the Verifier trusts through
// [TokenService.TrustedIssuer].
//
// For demos and tests, [LoadDevKey] reads the committed development signing
// key (fixtures/devkeys) and [DevKey.Mint] issues tokens from [DevIssuer]. A
// [Config] with Production set refuses that issuer and that key.
//
// The token shapes are documented in docs/authentication.md.
package auth

package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	f := newFixture(t)
	devS := &f.dev.s

	tests := []struct {
		note   string
		signer *signer
		claims func() map[string]any
		edit   func(m map[string]any)
		want   *Identity
		reason Reason // "" means the token is accepted
	}{
		{
			note: "CIS2 user: org and role from the selected role, other roles at that org listed", signer: devS, claims: cis2Claims,
			want: &Identity{Kind: KindUser, Subject: "555021935107", Org: "RR8", Role: "R8000", Roles: []string{"R8000", "R8001"},
				Purpose: "TREAT", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "CIS2 user selecting a role at another org", signer: devS, claims: cis2Claims,
			edit: func(m map[string]any) { m["selected_roleid"] = "555254240102" },
			want: &Identity{Kind: KindUser, Subject: "555021935107", Org: "A81001", Role: "R8000", Roles: []string{"R8000"},
				Purpose: "TREAT", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "CIS2 user signed RS256 by a CIS2-only issuer, aud as an array", signer: f.rsa, claims: cis2Claims,
			edit: func(m map[string]any) { m["iss"] = cis2Issuer; m["aud"] = []any{"x", testAud} },
			want: &Identity{Kind: KindUser, Subject: "555021935107", Org: "RR8", Role: "R8000", Roles: []string{"R8000", "R8001"},
				Purpose: "TREAT", Issuer: cis2Issuer, TokenID: "jti-1"},
		},
		{
			note: "GP Connect reason_for_request=directcare means TREAT", signer: devS, claims: cis2Claims,
			edit: func(m map[string]any) { delete(m, "purpose_of_use"); m["reason_for_request"] = "directcare" },
			want: &Identity{Kind: KindUser, Subject: "555021935107", Org: "RR8", Role: "R8000", Roles: []string{"R8000", "R8001"},
				Purpose: "TREAT", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "break glass with a reason", signer: devS, claims: cis2Claims,
			edit: func(m map[string]any) {
				m["purpose_of_use"] = "btg"
				m["break_glass_reason"] = "  Unconscious at A&E, no consent possible "
			},
			want: &Identity{Kind: KindUser, Subject: "555021935107", Org: "RR8", Role: "R8000", Roles: []string{"R8000", "R8001"},
				Purpose: "BTG", BreakGlassReason: "Unconscious at A&E, no consent possible", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "purpose as system|code; a stray break_glass_reason is dropped", signer: devS, claims: cis2Claims,
			edit: func(m map[string]any) { m["purpose_of_use"] = ActReasonSystem + "|COC"; m["break_glass_reason"] = "x" },
			want: &Identity{Kind: KindUser, Subject: "555021935107", Org: "RR8", Role: "R8000", Roles: []string{"R8000", "R8001"},
				Purpose: "COC", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "council staff", signer: devS, claims: councilClaims,
			want: &Identity{Kind: KindUser, Subject: "council-user-42", Org: "Z99001", Role: "R1330", Roles: []string{"R1330"},
				Purpose: "COC", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "council staff with several roles selects one", signer: devS, claims: councilClaims,
			edit: func(m map[string]any) { m["roles"] = []any{"R1330", "R9565", "R1330"}; m["selected_role"] = "R9565" },
			want: &Identity{Kind: KindUser, Subject: "council-user-42", Org: "Z99001", Role: "R9565", Roles: []string{"R9565", "R1330"},
				Purpose: "COC", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "system token: subject is the client id, no roles", signer: devS, claims: systemClaims,
			want: &Identity{Kind: KindSystem, Subject: "trust-epr-client", Org: "RR8", Purpose: "TREAT", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "system token from a system-only issuer: sub is enough", signer: f.rsa, claims: systemClaims,
			edit: func(m map[string]any) { m["iss"] = systemIssuer; delete(m, "client_id") },
			want: &Identity{Kind: KindSystem, Subject: "trust-epr-client", Org: "RR8", Purpose: "TREAT", Issuer: systemIssuer, TokenID: "jti-1"},
		},
		{
			note: "person: purpose PATRQT implied", signer: devS, claims: personClaims,
			want: &Identity{Kind: KindPerson, Subject: "nhs-login-7f3a", NHSNumber: "9990000018", Purpose: "PATRQT", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "expired within the clock skew is accepted", signer: devS, claims: systemClaims,
			edit: func(m map[string]any) { m["exp"] = nowUnix - 30 },
			want: &Identity{Kind: KindSystem, Subject: "trust-epr-client", Org: "RR8", Purpose: "TREAT", Issuer: DevIssuer, TokenID: "jti-1"},
		},
		{
			note: "nbf in the future within the clock skew is accepted", signer: devS, claims: systemClaims,
			edit: func(m map[string]any) { m["nbf"] = nowUnix + 30; m["iat"] = nowUnix + 30 },
			want: &Identity{Kind: KindSystem, Subject: "trust-epr-client", Org: "RR8", Purpose: "TREAT", Issuer: DevIssuer, TokenID: "jti-1"},
		},

		// Refused: time, audience, issuer, keys.
		{note: "expired", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["exp"] = nowUnix - 61 }, reason: ReasonExpired},
		{note: "no exp", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { delete(m, "exp") }, reason: ReasonMalformed},
		{note: "exp as a string", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["exp"] = "soon" }, reason: ReasonMalformed},
		{note: "negative exp", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["exp"] = -1 }, reason: ReasonMalformed},
		{note: "nbf in the future", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["nbf"] = nowUnix + 120 }, reason: ReasonNotYetValid},
		{note: "iat in the future", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["iat"] = nowUnix + 120 }, reason: ReasonNotYetValid},
		{note: "wrong audience", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["aud"] = "https://elsewhere.test" }, reason: ReasonWrongAudience},
		{note: "no audience", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { delete(m, "aud") }, reason: ReasonWrongAudience},
		{note: "unknown issuer", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["iss"] = "https://evil.test" }, reason: ReasonUnknownIssuer},
		{note: "untrusted key posing as the dev key", signer: &signer{kid: DevKeyID, key: f.rogue.key}, claims: cis2Claims, reason: ReasonBadSignature},
		{note: "untrusted key with its own kid", signer: f.rogue, claims: cis2Claims, reason: ReasonUnknownKey},
		{note: "RSA key of another issuer", signer: f.rsa, claims: cis2Claims, reason: ReasonUnknownKey},

		// Refused: purpose and break glass.
		{note: "missing purpose", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { delete(m, "purpose_of_use") }, reason: ReasonMissingPurpose},
		{note: "unknown purpose", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["purpose_of_use"] = "MARKETING" }, reason: ReasonBadPurpose},
		{note: "purpose from another code system", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["purpose_of_use"] = "http://example.org|TREAT" }, reason: ReasonBadPurpose},
		{note: "reason_for_request other than directcare", signer: devS, claims: cis2Claims, edit: func(m map[string]any) {
			delete(m, "purpose_of_use")
			m["reason_for_request"] = "secondaryuses"
		}, reason: ReasonBadPurpose},
		{note: "BTG without reason", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["purpose_of_use"] = "BTG" }, reason: ReasonBreakGlassReason},
		{note: "ETREAT with a blank reason", signer: devS, claims: councilClaims, edit: func(m map[string]any) {
			m["purpose_of_use"] = "ETREAT"
			m["break_glass_reason"] = "   "
		}, reason: ReasonBreakGlassReason},
		{note: "BTG reason with control characters", signer: devS, claims: cis2Claims, edit: func(m map[string]any) {
			m["purpose_of_use"] = "BTG"
			m["break_glass_reason"] = "reason\x1b[31m"
		}, reason: ReasonBreakGlassReason},

		// Refused: who is acting.
		{note: "selected_roleid matches no role", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["selected_roleid"] = "555254249999" }, reason: ReasonClaims},
		{note: "no selected_roleid", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { delete(m, "selected_roleid") }, reason: ReasonClaims},
		{note: "selected role without a job role", signer: devS, claims: cis2Claims, edit: func(m map[string]any) {
			m["nhsid_nrbac_roles"] = []any{map[string]any{"org_code": "RR8", "person_roleid": "555254240100", "role_code": "S8000:G8000"}}
		}, reason: ReasonClaims},
		{note: "CIS2 without sub", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { delete(m, "sub") }, reason: ReasonClaims},
		{note: "nhsid_nrbac_roles of the wrong type", signer: devS, claims: cis2Claims, edit: func(m map[string]any) { m["nhsid_nrbac_roles"] = "R8000" }, reason: ReasonMalformed},
		{note: "council token from a CIS2-only issuer", signer: f.rsa, claims: councilClaims, edit: func(m map[string]any) { m["iss"] = cis2Issuer }, reason: ReasonClaims},
		{note: "CIS2 token from a system-only issuer", signer: f.rsa, claims: cis2Claims, edit: func(m map[string]any) { m["iss"] = systemIssuer }, reason: ReasonClaims},
		{note: "system token with a client_id full of control characters", signer: devS, claims: systemClaims, edit: func(m map[string]any) { m["client_id"] = "a\nb" }, reason: ReasonClaims},
		{note: "council: several roles, none selected", signer: devS, claims: councilClaims, edit: func(m map[string]any) { m["roles"] = []any{"R1330", "R9565"} }, reason: ReasonClaims},
		{note: "council: selected_role not held", signer: devS, claims: councilClaims, edit: func(m map[string]any) { m["selected_role"] = "R9565" }, reason: ReasonClaims},
		{note: "council: not a job role code", signer: devS, claims: councilClaims, edit: func(m map[string]any) { m["roles"] = []any{"admin"} }, reason: ReasonClaims},
		{note: "council: no org", signer: devS, claims: councilClaims, edit: func(m map[string]any) { delete(m, "org_code") }, reason: ReasonClaims},
		{note: "system: no org", signer: devS, claims: systemClaims, edit: func(m map[string]any) { delete(m, "org_code") }, reason: ReasonClaims},
		{note: "system: org code not an ODS code", signer: devS, claims: systemClaims, edit: func(m map[string]any) { m["org_code"] = "RR8; DROP" }, reason: ReasonClaims},
		{note: "no identity claims at all", signer: devS, claims: systemClaims, edit: func(m map[string]any) { delete(m, "client_id") }, reason: ReasonClaims},
		{note: "person with an invalid NHS number", signer: devS, claims: personClaims, edit: func(m map[string]any) { m["nhs_number"] = "9990000019" }, reason: ReasonClaims},
		{note: "person NHS number whose check digit would be 10", signer: devS, claims: personClaims, edit: func(m map[string]any) { m["nhs_number"] = "9991234560" }, reason: ReasonClaims},
		{note: "person NHS number with spaces", signer: devS, claims: personClaims, edit: func(m map[string]any) { m["nhs_number"] = "999 000 0018" }, reason: ReasonClaims},
		{note: "person claiming treatment", signer: devS, claims: personClaims, edit: func(m map[string]any) { m["purpose_of_use"] = "TREAT" }, reason: ReasonBadPurpose},
		{note: "person token with staff roles", signer: devS, claims: personClaims, edit: func(m map[string]any) { m["roles"] = []any{"R1330"} }, reason: ReasonClaims},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			m := tc.claims()
			if tc.edit != nil {
				tc.edit(m)
			}
			id, err := f.v.Verify(context.Background(), mustSign(t, tc.signer, m))
			if tc.reason != "" {
				checkRefused(t, id, err, tc.reason)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(id, tc.want) {
				t.Errorf("identity\n got %+v\nwant %+v", id, tc.want)
			}
		})
	}
}

func checkRefused(t *testing.T, id *Identity, err error, want Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted as %+v; want refusal %s", id, want)
	}
	var te *TokenError
	if !errors.Is(err, ErrUnauthenticated) || !errors.As(err, &te) {
		t.Fatalf("error %v does not wrap ErrUnauthenticated as a *TokenError", err)
	}
	if te.Reason != want {
		t.Errorf("reason %s (%s); want %s", te.Reason, te.Msg, want)
	}
	if te.Msg == "" {
		t.Error("empty message")
	}
}

// TestVerifyTampered covers tokens that were not produced by a signer.
func TestVerifyTampered(t *testing.T) {
	f := newFixture(t)
	good := mustSign(t, &f.dev.s, cis2Claims())
	h, rest, _ := strings.Cut(good, ".")
	_, sig, _ := strings.Cut(rest, ".")
	enc := base64.RawURLEncoding.EncodeToString

	forgedClaims := cis2Claims()
	forgedClaims["nhsid_nrbac_roles"].([]any)[0].(map[string]any)["org_code"] = "A81001"
	forged, err := jsonMarshal(forgedClaims)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jsonMarshal(cis2Claims())
	if err != nil {
		t.Fatal(err)
	}
	// The development JWKS used as an HMAC secret: the classic confusion.
	hmacTok, err := hs256(`{"alg":"HS256","kid":"`+DevKeyID+`"}`, payload, f.dev.JWKS())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		note   string
		token  string
		reason Reason
	}{
		{"payload altered, signature kept", h + "." + enc(forged) + "." + sig, ReasonBadSignature},
		{"signature of another token", h + "." + enc(payload) + "." + sig[:len(sig)-4] + "AAAA", ReasonBadSignature},
		{"alg none", enc([]byte(`{"alg":"none","kid":"`+DevKeyID+`"}`)) + "." + enc(payload) + ".", ReasonAlgorithm},
		{"alg none in capitals", enc([]byte(`{"alg":"NONE","kid":"`+DevKeyID+`"}`)) + "." + enc(payload) + ".", ReasonAlgorithm},
		{"HS256 keyed with the public key", hmacTok, ReasonAlgorithm},
		{"ES256 header on an RS256-style signature length", enc([]byte(`{"alg":"ES256","kid":"`+DevKeyID+`"}`)) + "." + enc(payload) + "." + enc(make([]byte, 256)), ReasonBadSignature},
		{"RS256 header with the EC dev key", enc([]byte(`{"alg":"RS256","kid":"`+DevKeyID+`"}`)) + "." + enc(payload) + "." + sig, ReasonBadSignature},
		{"no kid", enc([]byte(`{"alg":"ES256"}`)) + "." + enc(payload) + "." + sig, ReasonMalformed},
		{"critical header extension", enc([]byte(`{"alg":"ES256","kid":"`+DevKeyID+`","crit":["exp"]}`)) + "." + enc(payload) + "." + sig, ReasonMalformed},
		{"two parts", h + "." + enc(payload), ReasonMalformed},
		{"four parts", good + ".x", ReasonMalformed},
		{"padded base64", h + "." + enc(payload) + "=." + sig, ReasonMalformed},
		{"payload not JSON", h + "." + enc([]byte("not json")) + "." + sig, ReasonMalformed},
		{"empty", "", ReasonMalformed},
		{"huge", strings.Repeat("a", maxTokenBytes+1), ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			id, err := f.v.Verify(context.Background(), tc.token)
			checkRefused(t, id, err, tc.reason)
			if err != nil && strings.Contains(err.Error(), tc.token) && tc.token != "" {
				t.Error("error echoes the token")
			}
		})
	}
}

// A token verified once is remembered, but only its signature: the same
// token is refused once it has expired, a token differing in any byte is
// checked in full, and a token whose signature failed is never
// remembered.
func TestVerifyRemembersOnlyTheSignature(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	good := mustSign(t, &f.dev.s, cis2Claims())
	for range 2 {
		if _, err := f.v.Verify(ctx, good); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.v.seen.tokens) != 1 {
		t.Fatalf("%d tokens remembered, want 1", len(f.v.seen.tokens))
	}
	h, rest, _ := strings.Cut(good, ".")
	p, sig, _ := strings.Cut(rest, ".")
	forged := cis2Claims()
	forged["nhsid_nrbac_roles"].([]any)[0].(map[string]any)["org_code"] = "A81001"
	fp, err := jsonMarshal(forged)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		h + "." + base64.RawURLEncoding.EncodeToString(fp) + "." + sig,
		h + "." + p + "." + sig[:len(sig)-4] + "AAAA",
	} {
		for range 2 {
			id, err := f.v.Verify(ctx, bad)
			checkRefused(t, id, err, ReasonBadSignature)
		}
	}
	if len(f.v.seen.tokens) != 1 {
		t.Errorf("%d tokens remembered after refusals, want 1", len(f.v.seen.tokens))
	}
	later := testNow().Add(24 * time.Hour)
	f.v.now = func() time.Time { return later }
	id, err := f.v.Verify(ctx, good)
	checkRefused(t, id, err, ReasonExpired)
}

package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		reason Reason
	}{
		{header: "Bearer abc.def.ghi", want: "abc.def.ghi"},
		{header: "bearer  abc.def.ghi ", want: "abc.def.ghi"},
		{header: "", reason: ReasonMissingToken},
		{header: "Basic dXNlcjpwYXNz", reason: ReasonMissingToken},
		{header: "Bearer", reason: ReasonMissingToken},
		{header: "Bearer ", reason: ReasonMissingToken},
		{header: "Bearer a b", reason: ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			got, err := BearerToken(tc.header)
			if tc.reason != "" {
				checkRefused(t, nil, err, tc.reason)
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("BearerToken(%q) = %q, %v; want %q", tc.header, got, err, tc.want)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	tests := []struct {
		note      string
		err       error
		realm     string
		challenge string
		outcome   string
	}{
		{
			note: "no token: no error code", err: tokenErr(ReasonMissingToken, "this endpoint needs a token"), realm: "gateway",
			challenge: `Bearer realm="gateway"`,
			outcome:   `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login","diagnostics":"this endpoint needs a token"}]}`,
		},
		{
			note: "expired, wrapped by the caller", err: fmt.Errorf("middleware: %w", tokenErr(ReasonExpired, "the token has expired")),
			challenge: `Bearer error="invalid_token", error_description="the token has expired"`,
			outcome:   `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"expired","diagnostics":"the token has expired"}]}`,
		},
		{
			note: "quotes are kept out of the header", err: tokenErr(ReasonBadPurpose, `reason_for_request must be "directcare"`), realm: `a"b`,
			challenge: `Bearer realm="ab", error="invalid_token", error_description="reason_for_request must be directcare"`,
			outcome:   `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"unknown","diagnostics":"reason_for_request must be \"directcare\""}]}`,
		},
		{
			note: "an error from elsewhere", err: errors.New("boom"),
			challenge: `Bearer error="invalid_token", error_description="the bearer token could not be verified"`,
			outcome:   `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"unknown","diagnostics":"the bearer token could not be verified"}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			fe := Challenge(tc.err, tc.realm)
			if fe.Status != http.StatusUnauthorized {
				t.Errorf("status %d", fe.Status)
			}
			if got := fe.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("challenge\n got %s\nwant %s", got, tc.challenge)
			}
			if !errors.Is(fe, tc.err) {
				t.Error("the cause is not kept for logs")
			}
			b, err := json.Marshal(fhir.Outcome(fe.Issues...))
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.outcome), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("outcome\n got %s\nwant %s", b, tc.outcome)
			}
		})
	}
}

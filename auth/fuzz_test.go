package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzVerify checks that no token makes Verify panic, and that every
// refusal is a *TokenError wrapping ErrUnauthenticated.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	for _, claims := range []map[string]any{cis2Claims(), councilClaims(), systemClaims(), personClaims()} {
		tok := mustSign(f, &fx.dev.s, claims)
		f.Add(tok)
		f.Add(strings.Replace(tok, ".", "..", 1))
		f.Add(tok[:len(tok)/2])
	}
	f.Add("")
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := fx.v.Verify(context.Background(), token)
		if err != nil {
			var te *TokenError
			if !errors.Is(err, ErrUnauthenticated) || !errors.As(err, &te) || te.Msg == "" {
				t.Fatalf("error %v is not a *TokenError wrapping ErrUnauthenticated", err)
			}
			return
		}
		if id.Kind == "" || id.Subject == "" || id.Purpose == "" {
			t.Fatalf("accepted an incomplete identity %+v", id)
		}
	})
}

package auth

import (
	"context"
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	rsaClaims := cis2Claims()
	rsaClaims["iss"] = cis2Issuer
	for _, bc := range []struct {
		name  string
		token string
	}{
		{"ES256/cis2", mustSign(b, &f.dev.s, cis2Claims())},
		{"ES256/system", mustSign(b, &f.dev.s, systemClaims())},
		{"RS256/cis2", mustSign(b, f.rsa, rsaClaims)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.v.Verify(ctx, bc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package auth_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
)

// Demo mode: trust the development key, mint a token for an NHS clinician,
// and verify it as the gateway does for each request.
func Example() {
	ctx := context.Background()
	dev, err := auth.LoadDevKey("../fixtures/devkeys")
	if err != nil {
		log.Fatal(err)
	}
	const audience = "https://gateway.example.org/fhir"
	v, err := auth.NewVerifier(ctx, auth.Config{Issuers: []auth.Issuer{dev.Issuer(audience)}})
	if err != nil {
		log.Fatal(err)
	}
	token, err := dev.Mint(auth.DevClaims{
		Kind: auth.ShapeCIS2, Subject: "555021935107", Org: "RR8", Role: "R8000",
		Purpose: "TREAT", Audience: audience,
	}, 15*time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	id, err := v.Verify(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Kind, id.Org, id.Role, id.Purpose)

	// Production mode refuses the development issuer.
	_, err = auth.NewVerifier(ctx, auth.Config{Production: true, Issuers: []auth.Issuer{dev.Issuer(audience)}})
	fmt.Println(err != nil)
	// Output:
	// user RR8 R8000 TREAT
	// true
}

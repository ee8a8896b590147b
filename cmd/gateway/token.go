package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
)

// token mints a DEVELOPMENT token signed with the public development key,
// for trying the gateway with the fixture organisations and roles.
func token(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dc auth.DevClaims
	fs.StringVar(&dc.Kind, "kind", auth.ShapeCIS2, "token shape: cis2 (NHS user), council (council staff), system (trust system), person (self-access)")
	fs.StringVar(&dc.Org, "org", "", "ODS code of the acting organisation, e.g. Y99001 (GP practice), SYN01 (council)")
	fs.StringVar(&dc.Role, "role", "", "job role code, e.g. R0260 GP, R8009 receptionist, R1330 social worker")
	fs.StringVar(&dc.Purpose, "purpose", "", "purpose of use: TREAT, COC, ETREAT, BTG (break glass), HRESCH, ...")
	fs.StringVar(&dc.BreakGlassReason, "reason", "", "break-glass reason (with -purpose BTG or ETREAT)")
	fs.StringVar(&dc.NHSNumber, "nhs-number", "", "NHS number (with -kind person)")
	fs.StringVar(&dc.Subject, "subject", "dev-user", "subject (user id or client id)")
	fs.StringVar(&dc.Audience, "audience", "socialcare-fhir-gateway", "audience")
	dir := fs.String("dev-key-dir", "fixtures/devkeys", "directory of the development key")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	key, err := auth.LoadDevKey(*dir)
	if err != nil {
		return err
	}
	tok, err := key.Mint(dc, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "DEVELOPMENT token: trusted only by a gateway in development mode")
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

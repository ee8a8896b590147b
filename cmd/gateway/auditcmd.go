package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

// auditCmd runs `gateway audit verify`: it walks the audit chain and
// reports the first record that was altered, removed or inserted, and with
// -anchor, records cut from the end since a head logged elsewhere.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: gateway audit verify [-mongodb-uri URI | -data-dir DIR] [-database NAME] [-anchor SEQ:HASH ...]")
		return errUsage
	}
	fs := flag.NewFlagSet("gateway audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	uri := fs.String("mongodb-uri", os.Getenv("MONGODB_URI"), "MongoDB connection string; empty opens the embedded database in -data-dir")
	dataDir := fs.String("data-dir", envOr("GATEWAY_DATA_DIR", "./data"), "embedded database directory")
	database := fs.String("database", envOr("GATEWAY_DATABASE", "fhir"), "database name")
	var anchors []audit.Anchor
	fs.Func("anchor", "a chain head kept elsewhere, SEQ:HASH (the gateway logs one as \"audit chain head\"); repeatable", func(v string) error {
		a, err := audit.ParseAnchor(v)
		anchors = append(anchors, a)
		return err
	})
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if *uri == "" {
		db, err := embedded.Start(ctx, *dataDir, nil)
		if err != nil {
			return err
		}
		defer db.Close()
		*uri = db.URI()
	}
	client, err := mongo.Connect(options.Client().ApplyURI(*uri))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background())
	ok, err := audit.RunVerify(ctx, client.Database(*database), "audit", stdout, anchors...)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the audit trail has been tampered with")
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
	"github.com/socialcare-fhir/gateway/sqlitedb"
	"github.com/socialcare-fhir/gateway/storage"
)

// auditCmd runs `gateway audit verify`: it walks the audit chain and
// reports the first record that was altered, removed or inserted, and with
// -anchor, records cut from the end since a head logged elsewhere.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: gateway audit verify [-store sqlite|mongodb] [-data-dir DIR | -mongodb-uri URI] [-database NAME] [-anchor SEQ:HASH ...]")
		return errUsage
	}
	fs := flag.NewFlagSet("gateway audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := addEngineFlags(fs)
	uri, dataDir, database := engine.uri, engine.dataDir, engine.database
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
	kind, err := storage.Kind(*engine.store, *uri)
	if err != nil {
		return err
	}
	if kind == storage.SQLite {
		return verifySQLite(ctx, filepath.Join(*dataDir, storage.AuditFile), stdout, anchors)
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
	return verdict(ok, err)
}

func verifySQLite(ctx context.Context, path string, stdout io.Writer, anchors []audit.Anchor) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no audit trail at %s: %w", path, err)
	}
	db, err := sqlitedb.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	ok, err := audit.RunVerifySQLite(ctx, db, "audit", stdout, anchors...)
	return verdict(ok, err)
}

func verdict(ok bool, err error) error {
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the audit trail has been tampered with")
	}
	return nil
}

package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/socialcare-fhir/gateway/storage"
)

// engineFlags are the storage flags the subcommands that open the
// database share with serve.
type engineFlags struct {
	store, uri, dataDir, database *string
}

func addEngineFlags(fs *flag.FlagSet, prefix string) engineFlags {
	name := func(n string) string { return prefix + n }
	env := func(n string) string {
		if prefix != "" {
			return ""
		}
		return os.Getenv(n)
	}
	return engineFlags{
		store:    fs.String(name("store"), env("GATEWAY_STORE"), "storage engine: sqlite or mongodb (default: mongodb with a MongoDB URI, sqlite without)"),
		uri:      fs.String(name("mongodb-uri"), env("MONGODB_URI"), "MongoDB connection string (store mongodb)"),
		dataDir:  fs.String(name("data-dir"), orDefault(env("GATEWAY_DATA_DIR"), "./data"), "directory of the embedded engine's files; stop a gateway using it first"),
		database: fs.String(name("database"), orDefault(env("GATEWAY_DATABASE"), "fhir"), "MongoDB database name"),
	}
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func (f engineFlags) open(ctx context.Context, logger *slog.Logger) (*storage.Engine, error) {
	return storage.Open(ctx, storage.Config{Kind: *f.store, URI: *f.uri, DataDir: *f.dataDir, Database: *f.database, Logger: logger})
}

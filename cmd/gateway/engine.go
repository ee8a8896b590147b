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

func addEngineFlags(fs *flag.FlagSet) engineFlags {
	return engineFlags{
		store:    fs.String("store", os.Getenv("GATEWAY_STORE"), "storage engine: sqlite or mongodb (default: mongodb with a MongoDB URI, sqlite without)"),
		uri:      fs.String("mongodb-uri", os.Getenv("MONGODB_URI"), "MongoDB connection string (store mongodb)"),
		dataDir:  fs.String("data-dir", envOr("GATEWAY_DATA_DIR", "./data"), "directory of the embedded engine's files; stop a gateway using it first"),
		database: fs.String("database", envOr("GATEWAY_DATABASE", "fhir"), "MongoDB database name"),
	}
}

func (f engineFlags) open(ctx context.Context, logger *slog.Logger) (*storage.Engine, error) {
	return storage.Open(ctx, storage.Config{Kind: *f.store, URI: *f.uri, DataDir: *f.dataDir, Database: *f.database, Logger: logger})
}

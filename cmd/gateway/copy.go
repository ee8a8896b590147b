package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/socialcare-fhir/gateway/storage"
)

// copyCmd is `gateway copy -from WHERE -to WHERE`: it moves a whole
// gateway database (every resource with its history, the audit trail
// with its chain, ingest journals and jobs) from one engine to another
// that is empty, then verifies counts and the audit chain there. WHERE is
// a data directory (the embedded SQLite engine) or a mongodb:// URI.
func copyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source: a data directory (sqlite) or a mongodb:// URI")
	to := fs.String("to", "", "target, which must hold nothing yet: a data directory (sqlite) or a mongodb:// URI")
	fromDB := fs.String("from-database", "fhir", "MongoDB database name of the source")
	toDB := fs.String("to-database", "fhir", "MongoDB database name of the target")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway copy -from DIR|mongodb://... -to DIR|mongodb://...\n\nMoves everything to an empty engine and verifies it there. Stop every gateway using either first.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := storage.Open(ctx, where(*from, *fromDB, logger))
	if err != nil {
		return fmt.Errorf("open the source: %w", err)
	}
	defer src.Close(context.Background())
	dst, err := storage.Open(ctx, where(*to, *toDB, logger))
	if err != nil {
		return fmt.Errorf("open the target: %w", err)
	}
	defer dst.Close(context.Background())
	rep, err := storage.Copy(ctx, src, dst, func(step string, n int64) { fmt.Fprintf(stderr, "copied %d %s\n", n, step) })
	if err != nil {
		return err
	}
	var versions, resources int64
	for t, n := range rep.Versions {
		versions += n
		resources += rep.Resources[t]
	}
	fmt.Fprintf(stdout, "copied %d resources (%d versions), %d audit records (chain verified on the target", resources, versions, rep.AuditRecords)
	if rep.AuditRecords > 0 {
		fmt.Fprintf(stdout, " up to %s", rep.AuditHead)
	}
	fmt.Fprintf(stdout, "), %d break-glass reviews of the old store, %d ingest journals, %d import jobs from %s to %s\n",
		rep.AuditReviews, rep.IngestJournals, rep.IngestJobs, src.Kind, dst.Kind)
	return nil
}

// where is the engine a -from or -to value names.
func where(v, database string, logger *slog.Logger) storage.Config {
	if strings.HasPrefix(v, "mongodb://") || strings.HasPrefix(v, "mongodb+srv://") {
		return storage.Config{Kind: storage.MongoDB, URI: v, Database: database, Logger: logger}
	}
	return storage.Config{Kind: storage.SQLite, DataDir: v, Logger: logger}
}

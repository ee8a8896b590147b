package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/ingest"
)

// importCmd is `gateway import [flags] FILE`: it stores every record of an
// NDJSON or Client Level Data CSV file, each whole or not at all, showing
// progress on stderr, then lists the rejected records. It fails when any
// record was rejected.
func importCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "ndjson or cld (Client Level Data CSV); default from the file name: .csv is cld, anything else ndjson")
	engine := addEngineFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway import [flags] FILE\n\nStores the social care records in FILE (NDJSON, one record per line, or a council's Client Level Data CSV).\nA rejected record does not stop the others; the exit status is non-zero when any was rejected.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	if *format == "" {
		*format = ingest.FormatNDJSON
		if strings.EqualFold(filepath.Ext(path), ".csv") {
			*format = ingest.FormatCLD
		}
	}
	if *format != ingest.FormatNDJSON && *format != ingest.FormatCLD {
		return fmt.Errorf("-format must be ndjson or cld, not %q", *format)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := engine.open(ctx, logger)
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())
	ing := eng.Ingest
	if _, err := ing.Recover(ctx); err != nil {
		return fmt.Errorf("recover interrupted records: %w", err)
	}

	bar := newProgressBar(stderr, time.Now())
	rep, err := ing.Bulk(ctx, *format, f, bar.update)
	bar.finish(rep)
	if rep != nil {
		printRejected(stderr, rep)
	}
	if err != nil {
		return fmt.Errorf("import stopped early (records stored so far stay stored; run it again to finish): %w", err)
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("%d of %d records rejected", rep.Rejected, rep.Records)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// progressBar rewrites one stderr line with counts and rate, at most
// every 100 ms.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, start time.Time) *progressBar {
	return &progressBar{w: w, start: start}
}

func (p *progressBar) update(done, failed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.print(done, failed, now)
}

func (p *progressBar) print(done, failed int, now time.Time) {
	rate := 0.0
	if s := now.Sub(p.start).Seconds(); s > 0 {
		rate = float64(done) / s
	}
	fmt.Fprintf(p.w, "\r%d records, %d rejected, %.1f records/s", done, failed, rate)
}

func (p *progressBar) finish(rep *ingest.BulkReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if rep != nil {
		p.print(rep.Records, rep.Rejected, time.Now())
		fmt.Fprintf(p.w, "\nstored %d records (%d resources created, %d updated, %d unchanged), rejected %d\n",
			rep.Stored, rep.Resources.Created, rep.Resources.Updated, rep.Resources.Unchanged, rep.Rejected)
	}
}

// printRejected lists each rejected record with its problems. The
// messages name fields and rows, never record content.
func printRejected(w io.Writer, rep *ingest.BulkReport) {
	for _, it := range rep.Items {
		if it.Status != ingest.ItemRejected || it.Problems == nil {
			continue
		}
		where := fmt.Sprintf("line %d", it.Line)
		if rep.Format == ingest.FormatCLD {
			where = fmt.Sprintf("row %d", it.Row)
		}
		fmt.Fprintf(w, "%s rejected:\n", where)
		for _, is := range it.Problems.Issue {
			at := strings.Join(is.Expression, ", ")
			if at == "" {
				at = "$"
			}
			fmt.Fprintf(w, "  %s: %s\n", at, is.Diagnostics)
		}
	}
	if rep.Truncated {
		fmt.Fprintln(w, "(more records were rejected than are listed)")
	}
}

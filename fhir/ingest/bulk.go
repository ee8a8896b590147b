package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// Bulk formats.
const (
	FormatNDJSON = "ndjson" // one record per line
	FormatCLD    = "cld"    // Client Level Data CSV
)

// A report lists at most this many stored and this many rejected records
// (the counts are always complete), so that it fits one job document.
const (
	maxListedStored   = 10000
	maxListedRejected = 1000
	maxIssuesListed   = 50
)

// BulkReport says what a bulk import did, record by record.
type BulkReport struct {
	Format string `json:"format"`
	// Records is how many records were read; Stored and Rejected split it.
	Records  int `json:"records"`
	Stored   int `json:"stored"`
	Rejected int `json:"rejected"`
	// Resources counts the stored records' resources by outcome.
	Resources Counts `json:"resources"`
	// Items has one entry per record, in input order; see Truncated.
	Items []BulkItem `json:"items"`
	// Truncated is true when some records are counted but not listed.
	Truncated bool `json:"truncated,omitempty"`
}

// BulkItem is one record of a bulk import.
type BulkItem struct {
	// Line is the NDJSON line; Row the first CSV row of a CLD record (the
	// header is row 1).
	Line int `json:"line,omitempty"`
	Row  int `json:"row,omitempty"`
	// Status is "stored" or "rejected".
	Status string `json:"status"`
	// Outcome, Patient and Resources describe a stored record.
	Outcome   Outcome `json:"outcome,omitempty"`
	Patient   string  `json:"patient,omitempty"`
	Resources *Counts `json:"resources,omitempty"`
	// Problems is a rejected record's OperationOutcome: every problem, by
	// its path in the record (NDJSON) or its row and column (CLD).
	Problems *fhir.OperationOutcome `json:"problems,omitempty"`
}

// Item statuses.
const (
	ItemStored   = "stored"
	ItemRejected = "rejected"
)

func (r *BulkReport) stored(pos int, res *Result) {
	r.Records++
	r.Stored++
	r.Resources.Created += res.Counts.Created
	r.Resources.Updated += res.Counts.Updated
	r.Resources.Unchanged += res.Counts.Unchanged
	if r.Stored > maxListedStored {
		r.Truncated = true
		return
	}
	c := res.Counts
	r.Items = append(r.Items, r.at(pos, BulkItem{Status: ItemStored, Outcome: res.Outcome, Patient: res.Patient, Resources: &c}))
}

func (r *BulkReport) rejected(pos int, issues []fhir.Issue) {
	r.Records++
	r.Rejected++
	if r.Rejected > maxListedRejected {
		r.Truncated = true
		return
	}
	if len(issues) > maxIssuesListed {
		more := len(issues) - maxIssuesListed
		issues = append(issues[:maxIssuesListed:maxIssuesListed], fhir.Issue{Severity: "information", Code: "too-costly",
			Diagnostics: fmt.Sprintf("%d more problems are not listed; fix these and send the record again.", more)})
	}
	oo := fhir.Outcome(issues...)
	r.Items = append(r.Items, r.at(pos, BulkItem{Status: ItemRejected, Problems: &oo}))
}

func (r *BulkReport) at(pos int, it BulkItem) BulkItem {
	if r.Format == FormatCLD {
		it.Row = pos
	} else {
		it.Line = pos
	}
	return it
}

// Bulk stores every record read from r, in the given format (FormatNDJSON
// or FormatCLD), each whole or not at all. A rejected record is reported
// with its line or row and every problem, and does not stop the rest.
// progress, when not nil, is called after each record with the number of
// records done and rejected so far.
//
// Bulk stops early, returning the report so far and an error, only when r
// cannot be read, the database fails, or ctx ends. Records stored before
// that stay stored; sending the same file again stores nothing twice. On
// SQLite up to groupRecords records share a transaction (each still whole
// or not at all): the import stops between such groups.
func (i *Ingester) Bulk(ctx context.Context, format string, r io.Reader, progress func(done, failed int)) (*BulkReport, error) {
	return i.bulk(ctx, format, r, "", progress)
}

// bulk is Bulk; with org set, only records whose source.organisation is
// org are stored (see SubmitFrom).
func (i *Ingester) bulk(ctx context.Context, format string, r io.Reader, org string, progress func(done, failed int)) (*BulkReport, error) {
	rep := &BulkReport{Format: format, Items: []BulkItem{}}
	unit := "line"
	read := socialcare.ReadNDJSON
	switch format {
	case FormatNDJSON:
	case FormatCLD:
		unit, read = "row", socialcare.ReadCLD
	default:
		return nil, fmt.Errorf("ingest: unknown bulk format %q (want %s or %s)", format, FormatNDJSON, FormatCLD)
	}
	// A pipeline: the reader decodes records in order; workers stage them
	// (translate, journal, prepare) ahead of the writer; records are stored one
	// at a time in input order, so a person's later record always wins.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type item struct {
		pos   int
		rec   *socialcare.Record
		st    *staged
		err   error
		ready chan struct{}
	}
	// With an in-process writer (SQLite) the writer sets the pace: the
	// workers, each preparing a record on one goroutine, leave it a core
	// of its own (on two cores it waited for one a fifth of its time, and
	// 100,000 resources took 5% longer).
	workers := runtime.GOMAXPROCS(0)
	if _, inProcess := i.st.(PreparingStore); inProcess {
		workers = max(1, workers-1)
	}
	work := make(chan *item, workers)
	order := make(chan *item, groupRecords)
	var wg sync.WaitGroup
	var readErr error
	wg.Go(func() {
		defer close(order)
		defer close(work)
		readErr = read(r, i.now(), func(pos int, rec *socialcare.Record, err error) error {
			it := &item{pos: pos, rec: rec, err: err, ready: make(chan struct{})}
			if err != nil {
				close(it.ready)
			} else {
				select {
				case work <- it:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			select {
			case order <- it:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	})
	for range workers {
		wg.Go(func() {
			for it := range work {
				if org != "" && it.rec.Source.Organisation != org {
					it.err = fhir.Errorf(http.StatusForbidden, "forbidden",
						"the record's source.organisation is not the organisation that sent the import; send records only for your own organisation").At("source.organisation")
				} else {
					it.st, it.err = i.stage(it.rec, 1)
				}
				it.rec = nil
				close(it.ready)
			}
		})
	}
	var stop error
	// one stores a record in a transaction of its own.
	one := func(it *item) {
		var res *Result
		err := it.err
		if err == nil {
			res, err = i.commit(ctx, it.st)
		}
		var fe *fhir.Error
		switch {
		case err == nil:
			rep.stored(it.pos, res)
		case errors.As(err, &fe) && fe.Status < 500:
			rep.rejected(it.pos, fe.Issues)
		default:
			stop = fmt.Errorf("ingest: %s %d: %w", unit, it.pos, err)
			cancel()
			return
		}
		if progress != nil {
			progress(rep.Records, rep.Rejected)
		}
	}
	gs, grouping := i.st.(groupingStore)
	for it := range order {
		<-it.ready
		if stop != nil {
			continue // draining
		}
		if cerr := ctx.Err(); cerr != nil {
			stop = cerr
			cancel()
			continue
		}
		if !grouping {
			one(it)
			continue
		}
		group := gather([]*item{it}, order, func(next *item) { <-next.ready })
		results := make([]*Result, len(group))
		err := gs.Group(ctx, func(gctx context.Context) error {
			for k, g := range group {
				if err := ctx.Err(); err != nil {
					return err // the group's context does not end with ctx
				}
				if g.err != nil {
					if !rejection(g.err) {
						break // the import stops at g: store none after it
					}
					continue
				}
				var err error
				if g.st.receipt {
					results[k], err = i.storeGrouped(gctx, g.st)
				} else {
					results[k], err = i.commit(gctx, g.st)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// Nothing of the group was kept: store its records one
			// transaction each, which names the one that failed.
			for _, g := range group {
				if stop != nil {
					break
				}
				if cerr := ctx.Err(); cerr != nil {
					stop = cerr
					cancel()
					break
				}
				one(g)
			}
			continue
		}
		for k, g := range group {
			if g.err != nil {
				if one(g); stop != nil {
					break
				}
				continue
			}
			if g.st.receipt {
				i.writeReceipt(ctx, g.st.journal)
			}
			rep.stored(g.pos, results[k])
			if progress != nil {
				progress(rep.Records, rep.Rejected)
			}
		}
	}
	wg.Wait()
	if stop != nil {
		return rep, stop
	}
	if readErr != nil {
		return rep, readErr
	}
	return rep, nil
}

// groupRecords is the most records a groupingStore's transaction holds.
// Four a transaction made a 100,000-resource import about a fifth faster
// than one (consecutive records write many of the same index pages); with
// up to eight, and as many staged ahead, a further tenth or so, for about
// 0.3-0.4 GB more memory (groups had averaged three: the writer found no
// more staged).
const groupRecords = 8

// gather adds to group the items already waiting in order, up to
// groupRecords, each once it is ready: it never waits for a record not
// yet read.
func gather[T any](group []T, order <-chan T, ready func(T)) []T {
	for len(group) < groupRecords {
		select {
		case next, ok := <-order:
			if !ok {
				return group
			}
			ready(next)
			group = append(group, next)
		default:
			return group
		}
	}
	return group
}

// rejection reports whether err rejects one record (a 4xx) rather than
// stopping the import.
func rejection(err error) bool {
	var fe *fhir.Error
	return errors.As(err, &fe) && fe.Status < 500
}

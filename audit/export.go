package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Copying a trail between engines (gateway copy): open the source and the
// destination logs, then
//
//	n, err := dst.ImportRecords(ctx, src.ExportRecords)
//	m, err := dst.ImportReviews(ctx, src.ExportReviews)
//
// and verify the destination (Verify or VerifySQLite) against the source's
// head (Log.Head) as an anchor. Records keep their seq, prev, hash and id,
// so the copy verifies exactly as the source does; a checkpoint left by a
// purge is copied like any other record.

// RawRecord is one stored audit record, chain fields included, exactly as
// ExportRecords reads it and as ImportRecords writes it. It is opaque apart
// from its place in the chain.
type RawRecord struct{ r record }

// Seq is the record's place in the chain.
func (x RawRecord) Seq() int64 { return x.r.Seq }

// ID is the record's id (the AuditEvent id).
func (x RawRecord) ID() string { return x.r.ID }

// Hash is the record's stored hash.
func (x RawRecord) Hash() string { return x.r.Hash }

// ErrNotEmpty: ImportRecords was asked to write into a trail that already
// holds records.
var ErrNotEmpty = errors.New("audit trail is not empty")

// ExportRecords calls fn with every record of the trail in seq order, as
// stored, until fn returns an error, which it returns as it is. Run it
// while nothing writes to the trail: records appended meanwhile may be left
// out. A record whose stored form cannot be carried over exactly (on
// MongoDB a field no record has, or a seq that is not an integer; on
// SQLite a row that disagrees with its record) stops the export with an
// error naming its seq or id: run "gateway audit verify" on the source. A
// record whose content no longer matches its hash is exported as it is, so
// the copy fails verification just as the source does.
func (l *Log) ExportRecords(ctx context.Context, fn func(RawRecord) error) error {
	var fnErr error
	err := l.recs.walk(ctx, func(s *storedRecord) error {
		switch {
		case !s.seqOK:
			return fmt.Errorf("record %q has no integer seq; run audit verify", s.id)
		case s.flaw != "":
			return fmt.Errorf("record at seq %d cannot be exported as stored (%s); run audit verify", s.seq, s.flaw)
		}
		if fnErr = fn(RawRecord{s.rec}); fnErr != nil {
			return errStop
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("export audit records: %w", err)
	}
	return nil
}

// ImportRecords writes the records that from passes on (typically another
// log's ExportRecords) into this trail verbatim, with their seq, prev, hash
// and id, and returns how many it wrote. The trail must be empty (ErrNotEmpty
// otherwise) and seqs must rise. Records are written in batches of
// MaxBatch, each as one write (one SQLite transaction), through the
// log's writer, so that the chain head moves with them and records logged
// after the import link to the last one imported. Run it while nothing
// else records to this log. On error the trail holds a prefix of the
// records: start again from an empty trail.
func (l *Log) ImportRecords(ctx context.Context, from func(ctx context.Context, fn func(RawRecord) error) error) (int64, error) {
	var n int64
	first := true
	batch := make([]*record, 0, l.opt.MaxBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := l.importBatch(ctx, batch, first); err != nil {
			return err
		}
		n += int64(len(batch))
		first, batch = false, make([]*record, 0, l.opt.MaxBatch)
		return nil
	}
	err := from(ctx, func(x RawRecord) error {
		r := x.r
		batch = append(batch, &r)
		if len(batch) >= l.opt.MaxBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return n, err
}

// importBatch hands recs to the writer and waits for the outcome.
func (l *Log) importBatch(ctx context.Context, recs []*record, first bool) error {
	b := &importBatch{ctx: ctx, recs: recs, first: first, done: make(chan error, 1)}
	select {
	case l.imports <- b:
	case <-l.stopping:
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("import audit records: %w", ctx.Err())
	}
	return <-b.done
}

// ExportReviews calls fn with every break-glass review, in audit id order,
// until fn returns an error, which it returns as it is.
func (l *Log) ExportReviews(ctx context.Context, fn func(Review) error) error {
	var fnErr error
	err := l.oldReviews.walk(ctx, func(r review) error {
		if fnErr = fn(r.public()); fnErr != nil {
			return errStop
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("export break-glass reviews: %w", err)
	}
	return nil
}

// ImportReviews stores the reviews that from passes on (typically another
// log's ExportReviews) as they are (audit id, reviewer, verdict, note and time;
// Org, Role and Purpose are not stored with a review) and returns how many
// it stored. Unlike RecordReview it writes no audit record: the copied
// trail holds the one written when the review was made. A review of a
// record that already has one stops the import with ErrAlreadyReviewed.
func (l *Log) ImportReviews(ctx context.Context, from func(ctx context.Context, fn func(Review) error) error) (int64, error) {
	var n int64
	err := from(ctx, func(r Review) error {
		if r.AuditID == "" || r.Time.IsZero() {
			return fmt.Errorf("%w: an imported review needs its audit id and time", ErrInvalidReview)
		}
		doc := review{AuditID: r.AuditID, Reviewer: r.Reviewer, Justified: r.Justified, Note: r.Note, T: r.Time.UTC().Truncate(time.Millisecond)}
		if err := l.oldReviews.add(ctx, doc); err != nil {
			if errors.Is(err, errReviewExists) {
				return ErrAlreadyReviewed
			}
			return fmt.Errorf("import break-glass review: %w", err)
		}
		n++
		return nil
	})
	return n, err
}

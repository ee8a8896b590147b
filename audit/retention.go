package audit

import (
	"context"
	"fmt"
	"time"
)

// Purge removes records older than the retention, as of now, and returns
// how many it removed; with no retention configured it removes nothing. It
// only ever removes a prefix of the chain (every record before the first one
// still within retention), so a record may outlive its retention but never
// the reverse. Before deleting, it appends a checkpoint record carrying the
// seq and hash of the last record it will remove; Verify starts from there.
// An interrupted purge leaves a valid chain that the next purge finishes.
// Review records go with the others of their time.
func (l *Log) Purge(ctx context.Context, now time.Time) (int64, error) {
	return l.PurgeKeeping(ctx, now, nil)
}

// Kept reports which of the patients named still have records stored:
// the audit of those is kept however old it is.
type Kept func(ctx context.Context, patients []string) (map[string]bool, error)

// PurgeKeeping is Purge that also keeps every record from the first one
// naming a patient whose records are still stored (kept, when not nil):
// the audit trail stays at least as long as the records it describes,
// whatever the retention says. Only a prefix of the chain ever goes, so
// one long-kept person holds back the records after their first mention
// too; they go once that person's records are disposed of.
func (l *Log) PurgeKeeping(ctx context.Context, now time.Time, kept Kept) (int64, error) {
	if l.opt.Retention == 0 {
		return 0, nil
	}
	cutoff := now.Add(-l.opt.Retention).UTC()
	cp, err := l.recs.latestCheckpoint(ctx)
	if err != nil {
		return 0, fmt.Errorf("read audit checkpoint: %w", err)
	}
	var through int64
	first, err := l.recs.find(ctx, filter{from: cutoff}, false, 1)
	switch {
	case err != nil:
		return 0, fmt.Errorf("purge audit records: %w", err)
	case len(first) == 0:
		h, err := loadHead(ctx, l.recs)
		if err != nil {
			return 0, err
		}
		through = h.seq
	default:
		through = first[0].Seq - 1
	}
	if kept != nil && through > cp.seq {
		named, err := l.recs.firstNaming(ctx, cp.seq, through)
		if err != nil {
			return 0, fmt.Errorf("purge audit records: %w", err)
		}
		patients := make([]string, 0, len(named))
		for p := range named {
			patients = append(patients, p)
		}
		stored, err := kept(ctx, patients)
		if err != nil {
			return 0, fmt.Errorf("purge audit records: which people still have records: %w", err)
		}
		for p, seq := range named {
			if stored[p] && seq-1 < through {
				through = seq - 1
			}
		}
	}
	if through <= cp.seq {
		// Nothing new to purge; finish an interrupted purge, if any.
		return l.deleteThrough(ctx, cp.seq)
	}
	last, err := l.recs.find(ctx, filter{atSeq: through}, false, 1)
	switch {
	case err != nil:
		return 0, fmt.Errorf("purge audit records: %w", err)
	case len(last) == 0:
		return 0, fmt.Errorf("purge audit records: record %d is missing; run audit verify", through)
	}
	n, err := l.recs.countThrough(ctx, through)
	if err != nil {
		return 0, fmt.Errorf("purge audit records: %w", err)
	}
	id, err := newID()
	if err != nil {
		return 0, err
	}
	mark := &record{ID: id, Kind: kindCheckpoint, T: now.UTC().Truncate(time.Millisecond),
		PurgedSeq: through, PurgedHash: last[0].Hash, PurgedCount: n}
	if err := l.append(ctx, mark); err != nil {
		return 0, fmt.Errorf("write audit checkpoint: %w", err)
	}
	return l.deleteThrough(ctx, through)
}

// deleteThrough removes the records up to seq through, which a checkpoint
// already covers.
func (l *Log) deleteThrough(ctx context.Context, through int64) (int64, error) {
	n, err := l.recs.deleteThrough(ctx, through)
	if err != nil {
		return 0, fmt.Errorf("purge audit records: %w", err)
	}
	if n > 0 {
		l.logger.Info("audit records purged", "records", n, "through_seq", through)
	}
	return n, nil
}

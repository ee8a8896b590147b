package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// pending is one record waiting for the writer, and where to report the
// outcome.
type pending struct {
	rec  *record
	done chan error // buffered: the writer never blocks on it
}

// importBatch is records copied verbatim from another trail (ImportRecords),
// handed to the writer so that they are ordered with Record's.
type importBatch struct {
	ctx   context.Context
	recs  []*record
	first bool       // the trail must be empty
	done  chan error // buffered
}

// head is the last record of the chain.
type head struct {
	seq  int64
	hash string
}

// writer is the single goroutine that owns the chain head.
type writer struct {
	log   *Log
	head  head
	known bool // false after a failed write: re-read the head first
}

func (w *writer) run() {
	defer close(w.log.finished)
	for {
		select {
		case p := <-w.log.queue:
			w.commit(w.collect(p))
		case b := <-w.log.imports:
			b.done <- w.importBatch(b)
		case <-w.log.stopping:
			for {
				batch := w.drain(nil)
				if len(batch) == 0 {
					return
				}
				w.commit(batch)
			}
		}
	}
}

// drain appends what is queued, without waiting, up to MaxBatch.
func (w *writer) drain(batch []*pending) []*pending {
	for len(batch) < w.log.opt.MaxBatch {
		select {
		case p := <-w.log.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// collect builds a batch starting with first and whatever is queued. It
// then waits, up to MaxDelay, while records are expected (Log.Expect) and
// the batch is not full; on MongoDB also while more were queued (the log
// is busy). A batch is written at once when nothing more is expected.
func (w *writer) collect(first *pending) []*pending {
	batch := w.drain([]*pending{first})
	opt := w.log.opt
	busy := w.log.mongo && len(batch) > 1
	if len(batch) >= opt.MaxBatch || opt.MaxDelay <= 0 || (!busy && w.log.coming.Load() == 0) {
		return batch
	}
	timer := time.NewTimer(opt.MaxDelay)
	defer timer.Stop()
	for len(batch) < opt.MaxBatch && (busy || w.log.coming.Load() > 0) {
		select {
		case p := <-w.log.queue:
			batch = append(batch, p)
		case <-w.log.wake: // the loop's condition looks again
		case <-timer.C:
			return w.drain(batch)
		case <-w.log.stopping:
			return batch
		}
	}
	return w.drain(batch)
}

// commit writes batch as the next links of the chain and reports to each
// caller. A duplicate seq means another writer moved the head: it re-reads
// the head and retries once.
func (w *writer) commit(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), w.log.opt.WriteTimeout)
	defer cancel()
	remaining := batch
	var err error
	for attempt := 0; attempt < 2 && len(remaining) > 0; attempt++ {
		remaining, err = w.insert(ctx, remaining)
		if err == nil {
			return
		}
		w.log.logger.Warn("audit batch write failed", "records", len(remaining), "attempt", attempt+1, "cause", errorClass(err))
		if !isConflict(err) {
			break
		}
	}
	for _, p := range remaining {
		p.done <- fmt.Errorf("%w: audit record not written: %w", fhir.ErrUnavailable, err)
	}
}

// insert links batch to the head and inserts it. It returns the entries
// that were not stored, with the cause; stored ones are told so.
func (w *writer) insert(ctx context.Context, batch []*pending) ([]*pending, error) {
	if !w.known {
		h, err := loadHead(ctx, w.log.recs)
		if err != nil {
			return batch, err
		}
		w.head, w.known = h, true
	}
	recs := make([]*record, len(batch))
	h := w.head
	for i, p := range batch {
		p.rec.Seq, p.rec.Prev = h.seq+1, h.hash
		sum, err := p.rec.computeHash()
		if err != nil {
			return batch, err
		}
		p.rec.Hash = sum
		h = head{p.rec.Seq, sum}
		recs[i] = p.rec
	}
	err := w.log.recs.insert(ctx, recs)
	if err == nil {
		w.head = h
		for _, p := range batch {
			p.done <- nil
		}
		w.log.observe(recs)
		return nil, nil
	}
	// An ordered MongoDB insert may have stored a prefix of the batch
	// (SQLite stores all or nothing): those records are durable and
	// correctly linked. Tell their callers, and re-read the head before
	// the next write.
	w.known = false
	stored, qerr := w.storedIDs(ctx, batch)
	if qerr != nil {
		return batch, err
	}
	var rest []*pending
	for _, p := range batch {
		if stored[p.rec.ID] {
			p.done <- nil
		} else {
			rest = append(rest, p)
		}
	}
	return rest, err
}

// storedIDs reports which records of batch are stored.
func (w *writer) storedIDs(ctx context.Context, batch []*pending) (map[string]bool, error) {
	ids := make([]string, len(batch))
	for i, p := range batch {
		ids[i] = p.rec.ID
	}
	recs, err := w.log.recs.find(ctx, filter{ids: ids}, false, len(ids))
	if err != nil {
		return nil, err
	}
	stored := make(map[string]bool, len(recs))
	for _, r := range recs {
		stored[r.ID] = true
	}
	return stored, nil
}

// importBatch writes b's records as they are, after the head: each seq
// above the one before (on an empty trail, the first may be anything).
func (w *writer) importBatch(b *importBatch) error {
	ctx, cancel := context.WithTimeout(b.ctx, w.log.opt.WriteTimeout)
	defer cancel()
	if !w.known {
		h, err := loadHead(ctx, w.log.recs)
		if err != nil {
			return err
		}
		w.head, w.known = h, true
	}
	if b.first && w.head != (head{0, genesis}) {
		return ErrNotEmpty
	}
	prev, bounded := w.head.seq, !b.first
	for _, r := range b.recs {
		if bounded && r.Seq <= prev {
			return fmt.Errorf("import audit records: seq %d does not follow seq %d", r.Seq, prev)
		}
		prev, bounded = r.Seq, true
	}
	if err := w.log.recs.insert(ctx, b.recs); err != nil {
		w.known = false
		return fmt.Errorf("import audit records: %w", err)
	}
	last := b.recs[len(b.recs)-1]
	w.head = head{last.Seq, last.Hash}
	return nil
}

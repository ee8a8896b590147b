package audit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/socialcare-fhir/gateway/fhir"
)

// pending is one record waiting for the writer, and where to report the
// outcome.
type pending struct {
	rec  *record
	done chan error // buffered: the writer never blocks on it
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

// collect builds a batch starting with first. When more than one record was
// already queued the log is busy, and it waits up to MaxDelay for the batch
// to fill; when only first was there it writes at once.
func (w *writer) collect(first *pending) []*pending {
	batch := w.drain([]*pending{first})
	if len(batch) == 1 || len(batch) >= w.log.opt.MaxBatch {
		return batch
	}
	timer := time.NewTimer(w.log.opt.MaxDelay)
	defer timer.Stop()
	for len(batch) < w.log.opt.MaxBatch {
		select {
		case p := <-w.log.queue:
			batch = append(batch, p)
		case <-timer.C:
			return batch
		case <-w.log.stopping:
			return batch
		}
	}
	return batch
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
		if !mongo.IsDuplicateKeyError(err) {
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
		h, err := loadHead(ctx, w.log.coll)
		if err != nil {
			return batch, err
		}
		w.head, w.known = h, true
	}
	docs := make([]any, len(batch))
	h := w.head
	for i, p := range batch {
		p.rec.Seq, p.rec.Prev = h.seq+1, h.hash
		sum, err := p.rec.computeHash()
		if err != nil {
			return batch, err
		}
		p.rec.Hash = sum
		h = head{p.rec.Seq, sum}
		docs[i] = p.rec
	}
	_, err := w.log.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	if err == nil {
		w.head = h
		for _, p := range batch {
			p.done <- nil
		}
		return nil, nil
	}
	// An ordered insert may have stored a prefix of the batch: those
	// records are durable and correctly linked. Tell their callers, and
	// re-read the head before the next write.
	w.known = false
	stored, qerr := storedIDs(ctx, w.log.coll, batch)
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

// storedIDs reports which records of batch are in the collection.
func storedIDs(ctx context.Context, coll *mongo.Collection, batch []*pending) (map[string]bool, error) {
	ids := make([]string, len(batch))
	for i, p := range batch {
		ids[i] = p.rec.ID
	}
	cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var got []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &got); err != nil {
		return nil, err
	}
	stored := make(map[string]bool, len(got))
	for _, g := range got {
		stored[g.ID] = true
	}
	return stored, nil
}

// loadHead reads the record with the highest seq; an empty chain starts at
// seq 0 with the genesis hash.
func loadHead(ctx context.Context, coll *mongo.Collection) (head, error) {
	var h struct {
		Seq  int64  `bson:"seq"`
		Hash string `bson:"hash"`
	}
	err := coll.FindOne(ctx, bson.D{}, options.FindOne().
		SetSort(bson.D{{Key: "seq", Value: -1}}).
		SetProjection(bson.D{{Key: "seq", Value: 1}, {Key: "hash", Value: 1}})).Decode(&h)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return head{0, genesis}, nil
	case err != nil:
		return head{}, fmt.Errorf("read audit chain head: %w", unavailable(err))
	}
	return head{h.Seq, h.Hash}, nil
}

// unavailable marks errors that mean the database cannot be reached with
// fhir.ErrUnavailable, so the gateway answers 503.
func unavailable(err error) error {
	if err == nil || errors.Is(err, fhir.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	var netErr net.Error
	switch {
	case mongo.IsNetworkError(err), mongo.IsTimeout(err), errors.As(err, &netErr),
		errors.Is(err, mongo.ErrClientDisconnected),
		errors.As(err, &topology.ServerSelectionError{}):
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, err)
	}
	return err
}

// errorClass names the kind of a database error for logs, which must not
// carry error text that could quote a record.
func errorClass(err error) string {
	switch {
	case mongo.IsDuplicateKeyError(err):
		return "duplicate-key"
	case mongo.IsTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case mongo.IsNetworkError(err), errors.Is(err, mongo.ErrClientDisconnected):
		return "network"
	case errors.As(err, &topology.ServerSelectionError{}):
		return "server-selection"
	}
	return "server"
}

package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Log is the append-only, hash-chained audit log in a MongoDB collection.
// It is safe for concurrent use.
type Log struct {
	coll    *mongo.Collection
	reviews *mongo.Collection
	opt     Options
	logger  *slog.Logger
	now     func() time.Time

	queue    chan *pending
	stopping chan struct{} // closed by Close
	finished chan struct{} // closed when the writer has exited
	stopOnce sync.Once
}

// Options configure Open.
type Options struct {
	// Collection holds the audit records (default "audit"). Reviews go to
	// Collection+"_reviews" ("audit_reviews" by default).
	Collection string
	// MaxBatch is the most records one InsertMany carries (default 256).
	MaxBatch int
	// MaxDelay is how long the writer waits for a batch to fill while
	// records keep arriving (default 2ms). An idle writer never waits.
	MaxDelay time.Duration
	// WriteTimeout bounds one batch write (default 5s).
	WriteTimeout time.Duration
	// Retention is how long records are kept; 0 keeps them for ever.
	Retention time.Duration
	// MinRetention is the floor for Retention, e.g. the retention of the
	// records the audit describes: Open refuses a shorter Retention.
	MinRetention time.Duration
	// Source names this gateway in AuditEvent.source and the server agent
	// (default "socialcare-fhir-gateway").
	Source string
	// Logger receives operational messages, never record contents.
	Logger *slog.Logger
}

// Errors returned by Log methods, checked with errors.Is.
var (
	// ErrClosed: the log was closed. Record wraps it with
	// fhir.ErrUnavailable too.
	ErrClosed = errors.New("audit log closed")
	// ErrRetentionTooShort: the configured retention is below the floor.
	ErrRetentionTooShort = errors.New("audit retention shorter than the records it describes")
)

// Open prepares the audit log in db: it creates the indexes, loads the
// chain head and starts the group-commit writer. Close stops the writer; the
// caller keeps ownership of db's client.
func Open(ctx context.Context, db *mongo.Database, opt Options) (*Log, error) {
	if opt.Collection == "" {
		opt.Collection = "audit"
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = 2 * time.Millisecond
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 5 * time.Second
	}
	if opt.Source == "" {
		opt.Source = "socialcare-fhir-gateway"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Retention < 0 || opt.MinRetention < 0 {
		return nil, fmt.Errorf("%w: negative retention", ErrRetentionTooShort)
	}
	if opt.Retention != 0 && opt.Retention < opt.MinRetention {
		return nil, fmt.Errorf("%w: retention %s is below the floor %s", ErrRetentionTooShort, opt.Retention, opt.MinRetention)
	}
	majority := options.Collection().SetWriteConcern(writeconcern.Majority())
	l := &Log{
		coll:     db.Collection(opt.Collection, majority),
		reviews:  db.Collection(opt.Collection+"_reviews", majority),
		opt:      opt,
		logger:   opt.Logger.With("component", "audit"),
		now:      time.Now,
		queue:    make(chan *pending, opt.MaxBatch*4),
		stopping: make(chan struct{}),
		finished: make(chan struct{}),
	}
	if err := l.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	h, err := loadHead(ctx, l.coll)
	if err != nil {
		return nil, err
	}
	w := &writer{log: l, head: h, known: true}
	go w.run()
	return l, nil
}

func (l *Log) ensureIndexes(ctx context.Context) error {
	desc := func(k string) bson.D { return bson.D{{Key: k, Value: 1}, {Key: "seq", Value: -1}} }
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "seq", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: desc("pat")},
		{Keys: desc("sub")},
		{Keys: desc("org")},
		{Keys: desc("bg")},
		{Keys: bson.D{{Key: "t", Value: 1}}},
		{Keys: bson.D{{Key: "kind", Value: 1}}},
	}
	// One at a time: the embedded server (FerretDB 1.24) drops the
	// connection when a createIndexes batch holds several existing indexes.
	for _, m := range models {
		if _, err := l.coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create audit indexes: %w", unavailable(err))
		}
	}
	return nil
}

// Record appends e and returns its id once the record is durable (majority
// write concern). Concurrent callers share one InsertMany. If the record
// could not be written, Record returns an error, wrapping
// fhir.ErrUnavailable unless the entry itself was invalid: the caller must
// then refuse to answer.
func (l *Log) Record(ctx context.Context, e Entry) (id string, err error) {
	if err := e.normalise(l.now()); err != nil {
		return "", err
	}
	r, err := newRecord(&e)
	if err != nil {
		return "", err
	}
	if err := l.append(ctx, r); err != nil {
		return "", err
	}
	return r.ID, nil
}

// append queues r for the writer and waits until it is durable or failed.
func (l *Log) append(ctx context.Context, r *record) error {
	p := &pending{rec: r, done: make(chan error, 1)}
	select {
	case <-l.stopping:
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, ErrClosed)
	default:
	}
	select {
	case l.queue <- p:
	case <-l.stopping:
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("audit record not written: %w", ctx.Err())
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		// The record may still be written; the caller refuses to answer
		// either way, and a record of an unanswered request is harmless.
		return fmt.Errorf("audit record not confirmed: %w", ctx.Err())
	case <-l.finished:
		select {
		case err := <-p.done:
			return err
		default:
			return fmt.Errorf("%w: %w", fhir.ErrUnavailable, ErrClosed)
		}
	}
}

// Close stops accepting records, writes those already queued and stops the
// writer. It does not disconnect the database client.
func (l *Log) Close(ctx context.Context) error {
	l.stopOnce.Do(func() { close(l.stopping) })
	select {
	case <-l.finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close audit log: %w", ctx.Err())
	}
}

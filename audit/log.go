package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Log is the append-only, hash-chained audit log, in a MongoDB collection
// (Open) or a SQLite file (OpenSQLite). It is safe for concurrent use.
type Log struct {
	recs records
	// oldReviews is where reviews were kept before they were audit
	// records (review.go).
	oldReviews reviewStore
	// reviewMu serialises RecordReview.
	reviewMu sync.Mutex
	opt      Options
	logger   *slog.Logger
	now      func() time.Time

	queue chan *pending
	// coming counts records expected (Expect) and not yet queued: the
	// writer holds a batch open for them, up to MaxDelay.
	coming atomic.Int64
	wake   chan struct{} // buffered 1: the last expected record has come
	// mongo: the writer also holds a batch open while the log is busy
	// (see Options.MaxDelay).
	mongo    bool
	imports  chan *importBatch // unbuffered: ImportRecords hands batches to the writer
	stopping chan struct{}     // closed by Close
	finished chan struct{}     // closed when the writer has exited
	stopOnce sync.Once
	// observer hears of each event record once it is durable (SetObserver).
	observer atomic.Pointer[func(*DecisionRecord)]
}

// SetObserver makes fn hear of every event record this log writes, as a
// DecisionRecord, once it is durable (a shadow policy compares its
// decisions: package policy/versions). fn runs on the log's writer and
// must not block; nil stops it.
func (l *Log) SetObserver(fn func(*DecisionRecord)) {
	if fn == nil {
		l.observer.Store(nil)
		return
	}
	l.observer.Store(&fn)
}

// observe tells the observer of the event records of a stored batch.
func (l *Log) observe(recs []*record) {
	fn := l.observer.Load()
	if fn == nil {
		return
	}
	for _, r := range recs {
		if r.Kind == kindEvent {
			dr := decisionRecordOf(r)
			(*fn)(&dr)
		}
	}
}

// Options configure Open and OpenSQLite.
type Options struct {
	// Collection holds the audit records (default "audit"): a MongoDB
	// collection, or with OpenSQLite a table (letters, digits and _).
	// Collection+"_reviews" ("audit_reviews" by default) holds the
	// break-glass reviews made before reviews were audit records; SQLite
	// also has Collection+"_patients", the patient index.
	Collection string
	// MaxBatch is the most records one write carries: one InsertMany, or
	// one SQLite transaction (default 256).
	MaxBatch int
	// MaxDelay is the longest the writer holds a batch open for records
	// still to come (default 2ms on MongoDB, where a write is a round trip
	// to a majority of the replica set, and 1ms on SQLite; negative is
	// none). It waits only while records are expected (Expect) and, on
	// MongoDB, while more than one record was queued: an idle writer never
	// waits, and a batch is written as soon as every expected record has
	// come.
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
	if opt.MaxDelay == 0 {
		opt.MaxDelay = 2 * time.Millisecond
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	majority := options.Collection().SetWriteConcern(writeconcern.Majority())
	recs := mongoRecords{db.Collection(opt.Collection, majority)}
	if err := recs.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	return start(ctx, recs, mongoReviews{db.Collection(opt.Collection+"_reviews", majority)}, opt, true)
}

// OpenSQLite prepares the audit log in the SQLite file db (the gateway
// gives the trail a file of its own): it creates the tables, indexes and
// triggers if they are missing (see the package documentation for the
// layout), loads the chain head from the primary key and starts the
// group-commit writer, which writes each batch in one transaction. Close
// stops the writer; the caller keeps ownership of db.
func OpenSQLite(ctx context.Context, db *sqlitedb.DB, opt Options) (*Log, error) {
	if opt.MaxDelay == 0 {
		opt.MaxDelay = time.Millisecond
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	names, err := sqliteNamesFor(opt.Collection)
	if err != nil {
		return nil, err
	}
	recs := &sqliteRecords{db: db, n: names}
	if err := recs.ensureSchema(ctx); err != nil {
		return nil, err
	}
	return start(ctx, recs, &sqliteReviews{db: db, n: names}, opt, false)
}

// withDefaults fills opt's defaults and checks its retention.
func (opt Options) withDefaults() (Options, error) {
	if opt.Collection == "" {
		opt.Collection = "audit"
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
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
		return opt, fmt.Errorf("%w: negative retention", ErrRetentionTooShort)
	}
	if opt.Retention != 0 && opt.Retention < opt.MinRetention {
		return opt, fmt.Errorf("%w: retention %s is below the floor %s", ErrRetentionTooShort, opt.Retention, opt.MinRetention)
	}
	return opt, nil
}

// start loads the chain head and starts the writer.
func start(ctx context.Context, recs records, reviews reviewStore, opt Options, mongo bool) (*Log, error) {
	l := &Log{
		mongo:      mongo,
		recs:       recs,
		oldReviews: reviews,
		opt:        opt,
		logger:     opt.Logger.With("component", "audit"),
		now:        time.Now,
		queue:      make(chan *pending, opt.MaxBatch*4),
		wake:       make(chan struct{}, 1),
		imports:    make(chan *importBatch),
		stopping:   make(chan struct{}),
		finished:   make(chan struct{}),
	}
	h, err := loadHead(ctx, recs)
	if err != nil {
		return nil, err
	}
	w := &writer{log: l, head: h, known: true}
	go w.run()
	n, err := l.moveReviews(ctx)
	if err != nil {
		_ = l.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if n > 0 {
		l.logger.Info("break-glass reviews moved into the audit chain", "reviews", n)
	}
	return l, nil
}

// Record appends e and returns its id once the record is durable (majority
// write concern on MongoDB, a committed transaction with full fsync on
// SQLite). Concurrent callers share one write. If the record
// could not be written, Record returns an error, wrapping
// fhir.ErrUnavailable unless the entry itself was invalid: the caller must
// then refuse to answer.
func (l *Log) Record(ctx context.Context, e Entry) (id string, err error) {
	return l.record(ctx, e, nil)
}

// record is Record with the stored record completed by edit (when not nil)
// before it is chained.
func (l *Log) record(ctx context.Context, e Entry, edit func(*record)) (string, error) {
	if err := e.normalise(l.now()); err != nil {
		return "", err
	}
	r, err := newRecord(&e)
	if err != nil {
		return "", err
	}
	if edit != nil {
		edit(r)
	}
	// Here, in the caller, not in the writer every record waits for.
	if err := r.prepare(); err != nil {
		return "", err
	}
	if err := l.append(ctx, r); err != nil {
		return "", err
	}
	return r.ID, nil
}

// Expect tells the log that a record is coming: a request has started
// whose Record will be given the returned context (or one derived from
// it). The writer holds a batch open for expected records (up to
// MaxDelay), so that requests in flight share one write instead of
// following each other's. done says the record will not come after all;
// calling it after Record is harmless, and the gateway defers it. A record
// that has not come expectFor MaxDelays after its announcement is no
// longer waited for: a long request (a large search, an export) holds up
// other requests' batches only in its first moments, not while it runs.
func (l *Log) Expect(ctx context.Context) (_ context.Context, done func()) {
	e := &expected{log: l}
	l.coming.Add(1)
	if l.opt.MaxDelay <= 0 {
		return context.WithValue(ctx, expectKey{l}, e), e.arrived
	}
	late := time.AfterFunc(expectFor*l.opt.MaxDelay, e.arrived)
	return context.WithValue(ctx, expectKey{l}, e), func() {
		late.Stop()
		e.arrived()
	}
}

// expectFor is how many MaxDelays an announced record is waited for: far
// longer than a read takes under load (a few milliseconds at 16
// connections), so that only long requests stop being waited for.
const expectFor = 10

// expectKey marks a context whose record l expects (Expect).
type expectKey struct{ l *Log }

// expected is one record Expect announced.
type expected struct {
	log  *Log
	once sync.Once
}

// arrived takes the record off the count, once, and wakes the writer
// when it was the last expected.
func (e *expected) arrived() {
	e.once.Do(func() {
		if e.log.coming.Add(-1) == 0 {
			select {
			case e.log.wake <- struct{}{}:
			default:
			}
		}
	})
}

// append queues r for the writer and waits until it is durable or failed.
func (l *Log) append(ctx context.Context, r *record) error {
	p := &pending{rec: r, done: make(chan error, 1)}
	// Once it is queued (or will not be) an expected record has come: a
	// writer that then finds nothing more expected has every expected
	// record in its batch or its queue.
	e, _ := ctx.Value(expectKey{l}).(*expected)
	arrived := func() {
		if e != nil {
			e.arrived()
		}
	}
	select {
	case <-l.stopping:
		arrived()
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, ErrClosed)
	default:
	}
	select {
	case l.queue <- p:
		arrived()
	case <-l.stopping:
		arrived()
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, ErrClosed)
	case <-ctx.Done():
		arrived()
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

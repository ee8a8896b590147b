// Package sqlitedb opens the SQLite databases of the embedded engine
// (modernc.org/sqlite, pure Go) the way every part of the gateway uses
// them: WAL journal, a sync to disk on every commit (fdatasync where the
// system has it: an acknowledged write survives a crash of the process or
// the machine), write transactions taken one at a time in the process
// (they take SQLite's write lock when they begin, so they never fail with
// SQLITE_BUSY between themselves), a pool of readers that never wait for
// them, and a checkpointer that copies the WAL into the file beside the
// writer rather than in the commit that crossed a threshold
// (checkpoint.go).
//
// A data directory holds one file per concern (resources, audit trail,
// ingest journals), so that the audit trail's group commits and a bulk
// import never queue behind one another.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/socialcare-fhir/gateway/fhir"
)

// DB is one SQLite database file.
type DB struct {
	// W is the writers' pool: two connections, one kept for the write
	// transactions (Tx runs them one at a time, always on that connection,
	// so its page cache stays warm: a write on another connection would
	// make it read every page again) and one on which statements are
	// prepared meanwhile. Use Tx for writes.
	W *sql.DB
	// wc is W's connection for transactions.
	wc *sql.Conn
	// R is the readers' pool.
	R    *sql.DB
	Path string
	// tx admits one write transaction at a time (a token in a channel,
	// so that waiting for it ends with the caller's context); waiting
	// counts those waiting.
	tx      chan struct{}
	waiting atomic.Int64
	closed  atomic.Bool
	// ws and rs are the writer's and the readers' prepared statements.
	ws, rs *statements
	// ck copies the WAL into the database file in the background (see
	// checkpointer), kicked after each commit.
	ck *checkpointer
	// cache is wc's page cache (KiB), which grows up to maxCache with the
	// file (WriterCache); both only change with the write token held.
	cache, maxCache int64
	// txn numbers the write transactions; it only changes with the write
	// token held (see TxNumber).
	txn uint64
}

// busyTimeout is how long a statement waits for a lock another
// connection holds (another process's write transaction, a checkpoint).
const busyTimeout = 30 * time.Second

// syncData makes commits use fdatasync(2) where the system has it, as
// SQLite's own builds for Linux do: the data and the size needed to read
// it back reach the disk, not the file's timestamps, whose journal commit
// on ext4 was most of a commit's wait (the transpiled library's default
// is fsync).
var syncData sync.Once

// An Option changes how Open opens a database.
type Option func(*options)

type options struct {
	pageSize    int
	writerCache int64 // KiB
}

// cacheKiB is the page cache a connection keeps (64 MB), and mmapBytes
// how much of the file it reads through a memory map (SQLite's largest,
// just under 2 GB).
const (
	cacheKiB  = 65536
	mmapBytes = 2147418112
)

// WriterCache gives the connection that runs the write transactions a
// page cache of n bytes instead of 64 MB once the file is larger than 2n
// (checked after each commit). The readers keep 64 MB each.
//
// A file whose B-trees take inserts at random keys (the resource store's
// search index) has its writer touch pages all over them; once they are
// much larger than the cache it reads the same pages again and again,
// from the WAL or, past the 2 GB memory map, the file, by a system call
// each. On a smaller file a larger cache only cost the memory it took
// (a 100,000-resource import was 5% slower with 512 MB, 2-3% with 128
// MB), so it waits for the file to grow.
func WriterCache(n int64) Option {
	return func(o *options) { o.writerCache = n >> 10 }
}

// PageSize gives a file Open creates pages of n bytes (a power of two from
// 512 to 65,536) instead of SQLite's 4,096. A file that exists keeps the
// page size it was made with.
//
// Larger pages suit a file of many B-trees that grow by inserts at random
// keys (the resource store's search index): fewer pages a commit writes
// to the WAL, fewer splits, shallower trees. Smaller pages suit one
// written a few rows at a time and synced on every commit (the audit
// trail), where each page a commit touches is written and synced whole.
func PageSize(n int) Option { return func(o *options) { o.pageSize = n } }

// Open opens (creating if needed) the database file path.
func Open(path string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	syncData.Do(func() { _, _ = sqlite.Fdatasync(true) }) // unavailable (macOS, Windows): fsync stays
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	if o.pageSize != 0 {
		if err := create(path, o.pageSize); err != nil {
			return nil, err
		}
	}
	// Pages are read through a memory map of up to 2 GB of the file
	// (mmap_size), without a system call and a copy for each; writes go
	// through the WAL as ever.
	//
	// The writers never checkpoint (wal_autocheckpoint 0): a commit that
	// crossed SQLite's threshold would otherwise copy the WAL into the
	// file and fsync it before returning, a third of a bulk import's
	// writer time. The checkpointer does it beside them.
	dsn := func(txlock string, busy time.Duration, extra ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "synchronous(FULL)", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()),
			"foreign_keys(0)", "temp_store(MEMORY)", fmt.Sprintf("mmap_size(%d)", mmapBytes)}, extra...) {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", txlock)
		return "file:" + path + "?" + q.Encode()
	}
	cache := fmt.Sprintf("cache_size(-%d)", cacheKiB)
	w, err := sql.Open("sqlite", dsn("immediate", busyTimeout, "wal_autocheckpoint(0)", cache))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(2)
	w.SetMaxIdleConns(2)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("deferred", busyTimeout, cache))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	wc, err := w.Conn(context.Background())
	if err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d := &DB{W: w, wc: wc, R: r, Path: path, tx: make(chan struct{}, 1),
		ws: newStatements(w), rs: newStatements(r), maxCache: o.writerCache, cache: cacheKiB}
	c, err := sql.Open("sqlite", dsn("deferred", restartWait, cache))
	if err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	d.ck = newCheckpointer(d, c)
	return d, nil
}

// create makes the database file path with pages of pageSize bytes
// unless it exists. The page size is fixed once the file is in WAL mode,
// and the driver runs a DSN's pragmas in alphabetical order
// (journal_mode before page_size), so it is set here, on a connection of
// its own, before anything else opens the file.
func create(path string, pageSize int) error {
	if pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("sqlite: page size %d: want a power of two from 512 to 65536", pageSize)
	}
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil // a file's pages waiting in its WAL: SQLite recovers them as they are
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma="+url.QueryEscape(fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds())))
	if err != nil {
		return fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{fmt.Sprintf("PRAGMA page_size = %d", pageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("sqlite: create %s: %w", path, Wrap(err))
		}
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	d.closed.Store(true)
	var ckErr error
	if d.ck != nil {
		ckErr = d.ck.stop() // before taking the token: it may be waiting for it
	}
	d.tx <- struct{}{} // no transaction runs on wc while it closes
	defer func() { <-d.tx }()
	d.ws.close()
	d.rs.close()
	return errors.Join(ckErr, d.R.Close(), d.wc.Close(), d.W.Close())
}

// ErrClosed is the fhir.ErrUnavailable of a database that was closed
// (the gateway is shutting down).
var ErrClosed = fmt.Errorf("%w: the database is closed", fhir.ErrUnavailable)

// Ping reports whether the database file can be read.
func (d *DB) Ping(ctx context.Context) error {
	if d.closed.Load() {
		return ErrClosed
	}
	var n int
	return Wrap(d.R.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n))
}

// Check is Wrap for an error of this database: once it is closed, every
// error is ErrClosed.
func (d *DB) Check(err error) error {
	if err != nil && d.closed.Load() {
		return ErrClosed
	}
	return Wrap(err)
}

// Tx runs fn in one write transaction: committed when fn returns nil and
// ctx has not ended, rolled back otherwise (nothing of it stays). The
// transaction is begun on a context that does not end (database/sql would
// start a goroutine for every query in a transaction that can end; each
// write takes microseconds): an end of ctx is seen when fn returns.
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if g, ok := ctx.Value(groupKey{d}).(*group); ok {
		if g.err != nil {
			return g.err
		}
		if err := fn(g.tx); err != nil {
			g.err = err
			return err
		}
		return nil
	}
	d.waiting.Add(1)
	select {
	case d.tx <- struct{}{}:
		d.waiting.Add(-1)
	case <-ctx.Done():
		d.waiting.Add(-1)
		return fmt.Errorf("sqlite: waiting for the write transaction in progress: %w", ctx.Err())
	}
	defer func() { <-d.tx }()
	tx, err := d.wc.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return d.Check(err)
	}
	d.txn++
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := ctx.Err(); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("sqlite: write transaction not committed: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return d.Check(err)
	}
	if d.ck != nil {
		d.ck.kick()
	}
	d.growCache()
	return nil
}

// growsPast is the file size (KiB) past which the writer's cache grows to
// maxKiB: twice that. A variable so that tests can make it small.
var growsPast = func(maxKiB int64) int64 { return 2 * maxKiB }

// growCache gives the writer the larger cache WriterCache allows once
// the file is more than twice its size. It runs with the write token
// held, after a commit.
func (d *DB) growCache() {
	if d.cache >= d.maxCache {
		return
	}
	if st, err := os.Stat(d.Path); err != nil || st.Size()>>10 <= growsPast(d.maxCache) {
		return
	}
	if _, err := d.wc.ExecContext(context.Background(), fmt.Sprintf("PRAGMA cache_size = -%d", d.maxCache)); err == nil {
		d.cache = d.maxCache
	}
}

// groupKey marks a context that carries a write transaction of d (Group).
type groupKey struct{ d *DB }

// group is a Group's transaction and the first error of a write in it.
type group struct {
	tx  *sql.Tx
	err error
}

// Group runs fn in one write transaction which every Tx on d given fn's
// context (or one derived from it) joins, committed when fn returns nil.
// A write that fails fails the whole group: nothing of it is kept and
// Group returns that write's error, so the caller can write the group's
// parts again one transaction each. (SQLite's savepoints could undo one
// part alone, but copy every page a part first changes, which made a
// bulk import twice as slow.) A bulk import stores several records a
// transaction this way: a commit writes the pages they share once.
//
// fn's context carries ctx's values but does not end with it: a statement
// given a context that can end starts a goroutine to interrupt it, which
// cost a bulk import's writer 7% of its time for statements that take
// microseconds. fn checks ctx between its writes instead.
func (d *DB) Group(ctx context.Context, fn func(ctx context.Context) error) error {
	g := &group{}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		g.tx = tx
		err := fn(context.WithValue(context.WithoutCancel(ctx), groupKey{d}, g))
		if g.err != nil {
			return g.err
		}
		return err
	})
}

// TxNumber identifies the write transaction in progress, for a writer
// that remembers what it wrote in it until it commits: a later transaction
// has a larger number. Call it only inside Tx's (or Group's) fn.
func (d *DB) TxNumber() uint64 { return d.txn }

// Waiting is how many write transactions wait for the one in progress.
func (d *DB) Waiting() int { return int(d.waiting.Load()) }

// Exec runs schema statements on the writer, in order.
func (d *DB) Exec(ctx context.Context, stmts ...string) error {
	for _, s := range stmts {
		if _, err := d.W.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	return nil
}

// Wrap marks errors that a client should retry (the database is busy or
// its disk is full or unreadable) with fhir.ErrUnavailable, so the gateway
// answers 503 with Retry-After.
func Wrap(err error) error {
	if err == nil || errors.Is(err, fhir.ErrUnavailable) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("%w: %w", fhir.ErrUnavailable, err)
		}
	}
	if errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, err)
	}
	return err
}

// IsUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func IsUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

package sqlitedb

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// The checkpointer copies committed pages from the WAL into the database
// file on its own connection while the writer goes on (a PASSIVE
// checkpoint never blocks a writer or a reader), so no commit waits for
// it. A WAL that a busy writer keeps from being reset (SQLite starts it
// again from the beginning only when a write begins with every frame
// copied) is bounded: past restartFrames frames the checkpointer takes
// the write token between transactions and runs a RESTART checkpoint, so
// the next write starts the WAL again.
//
// Variables, so that tests can make them small.
var (
	// checkpointEvery is the least time between two checkpoints: commits
	// in between are copied in one run, a page written by several of
	// them once (a bulk import's index pages are; at 50 ms the import
	// took a tenth longer).
	checkpointEvery = time.Second
	// restartFrames is the WAL length (pages) that makes the
	// checkpointer restart it: 160 MB of 4 KB pages, forty times
	// SQLite's own checkpoint threshold (at a quarter of it, a bulk
	// import waited for restarts a tenth of its time).
	restartFrames = 40000
)

const (
	// restartWait bounds how long a RESTART waits for readers of older
	// snapshots (a long export, say) while it holds the write token;
	// past it the checkpoint copies what it can and tries again later.
	restartWait = 250 * time.Millisecond
)

type checkpointer struct {
	d       *DB
	db      *sql.DB
	kicks   chan struct{} // capacity 1: kicks while one runs coalesce
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// onCheckpoint, when set (tests), is told each checkpoint's mode
	// and the WAL's frames and frames copied.
	onCheckpoint func(mode string, log, copied int)
}

func newCheckpointer(d *DB, db *sql.DB) *checkpointer {
	c := &checkpointer{d: d, db: db, kicks: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.run()
	return c
}

// kick asks for a checkpoint after a commit.
func (c *checkpointer) kick() {
	select {
	case c.kicks <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	for {
		select {
		case <-c.kicks:
		case <-c.quit:
			return
		}
		if log := c.checkpoint("PASSIVE"); log >= restartFrames {
			c.restart()
		}
		select {
		case <-time.After(checkpointEvery):
		case <-c.quit:
			return
		}
	}
}

// checkpoint runs one checkpoint of mode and returns the WAL's length in
// frames afterwards (0 when it failed: the next commit tries again).
func (c *checkpointer) checkpoint(mode string) int {
	var busy, log, copied int
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &log, &copied); err != nil {
		return 0
	}
	if c.onCheckpoint != nil {
		c.onCheckpoint(mode, log, copied)
	}
	return log
}

// restart runs a RESTART checkpoint between write transactions.
func (c *checkpointer) restart() {
	select {
	case c.d.tx <- struct{}{}:
	case <-c.quit:
		return
	}
	defer func() { <-c.d.tx }()
	c.checkpoint("RESTART")
}

// stop ends the checkpointer and closes its connection (once: a
// database may be closed twice).
func (c *checkpointer) stop() error {
	var err error
	c.once.Do(func() {
		close(c.quit)
		<-c.stopped
		err = c.db.Close()
	})
	return err
}

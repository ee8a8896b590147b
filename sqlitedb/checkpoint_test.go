package sqlitedb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// walFrames is the size of a WAL file of n frames of 4 KB pages.
func walFrames(n int) int64 { return 32 + int64(n)*(24+4096) }

// TestCheckpointerBoundsTheWAL writes without pause while a reader keeps
// reading: the writers never checkpoint, so only the checkpointer keeps
// the WAL from holding every page ever written, and everything committed
// is in the database file after Close.
func TestCheckpointerBoundsTheWAL(t *testing.T) {
	oldEvery, oldFrames := checkpointEvery, restartFrames
	checkpointEvery, restartFrames = 2*time.Millisecond, 300
	t.Cleanup(func() { checkpointEvery, restartFrames = oldEvery, oldFrames })

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var modes sync.Map
	d.ck.onCheckpoint = func(mode string, _, copied int) {
		if copied > 0 {
			modes.Store(mode, true)
		}
	}
	if err := d.Exec(ctx, `CREATE TABLE t (b BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var reads atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var n int
			if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
				t.Error(err)
				return
			}
			reads.Add(1)
		}
	})
	const txs, rows = 400, 10 // each transaction about ten 4 KB pages: 4,000 frames in all
	var largest int64
	for i := range txs {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for range rows {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (b) VALUES (randomblob(3900))`); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("transaction %d: %v", i, err)
		}
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	close(stop)
	wg.Wait()
	// Checkpoints run beside the writer, which writes on meanwhile (the
	// more so on a busy machine): allow half of everything written,
	// several times the threshold. Without the checkpointer, or without
	// its restarts, the WAL holds all of it.
	if bound := walFrames(txs * rows / 2); largest > bound {
		t.Errorf("the WAL grew to %d bytes (%d frames) writing %d frames; want at most %d", largest, (largest-32)/4120, txs*rows, bound)
	}
	if _, ok := modes.Load("PASSIVE"); !ok {
		t.Error("no PASSIVE checkpoint copied a page")
	}
	if reads.Load() == 0 {
		t.Error("the reader never read")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != txs*rows {
		t.Errorf("%d rows after reopening, want %d", n, txs*rows)
	}
}

// TestCommitDoesNotCheckpoint: the writer's connection leaves the WAL to
// the checkpointer (with it stopped, a commit far past SQLite's own
// threshold of 1,000 pages copies nothing).
func TestCommitDoesNotCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.ck.stop(); err != nil {
		t.Fatal(err)
	}
	d.ck = nil
	if err := d.Exec(ctx, `CREATE TABLE t (b BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
				INSERT INTO t (b) SELECT randomblob(3900) FROM n`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < walFrames(1500) {
		t.Errorf("the WAL holds %d bytes after 1,500 pages were committed: a commit checkpointed and restarted it", fi.Size())
	}
	var dbPages int
	if err := d.R.QueryRowContext(ctx, `SELECT page_count FROM pragma_page_count`).Scan(&dbPages); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() >= int64(dbPages)*4096/2 {
		t.Errorf("the database file holds %d bytes of %d pages: a commit copied the WAL into it", st.Size(), dbPages)
	}
}

package sqlitedb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With WriterCache, the writer's page cache stays at the default until
// the file passes the size it grows past, then takes the size given; the
// readers keep the default. Without it the writer's cache never grows.
func TestWriterCacheGrowsWithTheFile(t *testing.T) {
	ctx := context.Background()
	defer func(f func(int64) int64) { growsPast = f }(growsPast)
	const past = 256 << 10 // bytes
	growsPast = func(int64) int64 { return past >> 10 }

	cacheSize := func(d *DB) (writer, reader int64) {
		t.Helper()
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&writer)
		}); err != nil {
			t.Fatal(err)
		}
		if err := d.R.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&reader); err != nil {
			t.Fatal(err)
		}
		return -writer, -reader
	}
	// fill writes rows until the file is past size bytes.
	fill := func(d *DB, size int64) {
		t.Helper()
		for {
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, strings.Repeat("x", 32<<10))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			// Copied into the file here (the checkpointer may be
			// copying it too: then this one is busy and the next
			// round's sees it done).
			_, _ = d.R.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
			if st, err := os.Stat(d.Path); err != nil {
				t.Fatal(err)
			} else if st.Size() > size {
				return
			}
		}
	}
	open := func(opts ...Option) *DB {
		t.Helper()
		d, err := Open(filepath.Join(t.TempDir(), "c.db"), opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		if err := d.Exec(ctx, `CREATE TABLE t (v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		return d
	}

	d := open(WriterCache(100 << 20))
	fill(d, past/2)
	if w, r := cacheSize(d); w != cacheKiB || r != cacheKiB {
		t.Errorf("below the size: writer cache %d KiB, reader %d; want %d, %d", w, r, cacheKiB, cacheKiB)
	}
	fill(d, past+64<<10)
	d.Tx(ctx, func(*sql.Tx) error { return nil }) // a commit after the file grew
	if w, r := cacheSize(d); w != 100<<10 || r != cacheKiB {
		t.Errorf("past the size: writer cache %d KiB, reader %d; want %d (the most given), %d", w, r, 100<<10, cacheKiB)
	}

	d = open()
	fill(d, past+64<<10)
	d.Tx(ctx, func(*sql.Tx) error { return nil })
	if w, _ := cacheSize(d); w != cacheKiB {
		t.Errorf("without WriterCache, past the size: writer cache %d KiB, want %d", w, cacheKiB)
	}
}

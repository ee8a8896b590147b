package sqlitedb

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A file Open creates with PageSize has pages of that size, in WAL mode,
// from its first write on; it keeps them when opened again, with another
// size asked for or none; a file that exists keeps its own.
func TestPageSizeIsAFilesOwnFromItsCreation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pageSize := func(d *DB) (n int, mode string) {
		t.Helper()
		if err := d.R.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := d.R.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return n, mode
	}
	write := func(d *DB, v string) {
		t.Helper()
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, v)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(name string, opts ...Option) *DB {
		t.Helper()
		d, err := Open(filepath.Join(dir, name), opts...)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	d := open("big.db", PageSize(16384))
	if err := d.Exec(ctx, `CREATE TABLE t (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	write(d, "a")
	if n, mode := pageSize(d); n != 16384 || mode != "wal" {
		t.Errorf("new file: page size %d, journal %s; want 16384, wal", n, mode)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]Option{nil, {PageSize(4096)}} {
		d = open("big.db", opts...)
		write(d, "b")
		if n, _ := pageSize(d); n != 16384 {
			t.Errorf("reopened with %d options: page size %d, want 16384", len(opts), n)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}

	d = open("default.db")
	if err := d.Exec(ctx, `CREATE TABLE t (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = open("default.db", PageSize(8192))
	defer d.Close()
	write(d, "c")
	if n, _ := pageSize(d); n != 4096 {
		t.Errorf("a file made without PageSize, opened with it: page size %d, want 4096", n)
	}
	var count int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&count); err != nil || count != 1 {
		t.Errorf("rows %d (%v), want 1", count, err)
	}

	for _, bad := range []int{100, 3000, 131072} {
		if _, err := Open(filepath.Join(dir, "bad.db"), PageSize(bad)); err == nil {
			t.Errorf("PageSize(%d) opened", bad)
		}
	}
}

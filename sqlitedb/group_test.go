package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// Writes in a Group share one transaction, committed together; one that
// fails fails the group (even when the group's function goes on and
// returns nil), and a Group that fails keeps none of them.
func TestGroupIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	d, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Exec(ctx, `CREATE TABLE t (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	insert := func(ctx context.Context, vs ...string) error {
		return d.Tx(ctx, func(tx *sql.Tx) error {
			for _, v := range vs {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, v); err != nil {
					return err
				}
			}
			return nil
		})
	}
	rows := func() map[string]bool {
		got := map[string]bool{}
		r, err := d.R.QueryContext(ctx, `SELECT v FROM t`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
			var v string
			if err := r.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got[v] = true
		}
		return got
	}
	refused := errors.New("refused")
	var seenInside bool
	err = d.Group(ctx, func(ctx context.Context) error {
		if err := insert(ctx, "a1", "a2"); err != nil {
			return err
		}
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES ('b1')`); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Errorf("the failed write's error: %v", err)
		}
		if err := insert(ctx, "c1"); err != nil {
			return err
		}
		seenInside = len(rows()) != 0 // readers see nothing before the commit
		return nil
	})
	if !errors.Is(err, refused) {
		t.Fatalf("a group with a failed write: %v, want its error", err)
	}
	if seenInside {
		t.Error("a reader saw the group's rows before it committed")
	}
	if got := rows(); len(got) != 0 {
		t.Errorf("rows after a group with a failed write: %v, want none", got)
	}
	if err := d.Group(ctx, func(ctx context.Context) error {
		if err := insert(ctx, "a1", "a2"); err != nil {
			return err
		}
		return insert(ctx, "c1")
	}); err != nil {
		t.Fatal(err)
	}
	if got := rows(); len(got) != 3 || !got["a1"] || !got["a2"] || !got["c1"] {
		t.Errorf("rows after the group: %v, want a1, a2 and c1", got)
	}
	if err := d.Group(ctx, func(ctx context.Context) error {
		if err := insert(ctx, "d1"); err != nil {
			return err
		}
		return refused
	}); !errors.Is(err, refused) {
		t.Fatalf("a failed group: %v", err)
	}
	if got := rows(); got["d1"] {
		t.Error("a failed group's write was kept")
	}
}

// A write transaction whose context ends while it runs is rolled back,
// not committed, though its statements ran on a context that does not end.
func TestTxEndedByItsContextIsNotCommitted(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	bg := context.Background()
	if err := d.Exec(bg, `CREATE TABLE t (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, grouped := range []bool{false, true} {
		ctx, cancel := context.WithCancel(bg)
		write := func(ctx context.Context) error {
			return d.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(context.WithoutCancel(ctx), `INSERT INTO t (v) VALUES ('x')`); err != nil {
					return err
				}
				cancel()
				return nil
			})
		}
		if grouped {
			err = d.Group(ctx, write)
		} else {
			err = write(ctx)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("grouped %v: error %v, want context.Canceled", grouped, err)
		}
		var n int
		if err := d.R.QueryRowContext(bg, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("grouped %v: %d rows committed after the context ended", grouped, n)
		}
	}
}

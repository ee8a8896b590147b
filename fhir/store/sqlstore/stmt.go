package sqlstore

import (
	"context"
	"database/sql"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Statements of one row (a write's inserts, a read by id) run with their
// context's values but not its cancellation (brief): the driver starts a
// goroutine to watch every cancellable statement, which costs more than
// such a statement. A transaction still ends when its context does
// (sqlitedb.DB.Tx rolls it back instead of committing), and searches,
// which may run long, keep their cancellation (query).
func brief(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// exec runs q in tx as a cached statement of the writer.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.db.TxStmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	r, err := st.ExecContext(brief(ctx), args...)
	return r, sqlitedb.Wrap(err)
}

// insert runs q, an INSERT of one row into a rowid table, in tx and
// returns the row's rowid. Not RETURNING rowid: SQLite runs a statement
// with RETURNING under a statement journal, a copy of every page it first
// changes; a plain INSERT's rowid is the connection's last.
func (s *Store) insert(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
	r, err := s.exec(ctx, tx, q, args...)
	if err != nil {
		return 0, s.db.Check(err)
	}
	rid, err := r.LastInsertId()
	return rid, s.db.Check(err)
}

// txRow runs a one-row query in tx as a cached statement of the writer.
func (s *Store) txRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	st, err := s.db.TxStmt(ctx, tx, q)
	if err != nil {
		return tx.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return st.QueryRowContext(brief(ctx), args...)
}

// query runs q on the readers as a cached statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.db.ReadStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, sqlitedb.Wrap(err)
}

// row runs a one-row query on the readers as a cached statement.
func (s *Store) row(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.db.ReadStmt(ctx, q)
	if err != nil {
		return s.db.R.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(brief(ctx), args...)
}

package sqlstore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// maxStatements bounds each prepared-statement cache; when it is full the
// cache starts again (search shapes are few; their values are parameters).
const maxStatements = 512

// stmts caches prepared statements by SQL text, so a statement is parsed
// once per connection rather than on every call: parsing was a sixth of
// the cost of a write.
type stmts struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmts(db *sql.DB) *stmts { return &stmts{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmts) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	if len(c.m) >= maxStatements {
		for k, st := range c.m {
			_ = st.Close()
			delete(c.m, k)
		}
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	c.m[q] = st
	return st, nil
}

func (c *stmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, st := range c.m {
		_ = st.Close()
		delete(c.m, k)
	}
}

// exec runs q in tx as a cached statement of the writer.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.wstmts.get(ctx, q)
	if err != nil {
		return nil, err
	}
	r, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return r, sqlitedb.Wrap(err)
}

// txRow runs a one-row query in tx as a cached statement of the writer.
func (s *Store) txRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	st, err := s.wstmts.get(ctx, q)
	if err != nil {
		return tx.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// query runs q on the readers as a cached statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.rstmts.get(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, sqlitedb.Wrap(err)
}

// row runs a one-row query on the readers as a cached statement.
func (s *Store) row(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.rstmts.get(ctx, q)
	if err != nil {
		return s.db.R.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

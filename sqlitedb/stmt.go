package sqlitedb

import (
	"context"
	"database/sql"
	"sync"
)

// maxStatements bounds each prepared-statement cache; when it is full the
// cache starts again (statement shapes are few; their values are
// parameters).
const maxStatements = 512

// statements caches prepared statements of one pool by SQL text, so a
// statement is parsed once per connection rather than on every call
// (parsing was a sixth of the cost of a write).
type statements struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStatements(db *sql.DB) *statements {
	return &statements{db: db, m: map[string]*sql.Stmt{}}
}

func (c *statements) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	if len(c.m) >= maxStatements {
		c.closeLocked()
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, Wrap(err)
	}
	c.m[q] = st
	return st, nil
}

func (c *statements) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *statements) closeLocked() {
	for k, st := range c.m {
		_ = st.Close()
		delete(c.m, k)
	}
}

// TxStmt is q prepared once on the writer and bound to tx (a transaction
// of Tx): the statement is parsed once for the writer's connection, not
// once per transaction. It is closed with tx.
func (d *DB) TxStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	st, err := d.ws.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st), nil
}

// ReadStmt is q prepared once per reader connection.
func (d *DB) ReadStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	return d.rs.get(ctx, q)
}

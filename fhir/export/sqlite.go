package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// The SQLite table: one row per job, the job as JSON in doc; state is
// kept beside it for the running jobs' index.
var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS export_jobs (
		id    TEXT NOT NULL PRIMARY KEY,
		state TEXT NOT NULL,
		doc   TEXT NOT NULL -- JSON Job
	) STRICT`,
	`CREATE INDEX IF NOT EXISTS export_jobs_state ON export_jobs(state)`,
}

// SQLiteJobs keeps jobs in a SQLite database.
type SQLiteJobs struct {
	db    *sqlitedb.DB
	mu    sync.Mutex
	ready bool
}

// NewSQLite keeps jobs in db (the table is created on first use).
func NewSQLite(db *sqlitedb.DB) *SQLiteJobs { return &SQLiteJobs{db: db} }

func (s *SQLiteJobs) setup(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	if err := s.db.Exec(ctx, sqliteSchema...); err != nil {
		return fmt.Errorf("export: create the jobs table: %w", sqlitedb.Wrap(err))
	}
	s.ready = true
	return nil
}

func (s *SQLiteJobs) write(ctx context.Context, query string, args ...any) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return sqlitedb.Wrap(err)
	})
}

// Insert writes a new job.
func (s *SQLiteJobs) Insert(ctx context.Context, j *Job) error {
	doc, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("export: encode job: %w", err)
	}
	return s.write(ctx, `INSERT INTO export_jobs (id, state, doc) VALUES (?, ?, ?)`, j.ID, j.State, string(doc))
}

// Save replaces a job.
func (s *SQLiteJobs) Save(ctx context.Context, j *Job) error {
	doc, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("export: encode job: %w", err)
	}
	return s.write(ctx, `UPDATE export_jobs SET state = ?, doc = ? WHERE id = ?`, j.State, string(doc), j.ID)
}

// Get reads a job: ErrNotFound when there is none.
func (s *SQLiteJobs) Get(ctx context.Context, id string) (*Job, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	var doc string
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM export_jobs WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	return decode(doc)
}

// Delete removes a job (none is no error).
func (s *SQLiteJobs) Delete(ctx context.Context, id string) error {
	return s.write(ctx, `DELETE FROM export_jobs WHERE id = ?`, id)
}

// InState lists the jobs in a state, by id.
func (s *SQLiteJobs) InState(ctx context.Context, state string) ([]*Job, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT doc FROM export_jobs WHERE state = ? ORDER BY id`, state)
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
		j, err := decode(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, sqlitedb.Wrap(rows.Err())
}

func decode(doc string) (*Job, error) {
	j := &Job{}
	if err := json.Unmarshal([]byte(doc), j); err != nil {
		return nil, fmt.Errorf("export: decode job: %w", err)
	}
	return j, nil
}

package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// sqliteSchema is the SQLite journal's schema. Times are Unix
// milliseconds (UTC); journal ids are MongoDB ObjectIDs in hex, so that
// journals keep their ids and order when copied between engines.
//
// Every query has its index: pending journals oldest first, of everyone
// or before a time (ingest_journal_pending) or of one person
// (ingest_journal_pending_key); both are partial indexes over pending
// journals only, so the applied receipts, which accumulate, do not grow
// them. A journal or a job by id is the primary key.
var sqliteSchema = []string{
	`CREATE TABLE IF NOT EXISTS ingest_journal (
		id      TEXT NOT NULL PRIMARY KEY, -- ObjectID, 24 hex digits
		key     TEXT NOT NULL,             -- the person: "Patient/<id>"
		state   TEXT NOT NULL,             -- 'pending' or 'applied'
		created INTEGER NOT NULL,
		applied INTEGER,                   -- NULL while pending
		n       INTEGER NOT NULL,          -- resources in the record
		res     TEXT                       -- JSON [{"type","id","resource"}]; NULL once applied
	) STRICT`,
	`CREATE INDEX IF NOT EXISTS ingest_journal_pending ON ingest_journal(created, id) WHERE state = 'pending'`,
	`CREATE INDEX IF NOT EXISTS ingest_journal_pending_key ON ingest_journal(key, created, id) WHERE state = 'pending'`,
	`CREATE TABLE IF NOT EXISTS ingest_jobs (
		id       TEXT NOT NULL PRIMARY KEY,
		format   TEXT NOT NULL,
		state    TEXT NOT NULL,
		started  INTEGER NOT NULL,
		updated  INTEGER NOT NULL,
		finished INTEGER,                  -- NULL until finished
		done     INTEGER NOT NULL,
		rejected INTEGER NOT NULL,
		problems TEXT,                     -- JSON [fhir.Issue]
		report   TEXT,                     -- JSON BulkReport
		org      TEXT                      -- ODS code of the sender
	) STRICT`,
}

// The SQLite journal's statements (the indexes test checks their plans).
const (
	sqlInsertJournal    = `INSERT INTO ingest_journal (id, key, state, created, applied, n, res) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlPendingAll       = `SELECT id FROM ingest_journal WHERE state = 'pending' ORDER BY created, id`
	sqlPendingBefore    = `SELECT id FROM ingest_journal WHERE state = 'pending' AND created < ? ORDER BY created, id`
	sqlPendingKey       = `SELECT id FROM ingest_journal WHERE state = 'pending' AND key = ? ORDER BY created, id`
	sqlPendingKeyBefore = `SELECT id FROM ingest_journal WHERE state = 'pending' AND key = ? AND created < ? ORDER BY created, id`
	sqlPendingJournal   = `SELECT key, state, created, n, res FROM ingest_journal WHERE id = ? AND state = 'pending'`
	sqlMarkApplied      = `UPDATE ingest_journal SET state = 'applied', applied = ?, res = NULL WHERE id = ?`
	sqlInsertJob        = `INSERT INTO ingest_jobs (id, format, state, started, updated, finished, done, rejected, problems, report, org) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlUpdateJob        = `UPDATE ingest_jobs SET updated = ?, done = ?, rejected = ?, state = coalesce(?, state),
		finished = coalesce(?, finished), problems = coalesce(?, problems), report = coalesce(?, report) WHERE id = ?`
	sqlJob    = `SELECT format, state, started, updated, finished, done, rejected, problems, report, coalesce(org, '') FROM ingest_jobs WHERE id = ?`
	sqlJobIDs = `SELECT id FROM ingest_jobs ORDER BY id`
)

// sqliteState keeps journals and job records in a SQLite database: each
// write its own write transaction (DB.Tx, fsynced before it returns),
// reads from the readers' pool.
type sqliteState struct {
	db    *sqlitedb.DB
	mu    sync.Mutex
	ready bool // the schema exists
}

func newSQLiteState(db *sqlitedb.DB) *sqliteState { return &sqliteState{db: db} }

// setup creates the tables and indexes once per process; every other
// method calls it first, so that the first use need not be Recover.
func (s *sqliteState) setup(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return nil
	}
	if err := s.db.Exec(ctx, sqliteSchema...); err != nil {
		return fmt.Errorf("create the journal tables: %w", sqlitedb.Wrap(err))
	}
	// A file written before jobs named their sender gains the column.
	var n int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('ingest_jobs') WHERE name = 'org'`).Scan(&n); err != nil {
		return fmt.Errorf("read the jobs table: %w", sqlitedb.Wrap(err))
	}
	if n == 0 {
		if err := s.db.Exec(ctx, `ALTER TABLE ingest_jobs ADD COLUMN org TEXT`); err != nil {
			return fmt.Errorf("add the jobs' sender: %w", sqlitedb.Wrap(err))
		}
	}
	s.ready = true
	return nil
}

// exec runs one write statement in its own write transaction.
func (s *sqliteState) exec(ctx context.Context, query string, args ...any) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return sqlitedb.Wrap(err)
	})
}

// journalEntry is one resource of a journal, as JSON (the SQLite journal's
// res column, and exported journals).
type journalEntry struct {
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	Resource json.RawMessage `json:"resource"`
}

func entries(j *journal) []journalEntry {
	out := make([]journalEntry, len(j.Resources))
	for n, r := range j.Resources {
		out[n] = journalEntry{Type: r.Type, ID: r.ID, Resource: json.RawMessage(r.JSON)}
	}
	return out
}

func fromEntries(es []journalEntry) []journalResource {
	out := make([]journalResource, len(es))
	for n, e := range es {
		out[n] = journalResource{Type: e.Type, ID: e.ID, JSON: string(e.Resource)}
	}
	return out
}

// marshalJSON is json.Marshal without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (s *sqliteState) insertJournal(ctx context.Context, j *journal) error {
	var res, applied any
	if j.Resources != nil {
		b, err := marshalJSON(entries(j))
		if err != nil {
			return fmt.Errorf("encode journal %s: %w", j.ID.Hex(), err)
		}
		res = string(b)
	}
	if !j.Applied.IsZero() {
		applied = j.Applied.UnixMilli()
	}
	err := s.exec(ctx, sqlInsertJournal, j.ID.Hex(), j.Key, j.State, j.Created.UnixMilli(), applied, j.Count, res)
	if sqlitedb.IsUnique(err) {
		return errExists
	}
	return err
}

func (s *sqliteState) pendingIDs(ctx context.Context, f pendingFilter) ([]bson.ObjectID, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	query, args := sqlPendingAll, []any(nil)
	switch {
	case f.key != "" && !f.before.IsZero():
		query, args = sqlPendingKeyBefore, []any{f.key, f.before.UnixMilli()}
	case f.key != "":
		query, args = sqlPendingKey, []any{f.key}
	case !f.before.IsZero():
		query, args = sqlPendingBefore, []any{f.before.UnixMilli()}
	}
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	defer rows.Close()
	var ids []bson.ObjectID
	for rows.Next() {
		var hex string
		if err := rows.Scan(&hex); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
		id, err := bson.ObjectIDFromHex(hex)
		if err != nil {
			return nil, fmt.Errorf("journal id %q: %w", hex, err)
		}
		ids = append(ids, id)
	}
	return ids, sqlitedb.Wrap(rows.Err())
}

func (s *sqliteState) pendingJournal(ctx context.Context, id bson.ObjectID) (*journal, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	j := &journal{ID: id}
	var created int64
	var res sql.NullString
	err := s.db.R.QueryRowContext(ctx, sqlPendingJournal, id.Hex()).Scan(&j.Key, &j.State, &created, &j.Count, &res)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	j.Created = time.UnixMilli(created).UTC()
	var es []journalEntry
	if err := json.Unmarshal([]byte(res.String), &es); err != nil {
		return nil, fmt.Errorf("journal %s: %w", id.Hex(), err)
	}
	j.Resources = fromEntries(es)
	return j, nil
}

func (s *sqliteState) markApplied(ctx context.Context, id bson.ObjectID, at time.Time) error {
	return s.exec(ctx, sqlMarkApplied, at.UnixMilli(), id.Hex())
}

func (s *sqliteState) insertJob(ctx context.Context, d *jobDoc) error {
	var finished, problems, report any
	if !d.Finished.IsZero() {
		finished = d.Finished.UnixMilli()
	}
	if d.Problems != nil {
		b, err := marshalJSON(d.Problems)
		if err != nil {
			return err
		}
		problems = string(b)
	}
	if d.Report != "" {
		report = d.Report
	}
	var org any
	if d.Org != "" {
		org = d.Org
	}
	err := s.exec(ctx, sqlInsertJob, d.ID, d.Format, d.State, d.Started.UnixMilli(), d.Updated.UnixMilli(),
		finished, d.Done, d.Rejected, problems, report, org)
	if sqlitedb.IsUnique(err) {
		return errExists
	}
	return err
}

func (s *sqliteState) updateJob(ctx context.Context, id string, u jobUpdate) error {
	var state, finished, problems, report any
	if u.state != "" {
		state = u.state
	}
	if !u.finished.IsZero() {
		finished = u.finished.UnixMilli()
	}
	if u.problems != nil {
		b, err := marshalJSON(u.problems)
		if err != nil {
			return err
		}
		problems = string(b)
	}
	if u.report != "" {
		report = u.report
	}
	return s.exec(ctx, sqlUpdateJob, u.updated.UnixMilli(), u.done, u.rejected, state, finished, problems, report, id)
}

func (s *sqliteState) job(ctx context.Context, id string) (*jobDoc, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	d := &jobDoc{ID: id}
	var started, updated int64
	var finished sql.NullInt64
	var problems, report sql.NullString
	err := s.db.R.QueryRowContext(ctx, sqlJob, id).Scan(&d.Format, &d.State, &started, &updated, &finished,
		&d.Done, &d.Rejected, &problems, &report, &d.Org)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	d.Started, d.Updated = time.UnixMilli(started).UTC(), time.UnixMilli(updated).UTC()
	if finished.Valid {
		d.Finished = time.UnixMilli(finished.Int64).UTC()
	}
	if problems.Valid {
		var is []fhir.Issue
		if err := json.Unmarshal([]byte(problems.String), &is); err != nil {
			return nil, fmt.Errorf("import job %s problems: %w", id, err)
		}
		d.Problems = is
	}
	d.Report = report.String
	return d, nil
}

func (s *sqliteState) jobIDs(ctx context.Context) ([]string, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, sqlJobIDs)
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
		ids = append(ids, id)
	}
	return ids, sqlitedb.Wrap(rows.Err())
}

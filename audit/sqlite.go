package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// The SQLite layout (tables N, N_patients and N_reviews for a trail named
// N) is described in the package documentation (doc.go); schema creates it.

// sqliteNamePattern is what a trail's name may be: it is part of the table
// names.
var sqliteNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

// sqliteNames are the quoted identifiers of one trail's tables and indexes.
type sqliteNames struct {
	name                  string // as given
	tbl, pats, revs, tIdx string // quoted
}

func sqliteNamesFor(name string) (sqliteNames, error) {
	if !sqliteNamePattern.MatchString(name) {
		return sqliteNames{}, fmt.Errorf("audit table name %q: use letters, digits and _ (starting with a letter, at most 48)", name)
	}
	q := func(s string) string { return `"` + s + `"` }
	return sqliteNames{name: name, tbl: q(name), pats: q(name + "_patients"), revs: q(name + "_reviews"), tIdx: q(name + "_t")}, nil
}

// schema creates the tables, indexes and triggers (idempotent).
func (n sqliteNames) schema() []string {
	q := func(s string) string { return `"` + n.name + s + `"` }
	appendOnly := func(table, trigger string) string {
		return `CREATE TRIGGER IF NOT EXISTS ` + q(trigger) + ` BEFORE UPDATE ON ` + table +
			` BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END`
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + n.tbl + ` (
			seq     INTEGER PRIMARY KEY,
			hash    TEXT NOT NULL,
			doc     TEXT NOT NULL,
			id      TEXT    AS (json_extract(doc, '$.r.id')),
			kind    TEXT    AS (json_extract(doc, '$.r.kind')),
			t       INTEGER AS (json_extract(doc, '$.t')),
			sub     TEXT    AS (json_extract(doc, '$.r.sub')),
			org     TEXT    AS (json_extract(doc, '$.r.org')),
			pou     TEXT    AS (json_extract(doc, '$.r.pou')),
			allowed INTEGER AS (json_extract(doc, '$.r.allowed')),
			bg      INTEGER AS (json_extract(doc, '$.r.bg')),
			cps     INTEGER AS (json_extract(doc, '$.r.cps'))
		)`,
		// Every index ends, implicitly, in seq (the rowid), so each one
		// also serves the newest-first order of the searches.
		`CREATE UNIQUE INDEX IF NOT EXISTS ` + q("_id") + ` ON ` + n.tbl + ` (id)`,
		`CREATE INDEX IF NOT EXISTS ` + n.tIdx + ` ON ` + n.tbl + ` (t, kind)`,
		`CREATE INDEX IF NOT EXISTS ` + q("_sub") + ` ON ` + n.tbl + ` (sub, kind)`,
		`CREATE INDEX IF NOT EXISTS ` + q("_org") + ` ON ` + n.tbl + ` (org, kind)`,
		`CREATE INDEX IF NOT EXISTS ` + q("_pou") + ` ON ` + n.tbl + ` (pou, kind)`,
		// Break-glass and refused accesses are the rare ones searched for.
		`CREATE INDEX IF NOT EXISTS ` + q("_bg") + ` ON ` + n.tbl + ` (kind) WHERE bg = 1`,
		`CREATE INDEX IF NOT EXISTS ` + q("_refused") + ` ON ` + n.tbl + ` (kind) WHERE allowed = 0`,
		`CREATE INDEX IF NOT EXISTS ` + q("_checkpoints") + ` ON ` + n.tbl + ` (cps) WHERE kind = 'checkpoint'`,
		// Reviews by the record they review: an index on an expression,
		// which an existing table gets too (unlike a new column).
		`CREATE INDEX IF NOT EXISTS ` + q("_review_of") + ` ON ` + n.tbl + ` (` + reviewOfExpr("doc") + `) WHERE ` + reviewOfExpr("doc") + ` IS NOT NULL`,
		`CREATE TABLE IF NOT EXISTS ` + n.pats + ` (
			pat TEXT NOT NULL,
			seq INTEGER NOT NULL,
			own INTEGER NOT NULL,
			PRIMARY KEY (pat, seq)
		) WITHOUT ROWID`,
		`CREATE INDEX IF NOT EXISTS ` + q("_patients_seq") + ` ON ` + n.pats + ` (seq)`,
		`CREATE TABLE IF NOT EXISTS ` + n.revs + ` (
			audit_id  TEXT PRIMARY KEY,
			reviewer  TEXT NOT NULL,
			justified INTEGER NOT NULL,
			note      TEXT NOT NULL,
			t         INTEGER NOT NULL
		) WITHOUT ROWID`,
		appendOnly(n.tbl, "_append_only"),
		appendOnly(n.pats, "_patients_append_only"),
		appendOnly(n.revs, "_reviews_append_only"),
	}
}

// reviewOfExpr is the id a review record reviews, from the doc column
// named (with or without a table alias): its index and its queries must
// use the same expression for SQLite to use the index.
func reviewOfExpr(doc string) string { return `json_extract(` + doc + `, '$.r.rof')` }

// sqliteRecords keeps the chain in SQLite tables (see sqliteNames).
type sqliteRecords struct {
	db *sqlitedb.DB
	n  sqliteNames
	// batches counts committed insert transactions.
	batches atomic.Int64
}

func (s *sqliteRecords) ensureSchema(ctx context.Context) error {
	if err := s.db.Exec(ctx, s.n.schema()...); err != nil {
		return fmt.Errorf("create audit tables: %w", sqlitedb.Wrap(err))
	}
	return nil
}

// exists reports whether the trail's table is in the file.
func (s *sqliteRecords) exists(ctx context.Context) (bool, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, s.n.name).Scan(&n)
	return n > 0, sqlitedb.Wrap(err)
}

func (s *sqliteRecords) head(ctx context.Context) (head, error) {
	var h head
	err := s.db.R.QueryRowContext(ctx, `SELECT seq, hash FROM `+s.n.tbl+` ORDER BY seq DESC LIMIT 1`).Scan(&h.seq, &h.hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return head{0, genesis}, nil
	case err != nil:
		return head{}, sqlitedb.Wrap(err)
	}
	return h, nil
}

// insert writes recs in one transaction: all are stored or none. Rows go
// in as multi-row INSERTs of up to rowsPerInsert rows, each statement
// prepared once.
func (s *sqliteRecords) insert(ctx context.Context, recs []*record) error {
	var recArgs, patArgs []any
	for _, r := range recs {
		doc := r.doc // what the writer hashed
		if doc == nil {
			var err error
			if doc, err = r.canonical(); err != nil {
				return err
			}
		}
		recArgs = append(recArgs, r.Seq, r.Hash, string(doc))
		for _, p := range patientRows(r) {
			patArgs = append(patArgs, p.pat, r.Seq, p.own)
		}
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertRows(ctx, tx, `INSERT INTO `+s.n.tbl+` (seq, hash, doc) VALUES `, recArgs); err != nil {
			return err
		}
		// OR REPLACE: a row left behind by records deleted by hand must
		// not block the seq they had (a clash on seq itself is caught
		// on the records table first).
		return s.insertRows(ctx, tx, `INSERT OR REPLACE INTO `+s.n.pats+` (pat, seq, own) VALUES `, patArgs)
	})
	if err == nil {
		s.batches.Add(1)
	}
	return sqlitedb.Wrap(err)
}

// rowsPerInsert is the most rows one INSERT statement carries.
const rowsPerInsert = 16

// insertRows runs prefix (an INSERT ... VALUES of three columns) over
// args, three per row.
func (s *sqliteRecords) insertRows(ctx context.Context, tx *sql.Tx, prefix string, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/3, rowsPerInsert)
		st, err := s.db.TxStmt(ctx, tx, prefix+strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", "))
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args[:3*n]...); err != nil {
			return err
		}
		args = args[3*n:]
	}
	return nil
}

// patientRow is one row of N_patients.
type patientRow struct {
	pat string
	own int
}

// patientRows are the N_patients rows of r, one per distinct patient, in
// the order of r.Patients.
func patientRows(r *record) []patientRow {
	var rows []patientRow
	seen := map[string]bool{}
	for _, p := range r.Patients {
		if seen[p] {
			continue
		}
		seen[p] = true
		own := 0
		if slices.Contains(r.Own, p) {
			own = 1
		}
		rows = append(rows, patientRow{p, own})
	}
	return rows
}

// findQuery is the SQL of find. Each shape is answered from an index:
// a patient from N_patients (its primary key, in seq order), subject,
// organisation and purpose from theirs, break glass and refused from
// their partial indexes, ids from the id index, seq bounds from the
// primary key; a time range with none of those reads the time index and
// sorts the matches' seqs only. Without any filter it walks the primary
// key from the newest record and stops at the page size (and oldest first
// by time alone, from the oldest record: see below).
func (s *sqliteRecords) findQuery(f filter, desc bool, limit int) (string, []any) {
	var where []string
	var args []any
	cond := func(c string, a ...any) {
		where = append(where, c)
		args = append(args, a...)
	}
	from, seqCol := s.n.tbl+" a", "a.seq"
	if f.patient != "" {
		// CROSS JOIN keeps N_patients as the outer loop.
		from, seqCol = s.n.pats+" p CROSS JOIN "+s.n.tbl+" a ON a.seq = p.seq", "p.seq"
		cond("p.pat = ?", f.patient)
		if f.notOwn {
			cond("p.own = 0")
		}
	}
	// Constants in the SQL text, not parameters: SQLite uses a partial
	// index only when the query's terms match its WHERE literally.
	switch f.kind {
	case kindEvent:
		cond("a.kind = 'event'")
	case kindCheckpoint:
		cond("a.kind = 'checkpoint'")
	}
	indexed := f.patient != ""
	if len(f.ids) > 0 {
		cond("a.id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.ids)), ", ")+")", anys(f.ids)...)
		indexed = true
	}
	if len(f.reviewOf) > 0 {
		rof := reviewOfExpr("a.doc")
		cond(rof+" IS NOT NULL AND "+rof+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(f.reviewOf)), ", ")+")", anys(f.reviewOf)...)
		indexed = true
	}
	for _, c := range []struct{ col, v string }{{"a.sub", f.subject}, {"a.org", f.org}, {"a.pou", f.purpose}} {
		if c.v != "" {
			cond(c.col+" = ?", c.v)
			indexed = true
		}
	}
	if f.allowed != nil {
		if *f.allowed {
			cond("a.allowed = 1")
		} else {
			cond("a.allowed = 0")
			indexed = true
		}
	}
	if f.breakGlass != nil {
		if *f.breakGlass {
			cond("a.bg = 1")
			indexed = true
		} else {
			cond("a.bg = 0")
		}
	}
	if !f.from.IsZero() {
		cond("a.t >= ?", f.from.UnixMilli())
	}
	if !f.to.IsZero() {
		cond("a.t < ?", f.to.UnixMilli())
	}
	if f.atSeq != 0 {
		cond(seqCol+" = ?", f.atSeq)
		indexed = true
	}
	if f.before != 0 {
		cond(seqCol+" < ?", f.before)
	}
	if f.after != 0 {
		cond(seqCol+" > ?", f.after)
	}
	order := seqCol
	if desc {
		order += " DESC"
	}
	whereSQL := ""
	if len(where) > 0 {
		whereSQL = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	switch timed := !f.from.IsZero() || !f.to.IsZero(); {
	case !indexed && timed && desc:
		// Only a time range: find the seqs from the time index (which
		// holds kind too), then read just those records.
		inner := "SELECT a.seq FROM " + s.n.tbl + " a INDEXED BY " + s.n.tIdx + whereSQL + " ORDER BY " + order + " LIMIT ?"
		return "SELECT a.seq, a.hash, a.doc FROM " + s.n.tbl + " a WHERE a.seq IN (" + inner + ") ORDER BY " + order, args
	case !indexed && timed:
		// Oldest first by time alone is Purge looking for the first
		// record within retention: walk from the oldest record, through
		// those about to be purged, rather than sort all the others.
		from = s.n.tbl + " a NOT INDEXED"
	}
	return "SELECT a.seq, a.hash, a.doc FROM " + from + whereSQL + " ORDER BY " + order + " LIMIT ?", args
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (s *sqliteRecords) find(ctx context.Context, f filter, desc bool, limit int) ([]record, error) {
	q, args := s.findQuery(f, desc, limit)
	return s.query(ctx, q, args...)
}

// query reads records from rows of (seq, hash, doc).
func (s *sqliteRecords) query(ctx context.Context, q string, args ...any) ([]record, error) {
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	defer rows.Close()
	var recs []record
	for rows.Next() {
		var seq int64
		var hash string
		var doc []byte
		if err := rows.Scan(&seq, &hash, &doc); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
		r, _, err := decodeDoc(doc)
		if err != nil {
			return nil, fmt.Errorf("audit record at seq %d cannot be decoded; run audit verify", seq)
		}
		r.Seq, r.Hash = seq, hash
		recs = append(recs, r)
	}
	return recs, sqlitedb.Wrap(rows.Err())
}

func (s *sqliteRecords) latestCheckpoint(ctx context.Context) (checkpoint, error) {
	recs, err := s.query(ctx, `SELECT seq, hash, doc FROM `+s.n.tbl+` WHERE kind = 'checkpoint' ORDER BY cps DESC LIMIT 1`)
	if err != nil || len(recs) == 0 {
		return checkpoint{hash: genesis}, err
	}
	return checkpointOf(&recs[0]), nil
}

func (s *sqliteRecords) countThrough(ctx context.Context, through int64) (int64, error) {
	var n int64
	err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM `+s.n.tbl+` WHERE seq <= ?`, through).Scan(&n)
	return n, sqlitedb.Wrap(err)
}

func (s *sqliteRecords) firstNaming(ctx context.Context, after, through int64) (map[string]int64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT pat, min(seq) FROM `+s.n.pats+` WHERE seq > ? AND seq <= ? GROUP BY pat`, after, through)
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var p string
		var seq int64
		if err := rows.Scan(&p, &seq); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
		out[p] = seq
	}
	return out, sqlitedb.Wrap(rows.Err())
}

// deleteThrough removes the records and their patient rows in one
// transaction.
func (s *sqliteRecords) deleteThrough(ctx context.Context, through int64) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+s.n.pats+` WHERE seq <= ?`, through); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM `+s.n.tbl+` WHERE seq <= ?`, through)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, sqlitedb.Wrap(err)
	}
	return n, nil
}

// walk reads every record with its N_patients rows, in seq order, in one
// read transaction (a consistent snapshot).
func (s *sqliteRecords) walk(ctx context.Context, fn func(*storedRecord) error) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT a.seq, a.hash, a.doc,
		(SELECT json_group_array(json_array(p.pat, p.own)) FROM `+s.n.pats+` p WHERE p.seq = a.seq)
		FROM `+s.n.tbl+` a ORDER BY a.seq`)
	if err != nil {
		return sqlitedb.Wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		var hash string
		var doc, pats []byte
		st := &storedRecord{seqOK: true}
		if err := rows.Scan(&st.seq, &hash, &doc, &pats); err != nil {
			return sqlitedb.Wrap(err)
		}
		st.rec, st.flaw = decodeCanonical(doc)
		st.rec.Hash, st.id = hash, st.rec.ID
		switch {
		case st.flaw != "":
		case st.rec.Seq != st.seq:
			st.flaw = "the row's seq differs from the record's"
		case !samePatientRows(pats, patientRows(&st.rec)):
			st.flaw = "the patient index differs from the record"
		}
		if err := fn(st); err != nil {
			return err
		}
	}
	return sqlitedb.Wrap(rows.Err())
}

// samePatientRows compares the N_patients rows read back (a JSON array of
// [pat, own]) with those a record should have.
func samePatientRows(stored []byte, want []patientRow) bool {
	var got [][2]any
	if err := json.Unmarshal(stored, &got); err != nil || len(got) != len(want) {
		return false
	}
	have := make(map[patientRow]bool, len(got))
	for _, g := range got {
		pat, ok1 := g[0].(string)
		own, ok2 := g[1].(float64)
		if !ok1 || !ok2 {
			return false
		}
		have[patientRow{pat, int(own)}] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

// decodeDoc reads a doc: the record and the version of its canonical form.
func decodeDoc(doc []byte) (record, int, error) {
	var c canonicalForm
	if err := json.Unmarshal(doc, &c); err != nil || c.R == nil {
		return record{}, 0, errors.New("undecodable audit record")
	}
	r := *c.R
	r.T = time.UnixMilli(c.T).UTC()
	return r, c.V, nil
}

// decodeCanonical reads a doc for verification: it must be exactly the
// canonical form of the record it decodes to, so that nothing in it
// escapes the hash.
func decodeCanonical(doc []byte) (record, string) {
	r, v, err := decodeDoc(doc)
	if err != nil {
		return record{}, "record cannot be decoded"
	}
	again, err := r.canonical()
	if err != nil || v != hashVersion || !bytes.Equal(again, doc) {
		return r, "record has an unexpected field or is not in canonical form"
	}
	return r, ""
}

// sqliteReviews keeps the reviews in N_reviews.
type sqliteReviews struct {
	db *sqlitedb.DB
	n  sqliteNames
}

func (s *sqliteReviews) add(ctx context.Context, r review) error {
	justified := 0
	if r.Justified {
		justified = 1
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO `+s.n.revs+` (audit_id, reviewer, justified, note, t) VALUES (?, ?, ?, ?, ?)`,
		r.AuditID, r.Reviewer, justified, r.Note, r.T.UnixMilli())
	if sqlitedb.IsUnique(err) {
		return errReviewExists
	}
	return sqlitedb.Wrap(err)
}

const reviewColumns = `audit_id, reviewer, justified, note, t`

func scanReview(sc interface{ Scan(...any) error }) (review, error) {
	var r review
	var justified int
	var t int64
	if err := sc.Scan(&r.AuditID, &r.Reviewer, &justified, &r.Note, &t); err != nil {
		return review{}, err
	}
	r.Justified, r.T = justified != 0, time.UnixMilli(t).UTC()
	return r, nil
}

func (s *sqliteReviews) walk(ctx context.Context, fn func(review) error) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+reviewColumns+` FROM `+s.n.revs+` ORDER BY audit_id`)
	if err != nil {
		return sqlitedb.Wrap(err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanReview(rows)
		if err != nil {
			return sqlitedb.Wrap(err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return sqlitedb.Wrap(rows.Err())
}

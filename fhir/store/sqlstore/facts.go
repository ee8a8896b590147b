package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// factsSchema is the facts table: code is an ods fact's ODS code or a share
// fact's third party (NULL for other kinds), indexed only where it is set;
// since is when a share begins (0 for other kinds).
var factsSchema = []string{
	`CREATE TABLE IF NOT EXISTS facts (src TEXT NOT NULL, patient TEXT NOT NULL, kind TEXT NOT NULL, org TEXT NOT NULL,
		until INTEGER NOT NULL, code TEXT, since INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (src, patient, kind, org)) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS facts_patient ON facts(patient, kind, org, until)`, // covering: a patient's facts are read from the index alone
	`CREATE INDEX IF NOT EXISTS facts_org ON facts(org, kind, patient, until)`,     // covering too: an organisation's facts
	`CREATE INDEX IF NOT EXISTS facts_kind ON facts(kind, patient, org, until)`,
}

// factsCodeIndex is created after the code column exists (a database of an
// earlier version gains it in setupFacts).
const factsCodeIndex = `CREATE INDEX IF NOT EXISTS facts_code ON facts(code, kind, org) WHERE code IS NOT NULL`

// schemaVersion is the resource database's version (PRAGMA user_version):
// 2 since Organizations have ods facts, 3 since Consents to share with a
// named third party have share facts, 4 since history holds only the
// versions a newer one replaced (and deletions), the current version being
// kept in its head row alone.
const schemaVersion = 4

// historyOnlyReplaced is the version from which history holds no row for
// a current version.
const historyOnlyReplaced = 4

// upgradedTypes are the types whose facts an upgrade from each earlier
// version derives again.
var upgradedTypes = map[int][]string{0: {"Organization", "Consent"}, 1: {"Organization", "Consent"}, 2: {"Consent"}, 3: nil}

// setupFacts creates the facts table, or brings one written by an earlier
// version up to date: it adds the code and since columns, then derives the
// facts of the kinds the database lacks (ods facts of Organizations, share
// facts of Consents), in a transaction that also records the version, so
// that an interrupted upgrade is done again at the next start.
func (s *Store) setupFacts(ctx context.Context) error {
	if err := s.db.Exec(ctx, factsSchema...); err != nil {
		return err
	}
	if err := s.db.Exec(ctx, factsGenSchema...); err != nil {
		return err
	}
	var n, version int
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('facts') WHERE name = 'code'`).Scan(&n); err != nil {
		return s.db.Check(err)
	}
	if n == 0 {
		if err := s.db.Exec(ctx, `ALTER TABLE facts ADD COLUMN code TEXT`); err != nil {
			return err
		}
	}
	if err := s.db.R.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('facts') WHERE name = 'since'`).Scan(&n); err != nil {
		return s.db.Check(err)
	}
	if n == 0 {
		if err := s.db.Exec(ctx, `ALTER TABLE facts ADD COLUMN since INTEGER NOT NULL DEFAULT 0`); err != nil {
			return err
		}
	}
	if err := s.db.Exec(ctx, factsCodeIndex); err != nil {
		return err
	}
	if err := s.db.R.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return s.db.Check(err)
	}
	if version >= schemaVersion {
		return nil
	}
	if version > 0 {
		s.logger.Info("sqlstore: upgrading the resource database", "from", version, "to", schemaVersion)
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, t := range upgradedTypes[version] {
			if err := s.deriveFacts(ctx, tx, t); err != nil {
				return err
			}
		}
		if version < historyOnlyReplaced {
			for _, t := range fhir.ResourceTypes {
				if err := s.dropCurrentFromHistory(ctx, tx, t); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion))
		return err
	})
	return s.db.Check(err)
}

// dropCurrentFromHistory removes from a database written before version 4
// the history rows of type t's current versions (holding no JSON or, earlier
// still, a copy of the head's JSON): the head row alone keeps them now.
func (s *Store) dropCurrentFromHistory(ctx context.Context, tx *sql.Tx, t string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM `+history(t)+` WHERE del = 0 AND EXISTS (SELECT 1 FROM `+heads(t)+
		` h WHERE h.id = `+history(t)+`.id AND h.vid = `+history(t)+`.vid AND h.del = 0)`)
	return err
}

// deriveFacts writes again the facts of every stored resource of type t.
func (s *Store) deriveFacts(ctx context.Context, tx *sql.Tx, t string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, json FROM `+heads(t)+` WHERE del = 0`)
	if err != nil {
		return err
	}
	type res struct {
		id string
		js []byte
	}
	var all []res
	for rows.Next() {
		var r res
		if err := rows.Scan(&r.id, &r.js); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		obj, err := fhir.DecodeObject(r.js)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", t, r.id, err)
		}
		if err := s.writeFacts(ctx, tx, t, r.id, facts.Of(t, obj)); err != nil {
			return err
		}
	}
	return nil
}

// writeFacts replaces the facts of one source resource (none: deleted).
func (s *Store) writeFacts(ctx context.Context, tx *sql.Tx, t, id string, fs []facts.Fact) error {
	return s.replaceFacts(ctx, tx, t, id, fs, true)
}

// replaceFacts is writeFacts; held false says the resource has no facts
// rows to delete (it was never stored, or its deletion removed them).
func (s *Store) replaceFacts(ctx context.Context, tx *sql.Tx, t, id string, fs []facts.Fact, held bool) error {
	if !facts.Establishes(t) {
		return nil
	}
	src := t + "/" + id
	if held {
		if _, err := s.exec(ctx, tx, `DELETE FROM facts WHERE src = ?`, src); err != nil {
			return s.db.Check(err)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	ts, err := s.db.TxStmt(ctx, tx, `INSERT OR IGNORE INTO facts (src, patient, kind, org, until, code, since) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for _, f := range fs {
		var code any
		if f.Code != "" {
			code = f.Code
		}
		if _, err := ts.ExecContext(ctx, src, f.Patient, f.Kind, f.Org, f.Until, code, f.From); err != nil {
			return s.db.Check(err)
		}
	}
	return nil
}

// Facts returns the access facts q selects: one query, of index ranges
// and seeks, grouped in the database (one row per patient, kind and
// organisation, however many encounters make it).
// The answer is remembered until the facts change (factcache.go) and is
// shared: callers must not modify it.
func (s *Store) Facts(ctx context.Context, q facts.Query) ([]facts.Fact, error) {
	return s.cachedFacts(ctx, q, s.lookupFacts)
}

// lookupFacts is Facts from the database.
func (s *Store) lookupFacts(ctx context.Context, q facts.Query) ([]facts.Fact, error) {
	w := &sqlWriter{s: s}
	orgs := func() { w.orgSet(q.ODS, q.Orgs) }
	kinds := q.OrgKinds()
	named := (len(q.Orgs) > 0 || q.ODS != "") && len(kinds) > 0
	const cols = `SELECT patient, kind, org, max(until), '', 0 FROM facts WHERE `
	const group = ` GROUP BY patient, kind, org`
	// part starts the next SELECT of the compound query.
	parts := 0
	part := func(sel string) {
		if parts > 0 {
			w.b.WriteString(" UNION ALL ")
		}
		parts++
		w.b.WriteString(sel)
	}
	if len(q.Patients) > 0 {
		// A patient's objections, then a seek per (kind, patient,
		// organisation): the facts naming the organisations, however
		// many others the patient has.
		if q.Wants(facts.Objection) {
			part(cols)
			w.in("patient", strs(q.Patients))
			w.b.WriteString(" AND kind = 'objection'" + group)
		}
		if named {
			part(cols)
			w.in("kind", strs(kinds))
			w.b.WriteString(" AND ")
			w.in("patient", strs(q.Patients))
			w.b.WriteString(" AND org IN ")
			orgs()
			w.b.WriteString(group)
		}
	} else {
		// Index ranges, not an OR (whose de-duplication cost more than
		// reading them); objections name no organisation, so the parts
		// never overlap.
		if q.Wants(facts.Objection) {
			part(cols + "kind = 'objection'" + group)
		}
		if named {
			part(cols)
			w.in("kind", strs(kinds))
			w.b.WriteString(" AND org IN ")
			orgs()
			w.b.WriteString(" GROUP BY org, kind, patient")
		}
	}
	if q.ODS != "" {
		part(`SELECT DISTINCT patient, kind, org, until, code, 0 FROM facts WHERE code = ? AND kind = 'ods'`)
		w.args = append(w.args, q.ODS)
	}
	if shareKinds := wanted(q, facts.ShareKinds); q.Actor != "" && len(shareKinds) > 0 {
		// The third party's shares: a seek on the code index.
		part(`SELECT DISTINCT patient, kind, org, until, code, since FROM facts WHERE code = ? AND `)
		w.args = append(w.args, q.Actor)
		w.in("kind", strs(shareKinds))
		if len(q.Patients) > 0 {
			w.b.WriteString(" AND ")
			w.in("patient", strs(q.Patients))
		}
	}
	if parts == 0 {
		return nil, nil // nothing asked for
	}
	rows, err := s.query(ctx, w.b.String(), w.args...)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []facts.Fact
	for rows.Next() {
		var f facts.Fact
		if err := rows.Scan(&f.Patient, &f.Kind, &f.Org, &f.Until, &f.Code, &f.From); err != nil {
			return nil, s.db.Check(err)
		}
		out = append(out, f)
	}
	return out, s.db.Check(rows.Err())
}

// wanted are the kinds among ks that q selects.
func wanted(q facts.Query, ks []string) []string {
	var out []string
	for _, k := range ks {
		if q.Wants(k) {
			out = append(out, k)
		}
	}
	return out
}

// JoinsFacts reports that the engine tests membership of a fact set
// (cond.InFacts) in the query itself, as a subquery of the facts.
func (s *Store) JoinsFacts() bool { return true }

// orgSet writes the set of organisations named: orgs and those with the
// ODS code.
func (w *sqlWriter) orgSet(ods string, orgs []string) {
	if ods != "" {
		w.b.WriteString("(SELECT org FROM facts WHERE code = ? AND kind = 'ods'")
		w.args = append(w.args, ods)
		for _, o := range orgs {
			w.b.WriteString(" UNION ALL SELECT ?")
			w.args = append(w.args, o)
		}
		w.b.WriteString(")")
		return
	}
	w.b.WriteString("(")
	for i, o := range orgs {
		if i > 0 {
			w.b.WriteString(", ")
		}
		w.b.WriteString("?")
		w.args = append(w.args, o)
	}
	w.b.WriteString(")")
}

// inFacts writes the patient attribute's membership of a fact set, as a
// subquery of the facts kept beside the resources: the set is never
// listed, however long the caseload.
func (w *sqlWriter) inFacts(n *cond.Node) error {
	if n.Field != cond.AccessPatient || n.Set == nil || len(n.Set.Kinds) == 0 {
		return fmt.Errorf("sqlstore: a fact set is tested on the patient attribute only, with kinds of fact")
	}
	w.b.WriteString("h.a_pat IN (SELECT patient FROM facts WHERE ")
	w.in("kind", strs(n.Set.Kinds))
	if n.Set.ODS != "" || len(n.Set.Orgs) > 0 {
		w.b.WriteString(" AND org IN ")
		w.orgSet(n.Set.ODS, n.Set.Orgs)
	}
	if n.Set.Since > 0 {
		w.b.WriteString(" AND (until = 0 OR until > ?)")
		w.args = append(w.args, n.Set.Since)
	}
	w.b.WriteString(")")
	return nil
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

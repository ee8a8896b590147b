package sqlstore

import (
	"context"
	"database/sql"

	"github.com/socialcare-fhir/gateway/fhir/facts"
)

var factsSchema = []string{
	`CREATE TABLE IF NOT EXISTS facts (src TEXT NOT NULL, patient TEXT NOT NULL, kind TEXT NOT NULL, org TEXT NOT NULL,
		until INTEGER NOT NULL, PRIMARY KEY (src, patient, kind, org)) WITHOUT ROWID`,
	`CREATE INDEX IF NOT EXISTS facts_patient ON facts(patient, kind, org, until)`, // covering: a patient's facts are read from the index alone
	`CREATE INDEX IF NOT EXISTS facts_org ON facts(org, kind, patient, until)`,     // covering too: an organisation's facts
	`CREATE INDEX IF NOT EXISTS facts_kind ON facts(kind, patient, org, until)`,
}

// writeFacts replaces the facts of one source resource (none: deleted).
func (s *Store) writeFacts(ctx context.Context, tx *sql.Tx, t, id string, fs []facts.Fact) error {
	if !facts.Establishes(t) {
		return nil
	}
	src := t + "/" + id
	if _, err := s.exec(ctx, tx, `DELETE FROM facts WHERE src = ?`, src); err != nil {
		return s.db.Check(err)
	}
	if len(fs) == 0 {
		return nil
	}
	st, err := s.wstmts.get(ctx, `INSERT OR IGNORE INTO facts (src, patient, kind, org, until) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	ts := tx.StmtContext(ctx, st)
	for _, f := range fs {
		if _, err := ts.ExecContext(ctx, src, f.Patient, f.Kind, f.Org, f.Until); err != nil {
			return s.db.Check(err)
		}
	}
	return nil
}

// Facts returns the access facts q selects: one indexed query.
func (s *Store) Facts(ctx context.Context, q facts.Query) ([]facts.Fact, error) {
	w := &sqlWriter{s: s}
	w.b.WriteString(`SELECT patient, kind, org, until FROM facts WHERE `)
	if len(q.Patients) > 0 {
		// By patient; the unary + keeps the kind and organisation indexes
		// out of it (they would read every objection and every fact of the
		// organisation).
		w.in("patient", strs(q.Patients))
		w.b.WriteString(" AND (+kind = 'objection'")
		if len(q.Orgs) > 0 {
			w.b.WriteString(" OR ")
			w.in("+org", strs(q.Orgs))
		}
		w.b.WriteString(")")
	} else {
		// Two index ranges, not an OR (whose de-duplication cost more than
		// reading them); objections name no organisation, so the two never
		// overlap.
		w.b.WriteString("kind = 'objection'")
		if len(q.Orgs) > 0 {
			w.b.WriteString(` UNION ALL SELECT patient, kind, org, until FROM facts WHERE +kind <> 'objection' AND `)
			w.in("org", strs(q.Orgs))
		}
	}
	rows, err := s.query(ctx, w.b.String(), w.args...)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []facts.Fact
	for rows.Next() {
		var f facts.Fact
		if err := rows.Scan(&f.Patient, &f.Kind, &f.Org, &f.Until); err != nil {
			return nil, s.db.Check(err)
		}
		out = append(out, f)
	}
	return out, s.db.Check(rows.Err())
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// A token is stored as its codes (c), its system|code pairs (sc) and its
// systems (s), and a quantity as its value (v), unit codes (c) and
// system|code pairs (sc). The engine leaves out what an sc row already
// says:
//   - an s row for a system that has a code (the system is the prefix of
//     that code's sc row); only a system with no code (an identifier with
//     a system and no value, say) keeps its s row. A search for a system
//     (`code=http://snomed.info/sct|`) asks for both.
//   - a c row for a code that has an sc row: "|code" for a code given with
//     no system, "system|code" for one with. The systems whose sc rows so
//     stand for c rows are listed once per type and field in the
//     token_systems table, and a search for a code with any system
//     (`code=123`) asks for the sc rows "|123" and "system|123" of every
//     system listed for its field, and for the c row, which only a
//     quantity's unit text (with no sc row) and rows written before have.
//
// A coded token so writes one or two index rows fewer (a third of a
// resource's rows). Rows written before keep their s and c rows, which
// the same searches still find.

// systemsSchema lists, per type and token field, the systems whose sc rows
// stand for codes no c row holds.
const systemsSchema = `CREATE TABLE IF NOT EXISTS token_systems (t TEXT NOT NULL, f TEXT NOT NULL, s TEXT NOT NULL, PRIMARY KEY (t, f, s)) WITHOUT ROWID`

// compactToken is a token's (or quantity's) stored form without the s and
// c values an sc value implies, and the systems of the sc values that
// stand for the c values left out ("" apart, which needs no listing).
func compactToken(v any) (any, []string) {
	m, ok := v.(bson.M)
	if !ok {
		return v, nil
	}
	codes, _ := m["sc"].([]string)
	var out bson.M // m's copy, once something is left out
	replace := func(k string, kept []string, n int) {
		if len(kept) == n {
			return
		}
		if out == nil {
			out = bson.M{}
			for k, x := range m {
				out[k] = x
			}
		}
		if len(kept) == 0 {
			delete(out, k)
		} else {
			out[k] = kept
		}
	}
	systems, _ := m["s"].([]string)
	var relied []string
	if cs, ok := m["c"].([]string); ok {
		var kept []string
		for _, c := range cs {
			implied := slices.Contains(codes, "|"+c)
			for _, sys := range systems {
				if sys != "" && slices.Contains(codes, sys+"|"+c) {
					implied = true
					if !slices.Contains(relied, sys) {
						relied = append(relied, sys)
					}
				}
			}
			if !implied {
				kept = append(kept, c)
			}
		}
		replace("c", kept, len(cs))
	}
	if systems != nil {
		var kept []string
		for _, s := range systems {
			if !slices.ContainsFunc(codes, func(sc string) bool { return strings.HasPrefix(sc, s+"|") }) {
				kept = append(kept, s)
			}
		}
		replace("s", kept, len(systems))
	}
	if out == nil {
		return v, relied
	}
	return out, relied
}

// tokenSystems remembers which token_systems rows are committed, so that a
// write inserts only those missing; searches read the table itself.
type tokenSystems struct {
	mu    sync.Mutex
	known map[[3]string]bool // (type, field, system) committed
	stale bool               // rows were inserted since known was read
	txn   uint64             // the transaction pending is of
	// pending are the rows inserted in transaction txn, not to insert
	// again before it commits.
	pending map[[3]string]bool
}

// noteSystems inserts into token_systems the (field, system) pairs of a
// type t's resource that are not known to be there, in tx.
func (s *Store) noteSystems(ctx context.Context, tx *sql.Tx, t string, pairs [][2]string) error {
	if len(pairs) == 0 {
		return nil
	}
	ts := &s.tokenSystems
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if n := s.db.TxNumber(); n != ts.txn {
		ts.txn, ts.pending = n, map[[3]string]bool{}
	}
	var missing [][3]string
	for _, p := range pairs {
		k := [3]string{t, p[0], p[1]}
		if !ts.known[k] && !ts.pending[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && ts.stale {
		// What the readers see is committed: rows of an earlier
		// transaction now, never this one's.
		known, err := s.readSystems(ctx)
		if err != nil {
			return err
		}
		ts.known, ts.stale = known, false
		missing = slices.DeleteFunc(missing, func(k [3]string) bool { return known[k] })
	}
	for _, k := range missing {
		if _, err := s.exec(ctx, tx, `INSERT OR IGNORE INTO token_systems (t, f, s) VALUES (?, ?, ?)`, k[0], k[1], k[2]); err != nil {
			return s.db.Check(err)
		}
		ts.pending[k] = true
		ts.stale = true
	}
	return nil
}

func (s *Store) readSystems(ctx context.Context) (map[[3]string]bool, error) {
	rows, err := s.query(ctx, `SELECT t, f, s FROM token_systems`)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	out := map[[3]string]bool{}
	for rows.Next() {
		var k [3]string
		if err := rows.Scan(&k[0], &k[1], &k[2]); err != nil {
			return nil, s.db.Check(err)
		}
		out[k] = true
	}
	return out, s.db.Check(rows.Err())
}

// systemsOf lists the systems whose sc rows stand for codes of type t's
// token field (the field's name without .c).
func (s *Store) systemsOf(ctx context.Context, t, field string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT s FROM token_systems WHERE t = ? AND f = ?`, t, field)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sys string
		if err := rows.Scan(&sys); err != nil {
			return nil, s.db.Check(err)
		}
		out = append(out, sys)
	}
	return out, s.db.Check(rows.Err())
}

// impliedByCode rewrites the conditions on a token's systems (field.s) and
// codes (field.c) of type t to what the rows hold (see compactToken): for
// a system, some sc row starting with "system|" or an s row; for a code,
// the sc row "|code" or "system|code" of a system listed for the field,
// or a c row.
func (s *Store) impliedByCode(ctx context.Context, t string, n *cond.Node) (*cond.Node, error) {
	switch n.Op {
	case cond.And, cond.Or, cond.Not:
		var kids []*cond.Node
		changed := false
		for _, k := range n.Kids {
			r, err := s.impliedByCode(ctx, t, k)
			if err != nil {
				return nil, err
			}
			changed = changed || r != k
			kids = append(kids, r)
		}
		if !changed {
			return n, nil
		}
		c := *n
		c.Kids = kids
		return &c, nil
	}
	if !strings.HasPrefix(n.Field, "sp.") {
		return n, nil
	}
	if base, ok := strings.CutSuffix(n.Field, ".s"); ok {
		one := func(v any) *cond.Node {
			sys, ok := v.(string)
			if !ok {
				return cond.Is(n.Field, v)
			}
			return cond.AnyOf(cond.Compare(base+".sc", cond.Prefix, sys+"|"), cond.Is(n.Field, sys))
		}
		switch n.Op {
		case cond.Eq:
			return one(n.Value), nil
		case cond.In:
			var alts []*cond.Node
			for _, v := range n.Values {
				alts = append(alts, one(v))
			}
			return cond.AnyOf(alts...), nil
		case cond.Exists:
			return cond.AnyOf(cond.Present(base+".sc"), n), nil
		}
		return n, nil
	}
	base, ok := strings.CutSuffix(n.Field, ".c")
	if !ok {
		return n, nil
	}
	var codes []any
	switch n.Op {
	case cond.Eq:
		codes = []any{n.Value}
	case cond.In:
		codes = n.Values
	case cond.Exists:
		return cond.AnyOf(cond.Present(base+".sc"), n), nil
	default:
		return n, nil
	}
	systems, err := s.systemsOf(ctx, t, base)
	if err != nil {
		return nil, err
	}
	var pairs []any
	for _, v := range codes {
		if c, ok := v.(string); ok {
			pairs = append(pairs, "|"+c)
			for _, sys := range systems {
				pairs = append(pairs, sys+"|"+c)
			}
		}
	}
	return cond.AnyOf(cond.OneOf(base+".sc", pairs), cond.OneOf(n.Field, codes)), nil
}

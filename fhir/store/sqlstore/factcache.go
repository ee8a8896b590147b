package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// The access facts change far less often than they are read: every read
// of a GP or a trust asks for its patient's facts, and a write that
// changes a relationship is rare. So Facts answers from memory while the
// facts are unchanged, and asks the database otherwise.
//
// "Unchanged" is decided by the database, not by this process: triggers
// count every change to the facts table in facts_gen, in the transaction
// that makes it, so a change by another process on the same file (a
// `gateway import` beside a running gateway) is seen as surely as one of
// this process. A lookup reads the count first (one row, one page) and
// uses what it remembered only if the count is the one it was computed
// under. Facts computed while a change commits are remembered under the
// older count, so they are never served after it.
var factsGenSchema = []string{
	`CREATE TABLE IF NOT EXISTS facts_gen (k INTEGER PRIMARY KEY CHECK (k = 0), n INTEGER NOT NULL)`,
	`INSERT OR IGNORE INTO facts_gen (k, n) VALUES (0, 0)`,
	`CREATE TRIGGER IF NOT EXISTS facts_gen_insert AFTER INSERT ON facts BEGIN UPDATE facts_gen SET n = n + 1 WHERE k = 0; END`,
	`CREATE TRIGGER IF NOT EXISTS facts_gen_delete AFTER DELETE ON facts BEGIN UPDATE facts_gen SET n = n + 1 WHERE k = 0; END`,
	`CREATE TRIGGER IF NOT EXISTS facts_gen_update AFTER UPDATE ON facts BEGIN UPDATE facts_gen SET n = n + 1 WHERE k = 0; END`,
}

// maxCachedFacts bounds the facts remembered (about 250 bytes each in
// memory): when a new answer would pass it, everything remembered is
// dropped.
const maxCachedFacts = 200_000

// factCache remembers Facts answers under the change count they were
// read at.
type factCache struct {
	mu      sync.Mutex
	gen     int64
	held    int
	answers map[string][]facts.Fact
}

// factsGen reads the change count of the facts.
func (s *Store) factsGen(ctx context.Context) (int64, error) {
	var n int64
	if err := s.row(ctx, `SELECT n FROM facts_gen WHERE k = 0`).Scan(&n); err != nil {
		return 0, s.db.Check(err)
	}
	return n, nil
}

// cachedFacts is the answer to q: remembered if the facts have not changed
// since it was read, otherwise read by lookup and remembered. The answer
// is shared: callers must not modify it.
//
// Only the answers about one patient or none (a read's, a search pinned
// to its patient, the caller's organisation) are remembered: those are
// asked again and again. A page's patients are a different set on every
// page, so remembering them only crowded the rest out (an export of
// 1,000,000 resources held up to 140 MB of them).
func (s *Store) cachedFacts(ctx context.Context, q facts.Query, lookup func(context.Context, facts.Query) ([]facts.Fact, error)) ([]facts.Fact, error) {
	if len(q.Patients) > 1 {
		return lookup(ctx, q)
	}
	gen, err := s.factsGen(ctx)
	if err != nil {
		return nil, err
	}
	key := factsKey(q)
	c := &s.facts
	c.mu.Lock()
	if c.gen == gen {
		if fs, ok := c.answers[key]; ok {
			c.mu.Unlock()
			return fs, nil
		}
	}
	c.mu.Unlock()
	fs, err := lookup(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen > c.gen || c.answers == nil {
		c.gen, c.held, c.answers = gen, 0, map[string][]facts.Fact{}
	}
	if gen == c.gen {
		if c.held+len(fs) > maxCachedFacts {
			c.held, c.answers = 0, map[string][]facts.Fact{}
		}
		if len(fs) <= maxCachedFacts {
			c.answers[key] = fs
			c.held += len(fs)
		}
	}
	return fs, nil
}

// factsKey names q: each list's length, then its items, so that no two
// queries share a key.
func factsKey(q facts.Query) string {
	var b strings.Builder
	list := func(ss []string) {
		b.WriteString(strconv.Itoa(len(ss)))
		for _, s := range ss {
			b.WriteByte(0)
			b.WriteString(s)
		}
		b.WriteByte(1)
	}
	list(q.Patients)
	list(q.Orgs)
	list(q.Kinds)
	b.WriteString(q.ODS)
	b.WriteByte(0)
	b.WriteString(q.Actor)
	return b.String()
}

// Package sqlstore is the embedded storage engine: FHIR resources in one
// SQLite file (modernc.org/sqlite, pure Go; see package sqlitedb), with
// versions, history and indexed search. It keeps the same contract as the
// MongoDB engine (package store), and the store contract suite
// (store/storetest) runs on both.
//
// The file's pages are 8 KB (pageSize; a file made before keeps 4 KB).
// Layout, per resource type T:
//
//	"T"          one row per resource: its current version (rid, id, vid,
//	             lu, del, content hash h, the FHIR JSON), the access
//	             attributes the policy's restriction tests (a_pat, a_cat,
//	             a_sec, a_org), and one column per date search parameter's
//	             sort key (s_<param>_a, s_<param>_d), each indexed with id
//	             for ordered pages
//	"T_ix"       the search index: (f, v, r) rows, one per stored field f
//	             (the names of package cond: "pat", "acl.pat",
//	             "sp.code.sc", ...) and value v of the resource with rowid r;
//	             primary key (f, v, r), so every equality, membership, range
//	             and prefix is an index range, and an index on (r, f) so a
//	             candidate row is checked by one probe per condition; a
//	             patient reference several fields hold is one row under a
//	             shared field name (shared.go), and a token's rows leave out
//	             what its system|code rows say (systems.go)
//	"T_history"  the versions a newer one replaced, and the deletions (id,
//	             vid, lu, del, JSON), keyed (id, vid) and indexed by (lu,
//	             id, vid); the current version is kept once, in T, and goes
//	             into history in the transaction that replaces it, so a
//	             new resource writes no history row. Every version is T's
//	             current ones and T_history together (versions(T)), each
//	             read through its own indexes. A database written before
//	             (a history row for the current version too) loses those
//	             rows when it is opened (schema version 4).
//
// and two tables for every type: "token_systems", the (type, field,
// system) triples whose system|code rows stand for codes no c row holds
// (systems.go), and "facts": the access facts (package facts)
// of the current version of each resource that establishes them, keyed by
// source ("Type/id"), indexed by patient and by organisation. They are
// written in the transaction that writes the resource and deleted with it.
//
// A write is one transaction on the single writer connection: the current
// version is read, If-Match is checked, the version it replaces goes into
// history, the head and its index rows are written, and the transaction commits with a full fsync
// before the write is acknowledged. Version claims need no compare-and-set
// dance: the transaction is the claim.
//
// A search is one SELECT. Its conditions (the query's, the policy's
// restriction, the keyset cursor) become one cond tree, emitted as SQL:
// each leaf an EXISTS probe into T_ix. The most selective equality or
// membership at the top of the conjunction drives the query (its index
// range lists the candidate rows), chosen by counting each candidate's
// matches up to a cap; when every candidate is large, rows are walked in
// the page's order from the sort index and probed until the page is full.
package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// FileName is the resource database's file in the data directory.
const FileName = "fhir.db"

// Store is the SQLite persistence of FHIR resources.
type Store struct {
	db     *sqlitedb.DB
	logger *slog.Logger
	now    func() time.Time
	// sorts are each type's sort-key columns by stored field name
	// ("sp._sort.date.a" -> "s_date_a").
	sorts map[string]map[string]string
	// shared are each type's fields whose common values share index rows
	// (see sharedFields).
	shared map[string]sharedFields
	// facts remembers Facts answers while the facts are unchanged.
	facts factCache
	// tokenSystems remembers the committed rows of token_systems.
	tokenSystems tokenSystems
}

// Options configure Open.
type Options struct {
	Logger *slog.Logger
	// Clock stamps meta.lastUpdated (default time.Now); tests set it.
	Clock func() time.Time
}

// pageSize is the page size of a resource database Open creates: the
// search index's B-trees take rows at random keys, and with pages of 8 KB
// instead of 4 KB a commit writes fewer WAL frames and splits fewer pages
// (a 100,000-resource import took 17.9-21.6 s instead of 22.2-24.1 s in
// three alternating runs, the file 6% smaller; 16 KB was no better). A
// database created before keeps its 4 KB pages.
const pageSize = 8192

// writerCache is the writer's page cache once the file passes twice
// its size (sqlitedb.WriterCache): a million-resource import took 385 s
// instead of 455 s (a third less time in the kernel; peak memory 1.6 GB
// instead of 0.97 GB), run after run in one hour.
const writerCache = 512 << 20

// Open opens (creating if needed) the resource database in dir and makes
// sure every table and index exists.
func Open(ctx context.Context, dir string, opt Options) (*Store, error) {
	db, err := sqlitedb.Open(filepath.Join(dir, FileName), sqlitedb.PageSize(pageSize), sqlitedb.WriterCache(writerCache))
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db, opt)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// New uses an open database (the caller closes it).
func New(ctx context.Context, db *sqlitedb.DB, opt Options) (*Store, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	s := &Store{db: db, logger: opt.Logger, now: opt.Clock, sorts: map[string]map[string]string{}, shared: map[string]sharedFields{}}
	for _, t := range fhir.ResourceTypes {
		cols := map[string]string{}
		for _, k := range search.IndexKeys(t) {
			if strings.HasPrefix(k, "sp._sort.") {
				cols[k] = "s_" + strings.NewReplacer(".", "_", "-", "_").Replace(strings.TrimPrefix(k, "sp._sort."))
			}
		}
		s.sorts[t] = cols
		s.shared[t] = sharedFieldsOf(t)
		if err := s.ensureSchema(ctx, t); err != nil {
			return nil, fmt.Errorf("sqlstore: schema of %s: %w", t, err)
		}
	}
	if err := s.db.Exec(ctx, systemsSchema); err != nil {
		return nil, fmt.Errorf("sqlstore: schema of the token systems: %w", err)
	}
	if err := s.setupFacts(ctx); err != nil {
		return nil, fmt.Errorf("sqlstore: schema of the access facts: %w", err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close(context.Context) error {
	return s.db.Close()
}

// DB is the underlying database.
func (s *Store) DB() *sqlitedb.DB { return s.db }

// Ping reports whether the database is readable.
func (s *Store) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

func heads(t string) string   { return `"` + t + `"` }
func index(t string) string   { return `"` + t + `_ix"` }
func history(t string) string { return `"` + t + `_history"` }

func (s *Store) ensureSchema(ctx context.Context, t string) error {
	var cols, idx []string
	for _, c := range sortedValues(s.sorts[t]) {
		cols = append(cols, ", "+c+" INTEGER")
		idx = append(idx, fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s_%s" ON %s(%s, id)`, t, c, heads(t), c))
	}
	stmts := []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, vid INTEGER NOT NULL,
			lu INTEGER NOT NULL, del INTEGER NOT NULL, h TEXT NOT NULL, json BLOB NOT NULL,
			a_pat TEXT NOT NULL DEFAULT '', a_cat TEXT NOT NULL DEFAULT '', a_sec TEXT NOT NULL DEFAULT '', a_org TEXT NOT NULL DEFAULT ''%s)`, heads(t), strings.Join(cols, "")),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s_lu" ON %s(lu, id)`, t, heads(t)),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (f TEXT NOT NULL, v NOT NULL, r INTEGER NOT NULL, PRIMARY KEY (f, v, r)) WITHOUT ROWID`, index(t)),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s_ix_r" ON %s(r, f)`, t, index(t)),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (id TEXT NOT NULL, vid INTEGER NOT NULL, lu INTEGER NOT NULL, del INTEGER NOT NULL,
			json BLOB NOT NULL, PRIMARY KEY (id, vid))`, history(t)),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s_history_lu" ON %s(lu, id, vid)`, t, history(t)),
	}
	return s.db.Exec(ctx, append(stmts, idx...)...)
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slicesSort(out)
	return out
}

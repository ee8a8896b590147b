package ingest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Every statement of the SQLite journal finds its rows through an index
// (or the primary key) and sorts nothing: no table scan, no temporary
// B-tree, however many applied receipts accumulate.
func TestSQLiteJournalQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newSQLiteState(db)
	if err := s.setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.setup(ctx); err != nil { // idempotent
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		args  int
		want  string // the index it must use
	}{
		{sqlPendingAll, 0, "ingest_journal_pending"},
		{sqlPendingBefore, 1, "ingest_journal_pending"},
		{sqlPendingKey, 1, "ingest_journal_pending_key"},
		{sqlPendingKeyBefore, 2, "ingest_journal_pending_key"},
		{sqlPendingJournal, 1, "sqlite_autoindex_ingest_journal_1"},
		{sqlMarkApplied, 2, "sqlite_autoindex_ingest_journal_1"},
		{sqlUpdateJob, 8, "sqlite_autoindex_ingest_jobs_1"},
		{sqlJob, 1, "sqlite_autoindex_ingest_jobs_1"},
		{sqlJobIDs, 0, "sqlite_autoindex_ingest_jobs_1"},
	} {
		args := make([]any, tc.args)
		for n := range args {
			args[n] = "x"
		}
		rows, err := db.R.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.query, args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "INDEX "+tc.want) || strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s\nwant %s and no sort", tc.query, joined, tc.want)
		}
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, " USING ") {
				t.Errorf("%s\nscans a table: %s", tc.query, step)
			}
		}
	}
}

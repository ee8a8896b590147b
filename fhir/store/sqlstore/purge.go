package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Purge removes a resource for good, for a disposal under the retention
// schedule (package retention): its head row, every version in history,
// its search-index rows and its access facts, in one transaction with
// SQLite's secure_delete on, so the freed pages are overwritten with
// zeros rather than left readable in the file. After the commit the
// write-ahead log is checkpointed and truncated (best effort: a reader
// holding an old snapshot can delay it to the next checkpoint), so the
// old pages leave the WAL too. It returns how many versions it removed;
// fhir.ErrNotFound when the resource never existed (or is purged
// already).
func (s *Store) Purge(ctx context.Context, resourceType, id string) (int, error) {
	if !fhir.Supported(resourceType) {
		return 0, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
	}
	var n int
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = 1`); err != nil {
			return s.db.Check(err)
		}
		defer func() { _, _ = tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = 0`) }()
		cur, err := s.head(ctx, tx, resourceType, id)
		if err != nil {
			return err
		}
		if cur != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+index(resourceType)+` WHERE r = ?`, cur.rid); err != nil {
				return s.db.Check(err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+heads(resourceType)+` WHERE rid = ?`, cur.rid); err != nil {
				return s.db.Check(err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM `+history(resourceType)+` WHERE id = ?`, id)
		if err != nil {
			return s.db.Check(err)
		}
		removed, _ := res.RowsAffected()
		n = int(removed)
		if cur != nil && !cur.deleted {
			n++ // the current version, kept only in its head row
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM facts WHERE src = ?`, resourceType+"/"+id); err != nil {
			return s.db.Check(err)
		}
		if cur == nil && n == 0 {
			return fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	_ = s.db.Exec(context.WithoutCancel(ctx), `PRAGMA wal_checkpoint(TRUNCATE)`)
	return n, nil
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// Read returns the current version of a resource: fhir.ErrNotFound when it
// never existed, fhir.ErrGone (with the deletion version) when deleted.
func (s *Store) Read(ctx context.Context, resourceType, id string) (*store.Version, error) {
	if !fhir.Supported(resourceType) {
		return nil, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
	}
	v, err := s.readHead(ctx, s.row, resourceType, id)
	if err != nil {
		return nil, err
	}
	if v.Deleted {
		return v, fmt.Errorf("%w: %s/%s", fhir.ErrGone, resourceType, id)
	}
	return v, nil
}

// VRead returns one version of a resource. A version that records a
// deletion is returned with fhir.ErrGone.
func (s *Store) VRead(ctx context.Context, resourceType, id string, vid int64) (*store.Version, error) {
	if !fhir.Supported(resourceType) {
		return nil, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
	}
	v := &store.Version{Type: resourceType, ID: id, VersionID: vid}
	var lu int64
	err := s.row(ctx, `SELECT x.lu, x.del, x.json FROM `+versions(resourceType)+` x WHERE x.id = ? AND x.vid = ?`, id, vid).
		Scan(&lu, &v.Deleted, &v.JSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s/%s has no version %d", fhir.ErrNotFound, resourceType, id, vid)
	}
	if err != nil {
		return nil, s.db.Check(err)
	}
	v.LastUpdated = time.UnixMilli(lu).UTC()
	if v.Deleted {
		v.JSON = nil
		return v, fmt.Errorf("%w: %s/%s version %d is a deletion", fhir.ErrGone, resourceType, id, vid)
	}
	return v, nil
}

// History returns the versions of one resource (id set) or of every
// resource of a type (id empty), newest first, at most opt.Count, and
// whether more follow. Deletions are included with Deleted set.
func (s *Store) History(ctx context.Context, resourceType, id string, opt store.HistoryOptions) ([]*store.Version, bool, error) {
	if id != "" {
		if _, err := s.readHead(ctx, s.row, resourceType, id); err != nil {
			return nil, false, err
		}
	}
	var where []string
	var args []any
	if id != "" {
		where = append(where, "x.id = ?")
		args = append(args, id)
	}
	if !opt.Since.IsZero() {
		where = append(where, "x.lu >= ?")
		args = append(args, opt.Since.UnixMilli())
	}
	if b := opt.Before; b != nil {
		lu := b.LastUpdated.UnixMilli()
		where = append(where, "x.lu <= ? AND (x.lu < ? OR (x.lu = ? AND (x.id < ? OR (x.id = ? AND x.vid < ?))))")
		args = append(args, lu, lu, lu, b.ID, b.ID, b.VersionID)
	}
	q := `SELECT x.id, x.vid, x.lu, x.del, x.json FROM ` + versions(resourceType) + ` x`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY x.lu DESC, x.id DESC, x.vid DESC LIMIT ?"
	args = append(args, opt.Count+1)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, s.db.Check(err)
	}
	defer rows.Close()
	var out []*store.Version
	for rows.Next() {
		v := &store.Version{Type: resourceType}
		var lu int64
		if err := rows.Scan(&v.ID, &v.VersionID, &lu, &v.Deleted, &v.JSON); err != nil {
			return nil, false, s.db.Check(err)
		}
		v.LastUpdated = time.UnixMilli(lu).UTC()
		if v.Deleted {
			v.JSON = nil
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, s.db.Check(err)
	}
	more := len(out) > opt.Count
	if more {
		out = out[:opt.Count]
	}
	return out, more, nil
}

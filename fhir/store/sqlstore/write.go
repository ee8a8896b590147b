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
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// current is a head row's version facts.
type current struct {
	rid     int64
	vid     int64
	deleted bool
	hash    string
}

// Create stores res as a new resource with a server-assigned id.
func (s *Store) Create(ctx context.Context, res *fhir.Resource) (*store.Version, error) {
	var v *store.Version
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for range 8 {
			id := store.NewID()
			cur, err := s.head(ctx, tx, res.Type, id)
			if err != nil {
				return err
			}
			if cur != nil {
				continue
			}
			v, err = s.put(ctx, tx, res, id, nil)
			return err
		}
		return errors.New("sqlstore: could not allocate a unique id")
	})
	return v, err
}

// Update stores res under res.ID, creating it if it does not exist.
// ifMatch, when non-zero, is the version the client expects to replace,
// or store.Absent (no live version expected): a different current
// version is fhir.ErrVersionConflict.
func (s *Store) Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (store.WriteResult, error) {
	var wr store.WriteResult
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		wr, err = s.update(ctx, tx, res, ifMatch)
		return err
	})
	if err != nil {
		return store.WriteResult{}, err
	}
	return wr, nil
}

// UpdateAll stores resources in order, as Update without If-Match does,
// in one transaction: all of them or, on any error, none.
func (s *Store) UpdateAll(ctx context.Context, resources []*fhir.Resource) ([]store.WriteResult, error) {
	out := make([]store.WriteResult, len(resources))
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, r := range resources {
			wr, err := s.update(ctx, tx, r, 0)
			if err != nil {
				return err
			}
			out[i] = wr
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) update(ctx context.Context, tx *sql.Tx, res *fhir.Resource, ifMatch int64) (store.WriteResult, error) {
	cur, err := s.head(ctx, tx, res.Type, res.ID)
	if err != nil {
		return store.WriteResult{}, err
	}
	switch {
	case ifMatch == store.Absent:
		if cur != nil && !cur.deleted {
			return store.WriteResult{}, fmt.Errorf("%w: %s/%s was created by another client", fhir.ErrVersionConflict, res.Type, res.ID)
		}
	case cur == nil && ifMatch != 0:
		return store.WriteResult{}, fmt.Errorf("%w: %s/%s does not exist", fhir.ErrVersionConflict, res.Type, res.ID)
	case cur != nil && ifMatch > 0 && cur.vid != ifMatch:
		return store.WriteResult{}, fmt.Errorf("%w: %s/%s is at version %d, not %d", fhir.ErrVersionConflict, res.Type, res.ID, cur.vid, ifMatch)
	}
	res.Object["id"] = res.ID
	if cur != nil && !cur.deleted {
		hash, err := store.ContentHash(res.Object)
		if err != nil {
			return store.WriteResult{}, err
		}
		if hash == cur.hash {
			v, err := s.readHead(ctx, tx, res.Type, res.ID)
			if err != nil {
				return store.WriteResult{}, err
			}
			return store.WriteResult{Version: v, Unchanged: true}, nil
		}
	}
	v, err := s.put(ctx, tx, res, res.ID, cur)
	if err != nil {
		return store.WriteResult{}, err
	}
	return store.WriteResult{Version: v, Created: cur == nil || cur.deleted}, nil
}

// put writes the next version of res (after cur, nil for a new resource):
// history row, head row, index rows.
func (s *Store) put(ctx context.Context, tx *sql.Tx, res *fhir.Resource, id string, cur *current) (*store.Version, error) {
	res.Object["id"] = id
	res.ID = id
	hash, err := store.ContentHash(res.Object)
	if err != nil {
		return nil, err
	}
	vid := int64(1)
	if cur != nil {
		vid = cur.vid + 1
	}
	lu := s.stampTime()
	js, err := store.Stamp(res.Object, id, vid, lu)
	if err != nil {
		return nil, err
	}
	ix := s.indexOf(res.Type, res.Object)
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+history(res.Type)+` (id, vid, lu, del, json) VALUES (?, ?, ?, 0, ?)`,
		id, vid, lu.UnixMilli(), js); err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	cols := sortedValues(s.sorts[res.Type])
	args := []any{id, vid, lu.UnixMilli(), hash, js}
	for _, c := range cols {
		if v, ok := ix.sorts[c]; ok {
			args = append(args, v)
		} else {
			args = append(args, nil)
		}
	}
	var rid int64
	if cur == nil {
		q := `INSERT INTO ` + heads(res.Type) + ` (id, vid, lu, del, h, json` + prefixed(", ", cols) + `) VALUES (?, ?, ?, 0, ?, ?` +
			strings.Repeat(", ?", len(cols)) + `) RETURNING rid`
		if err := tx.QueryRowContext(ctx, q, args...).Scan(&rid); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
	} else {
		rid = cur.rid
		set := "vid = ?, lu = ?, del = 0, h = ?, json = ?"
		for _, c := range cols {
			set += ", " + c + " = ?"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+heads(res.Type)+` SET `+set+` WHERE rid = ?`, append(args[1:], rid)...); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+index(res.Type)+` WHERE r = ?`, rid); err != nil {
			return nil, sqlitedb.Wrap(err)
		}
	}
	if err := insertEntries(ctx, tx, res.Type, rid, ix.entries); err != nil {
		return nil, err
	}
	if err := writeFacts(ctx, tx, res.Type, id, ix.facts); err != nil {
		return nil, err
	}
	return &store.Version{Type: res.Type, ID: id, VersionID: vid, LastUpdated: lu, JSON: js}, nil
}

// insertEntries writes index rows, many per statement.
func insertEntries(ctx context.Context, tx *sql.Tx, t string, rid int64, es []entry) error {
	const per = 100
	for len(es) > 0 {
		n := min(per, len(es))
		q := `INSERT OR IGNORE INTO ` + index(t) + ` (f, v, r) VALUES (?, ?, ?)` + strings.Repeat(", (?, ?, ?)", n-1)
		args := make([]any, 0, 3*n)
		for _, e := range es[:n] {
			args = append(args, e.f, e.v, rid)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return sqlitedb.Wrap(err)
		}
		es = es[n:]
	}
	return nil
}

func prefixed(sep string, cols []string) string {
	var b strings.Builder
	for _, c := range cols {
		b.WriteString(sep)
		b.WriteString(c)
	}
	return b.String()
}

// Delete logically deletes a resource: a new version marks it deleted, its
// index rows go, and a later read is fhir.ErrGone. Deleting a deleted
// resource changes nothing.
func (s *Store) Delete(ctx context.Context, resourceType, id string, ifMatch int64) (*store.Version, error) {
	var v *store.Version
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.head(ctx, tx, resourceType, id)
		if err != nil {
			return err
		}
		if cur == nil {
			return fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
		}
		if ifMatch != 0 && cur.vid != ifMatch {
			return fmt.Errorf("%w: %s/%s is at version %d, not %d", fhir.ErrVersionConflict, resourceType, id, cur.vid, ifMatch)
		}
		if cur.deleted {
			v, err = s.readHead(ctx, tx, resourceType, id)
			return err
		}
		lu := s.stampTime()
		vid := cur.vid + 1
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+history(resourceType)+` (id, vid, lu, del, json) VALUES (?, ?, ?, 1, '')`,
			id, vid, lu.UnixMilli()); err != nil {
			return sqlitedb.Wrap(err)
		}
		set := "vid = ?, lu = ?, del = 1, h = '', json = ''"
		for _, c := range sortedValues(s.sorts[resourceType]) {
			set += ", " + c + " = NULL"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+heads(resourceType)+` SET `+set+` WHERE rid = ?`, vid, lu.UnixMilli(), cur.rid); err != nil {
			return sqlitedb.Wrap(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+index(resourceType)+` WHERE r = ?`, cur.rid); err != nil {
			return sqlitedb.Wrap(err)
		}
		if err := writeFacts(ctx, tx, resourceType, id, nil); err != nil {
			return err
		}
		v = &store.Version{Type: resourceType, ID: id, VersionID: vid, LastUpdated: lu, Deleted: true}
		return nil
	})
	return v, err
}

// head reads the version facts of a resource in a transaction; nil when
// it never existed.
func (s *Store) head(ctx context.Context, tx *sql.Tx, t, id string) (*current, error) {
	var c current
	err := tx.QueryRowContext(ctx, `SELECT rid, vid, del, h FROM `+heads(t)+` WHERE id = ?`, id).Scan(&c.rid, &c.vid, &c.deleted, &c.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	return &c, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readHead reads the current version of a resource.
func (s *Store) readHead(ctx context.Context, q queryer, t, id string) (*store.Version, error) {
	v := &store.Version{Type: t, ID: id}
	var lu int64
	err := q.QueryRowContext(ctx, `SELECT vid, lu, del, json FROM `+heads(t)+` WHERE id = ?`, id).Scan(&v.VersionID, &lu, &v.Deleted, &v.JSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, t, id)
	}
	if err != nil {
		return nil, sqlitedb.Wrap(err)
	}
	v.LastUpdated = time.UnixMilli(lu).UTC()
	if v.Deleted {
		v.JSON = nil
	}
	return v, nil
}

func (s *Store) stampTime() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

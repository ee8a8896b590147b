package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
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
			v, err = s.put(ctx, tx, res, id, nil, nil)
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

// Group runs fn in one transaction that the writes made with its context
// join; a write that fails fails the whole group (sqlitedb.DB.Group).
func (s *Store) Group(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.db.Group(ctx, fn)
}

// UpdateAll stores resources in order, as Update without If-Match does,
// in one transaction: all of them or, on any error, none.
func (s *Store) UpdateAll(ctx context.Context, resources []*fhir.Resource) ([]store.WriteResult, error) {
	write, _, err := s.PrepareAll(resources, 0)
	if err != nil {
		return nil, err
	}
	return write(ctx)
}

// PrepareAll works out, on up to workers goroutines (0: one a core) and
// without the write lock, what storing resources needs from their content
// alone (content hash, stored JSON, search index, access facts), and
// returns the write (UpdateAll's transaction) and the length of the JSON
// it will store. A bulk import prepares the next record while the write
// of the one before is running. The resources must not change in between.
func (s *Store) PrepareAll(resources []*fhir.Resource, workers int) (func(context.Context) ([]store.WriteResult, error), int, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	preps := make([]*prepared, len(resources))
	errs := make([]error, len(resources))
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(workers, len(resources)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(resources); i = int(next.Add(1) - 1) {
				preps[i], errs[i] = s.prepare(resources[i], resources[i].ID)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	size := 0
	for _, p := range preps {
		size += p.json.Len()
	}
	return func(ctx context.Context) ([]store.WriteResult, error) {
		out := make([]store.WriteResult, len(resources))
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			known, err := s.headsOf(ctx, tx, resources)
			if err != nil {
				return err
			}
			for i, r := range resources {
				// The first write of a resource starts from what was
				// read above; a second write of it in the same batch
				// reads the version the first made.
				k := r.Type + "/" + r.ID
				cur, ok := known[k]
				if !ok {
					if cur, err = s.head(ctx, tx, r.Type, r.ID); err != nil {
						return err
					}
				}
				delete(known, k)
				wr, err := s.updateFrom(ctx, tx, r, 0, preps[i], cur)
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
	}, size, nil
}

func (s *Store) update(ctx context.Context, tx *sql.Tx, res *fhir.Resource, ifMatch int64) (store.WriteResult, error) {
	p, err := s.prepare(res, res.ID)
	if err != nil {
		return store.WriteResult{}, err
	}
	return s.updatePrepared(ctx, tx, res, ifMatch, p)
}

// prepared is what a write works out from the content alone.
type prepared struct {
	hash string
	json store.Template // the stored JSON, version and time to fill in
	ix   indexed
}

func (s *Store) prepare(res *fhir.Resource, id string) (*prepared, error) {
	res.Object["id"] = id
	res.ID = id
	hash, tmpl, err := store.HashAndTemplate(res.Object, id)
	if err != nil {
		return nil, err
	}
	return &prepared{hash: hash, json: tmpl, ix: s.indexOf(res.Type, res.Object)}, nil
}

func (s *Store) updatePrepared(ctx context.Context, tx *sql.Tx, res *fhir.Resource, ifMatch int64, p *prepared) (store.WriteResult, error) {
	cur, err := s.head(ctx, tx, res.Type, res.ID)
	if err != nil {
		return store.WriteResult{}, err
	}
	return s.updateFrom(ctx, tx, res, ifMatch, p, cur)
}

// updateFrom is updatePrepared once the current version, cur (nil: none),
// has been read in tx.
func (s *Store) updateFrom(ctx context.Context, tx *sql.Tx, res *fhir.Resource, ifMatch int64, p *prepared, cur *current) (store.WriteResult, error) {
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
	if cur != nil && !cur.deleted {
		if p.hash == cur.hash {
			v, err := s.readHead(ctx, s.inTx(tx), res.Type, res.ID)
			if err != nil {
				return store.WriteResult{}, err
			}
			return store.WriteResult{Version: v, Unchanged: true}, nil
		}
	}
	v, err := s.put(ctx, tx, res, res.ID, cur, p)
	if err != nil {
		return store.WriteResult{}, err
	}
	return store.WriteResult{Version: v, Created: cur == nil || cur.deleted}, nil
}

// put writes the next version of res (after cur, nil for a new resource):
// history row, head row, index rows.
func (s *Store) put(ctx context.Context, tx *sql.Tx, res *fhir.Resource, id string, cur *current, p *prepared) (*store.Version, error) {
	if p == nil {
		var err error
		if p, err = s.prepare(res, id); err != nil {
			return nil, err
		}
	}
	hash, ix := p.hash, p.ix
	vid := int64(1)
	if cur != nil {
		vid = cur.vid + 1
	}
	lu := s.stampTime()
	js, err := p.json.Fill(vid, lu)
	if err != nil {
		return nil, err
	}
	// The current version is kept once, in its head row; it goes into
	// history when a newer version (or a deletion) takes the head.
	if cur != nil && !cur.deleted {
		if err := s.keepInHistory(ctx, tx, res.Type, cur); err != nil {
			return nil, err
		}
	}
	sorts := sortedValues(s.sorts[res.Type])
	cols := append(slices.Clone(aclColumns), sorts...)
	args := append([]any{id, vid, lu.UnixMilli(), hash, js}, ix.values(sorts)...)
	var rid int64
	if cur == nil {
		q := `INSERT INTO ` + heads(res.Type) + ` (id, vid, lu, del, h, json` + prefixed(", ", cols) + `) VALUES (?, ?, ?, 0, ?, ?` +
			strings.Repeat(", ?", len(cols)) + `)`
		if rid, err = s.insert(ctx, tx, q, args...); err != nil {
			return nil, err
		}
	} else {
		rid = cur.rid
		set := "vid = ?, lu = ?, del = 0, h = ?, json = ?"
		for _, c := range cols {
			set += ", " + c + " = ?"
		}
		if _, err := s.exec(ctx, tx, `UPDATE `+heads(res.Type)+` SET `+set+` WHERE rid = ?`, append(args[1:], rid)...); err != nil {
			return nil, s.db.Check(err)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM `+index(res.Type)+` WHERE r = ?`, rid); err != nil {
			return nil, s.db.Check(err)
		}
	}
	if err := s.insertEntries(ctx, tx, res.Type, rid, ix.entries); err != nil {
		return nil, err
	}
	if err := s.noteSystems(ctx, tx, res.Type, ix.systems); err != nil {
		return nil, err
	}
	if err := s.replaceFacts(ctx, tx, res.Type, id, ix.facts, cur != nil && !cur.deleted); err != nil {
		return nil, err
	}
	return &store.Version{Type: res.Type, ID: id, VersionID: vid, LastUpdated: lu, JSON: js}, nil
}

// entryChunk is the most index rows one statement inserts: fewer, longer
// statements cost less than one per row.
const entryChunk = 16

// insertEntries writes index rows, entryChunk at a time and the rest in
// one statement, each shape prepared once.
func (s *Store) insertEntries(ctx context.Context, tx *sql.Tx, t string, rid int64, es []entry) error {
	one := `INSERT OR IGNORE INTO ` + index(t) + ` (f, v, r) VALUES (?, ?, ?)`
	args := make([]any, 0, 3*min(len(es), entryChunk))
	for len(es) > 0 {
		n := min(len(es), entryChunk)
		args = args[:0]
		for _, e := range es[:n] {
			args = append(args, e.f, e.v, rid)
		}
		if _, err := s.exec(ctx, tx, one+strings.Repeat(", (?, ?, ?)", n-1), args...); err != nil {
			return err
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
			v, err = s.readHead(ctx, s.inTx(tx), resourceType, id)
			return err
		}
		lu := s.stampTime()
		vid := cur.vid + 1
		if err := s.keepInHistory(ctx, tx, resourceType, cur); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO `+history(resourceType)+` (id, vid, lu, del, json) VALUES (?, ?, ?, 1, '')`,
			id, vid, lu.UnixMilli()); err != nil {
			return s.db.Check(err)
		}
		set := "vid = ?, lu = ?, del = 1, h = '', json = '', a_pat = '', a_cat = '', a_sec = '', a_org = ''"
		for _, c := range sortedValues(s.sorts[resourceType]) {
			set += ", " + c + " = NULL"
		}
		if _, err := s.exec(ctx, tx, `UPDATE `+heads(resourceType)+` SET `+set+` WHERE rid = ?`, vid, lu.UnixMilli(), cur.rid); err != nil {
			return s.db.Check(err)
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM `+index(resourceType)+` WHERE r = ?`, cur.rid); err != nil {
			return s.db.Check(err)
		}
		if err := s.writeFacts(ctx, tx, resourceType, id, nil); err != nil {
			return err
		}
		v = &store.Version{Type: resourceType, ID: id, VersionID: vid, LastUpdated: lu, Deleted: true}
		return nil
	})
	return v, err
}

// keepInHistory writes cur, the current version, from its head row into
// history, before a newer version or a deletion takes the head. (A row of
// a database shared with a gateway of an earlier version, which kept a
// row for the current version too, is overwritten.)
func (s *Store) keepInHistory(ctx context.Context, tx *sql.Tx, t string, cur *current) error {
	_, err := s.exec(ctx, tx, `INSERT INTO `+history(t)+` (id, vid, lu, del, json) SELECT id, vid, lu, 0, json FROM `+heads(t)+
		` WHERE rid = ? ON CONFLICT (id, vid) DO UPDATE SET lu = excluded.lu, del = 0, json = excluded.json`, cur.rid)
	return s.db.Check(err)
}

// versions is the SQL of every version of type t as one table (to alias
// x): history, which holds the versions a newer one replaced and the
// deletions, and the heads that are current versions rather than
// deletions. A condition on x is pushed into both, each read through its
// own indexes.
func versions(t string) string {
	return `(SELECT id, vid, lu, del, json FROM ` + history(t) + ` UNION ALL SELECT id, vid, lu, del, json FROM ` + heads(t) + ` WHERE del = 0)`
}

// head reads the version facts of a resource in a transaction; nil when
// it never existed.
func (s *Store) head(ctx context.Context, tx *sql.Tx, t, id string) (*current, error) {
	var c current
	err := s.txRow(ctx, tx, `SELECT rid, vid, del, h FROM `+heads(t)+` WHERE id = ?`, id).Scan(&c.rid, &c.vid, &c.deleted, &c.hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.db.Check(err)
	}
	return &c, nil
}

// headsOf reads the current versions of resources in tx with one query
// per resource type, keyed by type/id: nil for one not stored. (A bulk
// record's 700 resources cost 700 lookups otherwise.)
func (s *Store) headsOf(ctx context.Context, tx *sql.Tx, resources []*fhir.Resource) (map[string]*current, error) {
	ids := map[string][]string{}
	for _, r := range resources {
		ids[r.Type] = append(ids[r.Type], r.ID)
	}
	known := make(map[string]*current, len(resources))
	for t, list := range ids {
		for _, id := range list {
			known[t+"/"+id] = nil
		}
		js, err := json.Marshal(list)
		if err != nil {
			return nil, err
		}
		st, err := s.db.TxStmt(ctx, tx, `SELECT id, rid, vid, del, h FROM `+heads(t)+` WHERE id IN (SELECT value FROM json_each(?))`)
		if err != nil {
			return nil, err
		}
		rows, err := st.QueryContext(ctx, string(js))
		if err != nil {
			return nil, s.db.Check(err)
		}
		for rows.Next() {
			var id string
			var c current
			if err := rows.Scan(&id, &c.rid, &c.vid, &c.deleted, &c.hash); err != nil {
				_ = rows.Close()
				return nil, s.db.Check(err)
			}
			known[t+"/"+id] = &c
		}
		if err := rows.Close(); err != nil {
			return nil, s.db.Check(err)
		}
		if err := rows.Err(); err != nil {
			return nil, s.db.Check(err)
		}
	}
	return known, nil
}

// rowFunc runs a one-row query: Store.row on the readers, or txRow bound
// to a transaction.
type rowFunc func(ctx context.Context, q string, args ...any) *sql.Row

func (s *Store) inTx(tx *sql.Tx) rowFunc {
	return func(ctx context.Context, q string, args ...any) *sql.Row { return s.txRow(ctx, tx, q, args...) }
}

// readHead reads the current version of a resource.
func (s *Store) readHead(ctx context.Context, row rowFunc, t, id string) (*store.Version, error) {
	v := &store.Version{Type: t, ID: id}
	var lu int64
	var pat, cat, sec, org string
	err := row(ctx, `SELECT vid, lu, del, json, a_pat, a_cat, a_sec, a_org FROM `+heads(t)+` WHERE id = ?`, id).
		Scan(&v.VersionID, &lu, &v.Deleted, &v.JSON, &pat, &cat, &sec, &org)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, t, id)
	}
	if err != nil {
		return nil, s.db.Check(err)
	}
	v.LastUpdated = time.UnixMilli(lu).UTC()
	if v.Deleted {
		v.JSON = nil
	} else {
		v.Attrs = attrs(pat, cat, sec, org)
	}
	return v, nil
}

func (s *Store) stampTime() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

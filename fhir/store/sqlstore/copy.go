package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// Versions calls fn with every stored version of resourceType, deletions
// included, by id and then version: what a move to another engine copies.
func (s *Store) Versions(ctx context.Context, resourceType string, fn func(*store.Version) error) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT x.id, x.vid, x.lu, x.del, x.json FROM `+versions(resourceType)+` x ORDER BY x.id, x.vid`)
	if err != nil {
		return s.db.Check(err)
	}
	defer rows.Close()
	for rows.Next() {
		v := &store.Version{Type: resourceType}
		var lu int64
		if err := rows.Scan(&v.ID, &v.VersionID, &lu, &v.Deleted, &v.JSON); err != nil {
			return s.db.Check(err)
		}
		v.LastUpdated = time.UnixMilli(lu).UTC()
		if v.Deleted {
			v.JSON = nil
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return s.db.Check(rows.Err())
}

// Restore writes versions as they are (ids, version numbers, times and
// JSON kept) into a store that does not hold them yet, in one
// transaction: the last version of each resource as its head, indexed,
// and the versions before it (and a deletion) into history. versions come grouped by resource,
// oldest version first, as Versions gives them.
func (s *Store) Restore(ctx context.Context, versions []*store.Version) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, v := range versions {
			isHead := i+1 == len(versions) || versions[i+1].ID != v.ID || versions[i+1].Type != v.Type
			if !isHead || v.Deleted {
				js := v.JSON
				if v.Deleted {
					js = []byte{}
				}
				if _, err := s.exec(ctx, tx, `INSERT INTO `+history(v.Type)+` (id, vid, lu, del, json) VALUES (?, ?, ?, ?, ?)`,
					v.ID, v.VersionID, v.LastUpdated.UnixMilli(), v.Deleted, js); err != nil {
					return s.db.Check(err)
				}
			}
			if isHead {
				if err := s.restoreHead(ctx, tx, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (s *Store) restoreHead(ctx context.Context, tx *sql.Tx, v *store.Version) error {
	sorts := sortedValues(s.sorts[v.Type])
	cols := append(slices.Clone(aclColumns), sorts...)
	args := []any{v.ID, v.VersionID, v.LastUpdated.UnixMilli(), v.Deleted}
	var ix indexed
	if v.Deleted {
		args = append(args, "", []byte{})
	} else {
		obj, err := fhir.DecodeObject(v.JSON)
		if err != nil {
			return fmt.Errorf("restore %s/%s version %d: %w", v.Type, v.ID, v.VersionID, err)
		}
		hash, err := store.ContentHash(obj)
		if err != nil {
			return err
		}
		ix = s.indexOf(v.Type, obj)
		args = append(args, hash, v.JSON)
	}
	args = append(args, ix.values(sorts)...)
	q := `INSERT INTO ` + heads(v.Type) + ` (id, vid, lu, del, h, json` + prefixed(", ", cols) + `) VALUES (?, ?, ?, ?, ?, ?` +
		strings.Repeat(", ?", len(cols)) + `)`
	rid, err := s.insert(ctx, tx, q, args...)
	if err != nil {
		return err
	}
	if err := s.insertEntries(ctx, tx, v.Type, rid, ix.entries); err != nil {
		return err
	}
	if err := s.noteSystems(ctx, tx, v.Type, ix.systems); err != nil {
		return err
	}
	return s.writeFacts(ctx, tx, v.Type, v.ID, ix.facts)
}

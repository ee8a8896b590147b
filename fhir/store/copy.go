package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// Versions calls fn with every stored version of resourceType, deletions
// included, by id and then version: what a move to another engine copies.
func (s *Store) Versions(ctx context.Context, resourceType string, fn func(*Version) error) error {
	cur, err := s.history(resourceType).Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "rid", Value: 1}, {Key: "vid", Value: 1}}).SetBatchSize(500))
	if err != nil {
		return wrap(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var o old
		if err := cur.Decode(&o); err != nil {
			return wrap(err)
		}
		if err := fn(o.version(resourceType)); err != nil {
			return err
		}
	}
	return wrap(cur.Err())
}

// Restore writes versions as they are (ids, version numbers, times and
// JSON kept) into a store that does not hold them yet: every version into
// history, and the last version of each resource as its head. versions
// come grouped by resource, oldest version first, as Versions gives them.
func (s *Store) Restore(ctx context.Context, versions []*Version) error {
	var hist []any
	heads := map[string]*head{}
	var order []string
	for _, v := range versions {
		h := &head{ID: v.ID, VersionID: v.VersionID, LastUpdated: v.LastUpdated, Deleted: v.Deleted, Patients: []string{}, Search: bson.M{}}
		if !v.Deleted {
			obj, err := fhir.DecodeObject(v.JSON)
			if err != nil {
				return fmt.Errorf("restore %s/%s version %d: %w", v.Type, v.ID, v.VersionID, err)
			}
			if h.Hash, err = contentHash(obj); err != nil {
				return err
			}
			h.JSON = string(v.JSON)
			sp, pat := search.Index(v.Type, obj)
			if pat == nil {
				pat = []string{}
			}
			a := policy.Attributes(v.Type, obj)
			h.Search, h.Patients = sp, pat
			h.ACL = acl{Patient: a.Patient, Categories: nonNil(a.Categories), Labels: nonNil(a.Labels), AuthorOrgs: nonNil(a.AuthorOrgs)}
		}
		hist = append(hist, h.toOld())
		if _, ok := heads[v.ID]; !ok {
			order = append(order, v.ID)
		}
		heads[v.ID] = h
	}
	if len(versions) == 0 {
		return nil
	}
	t := versions[0].Type
	if _, err := s.history(t).InsertMany(ctx, hist, options.InsertMany().SetOrdered(true)); err != nil {
		return wrap(err)
	}
	docs := make([]any, 0, len(order))
	for _, id := range order {
		docs = append(docs, heads[id])
	}
	if _, err := s.heads(t).InsertMany(ctx, docs, options.InsertMany().SetOrdered(true)); err != nil {
		return wrap(err)
	}
	for _, id := range order {
		if err := s.writeFacts(ctx, t, heads[id]); err != nil {
			return err
		}
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Read returns the current version of a resource: fhir.ErrNotFound when it
// never existed, fhir.ErrGone (with the deletion version) when deleted.
func (s *Store) Read(ctx context.Context, resourceType, id string) (*Version, error) {
	h, err := s.loadHead(ctx, resourceType, id)
	if err != nil {
		return nil, err
	}
	v := h.version(resourceType)
	if v.Deleted {
		return v, fmt.Errorf("%w: %s/%s", fhir.ErrGone, resourceType, id)
	}
	return v, nil
}

// VRead returns one version of a resource. A version that records a
// deletion is returned with fhir.ErrGone.
func (s *Store) VRead(ctx context.Context, resourceType, id string, vid int64) (*Version, error) {
	var o old
	err := s.history(resourceType).FindOne(ctx, bson.D{{Key: "_id", Value: historyKey(id, vid)}}).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("%w: %s/%s has no version %d", fhir.ErrNotFound, resourceType, id, vid)
	}
	if err != nil {
		return nil, wrap(err)
	}
	v := o.version(resourceType)
	if v.Deleted {
		return v, fmt.Errorf("%w: %s/%s version %d is a deletion", fhir.ErrGone, resourceType, id, vid)
	}
	return v, nil
}

// HistoryOptions select a page of history, newest first.
type HistoryOptions struct {
	// Count is the page size.
	Count int
	// Since keeps versions updated at or after it (the _since parameter).
	Since time.Time
	// Before keeps versions updated strictly before this version key
	// (paging: the last entry of the previous page).
	Before *HistoryKey
}

// HistoryKey positions a history page: versions are ordered by
// lastUpdated, then resource id, then version, newest first.
type HistoryKey struct {
	LastUpdated time.Time
	ID          string
	VersionID   int64
}

// History returns the versions of one resource (id set) or of every
// resource of a type (id empty), newest first, at most opt.Count, and
// whether more follow: one query. Deletions are included with Deleted set.
func (s *Store) History(ctx context.Context, resourceType, id string, opt HistoryOptions) ([]*Version, bool, error) {
	if id != "" {
		if _, err := s.loadHead(ctx, resourceType, id); err != nil {
			return nil, false, err
		}
	}
	limit := int64(opt.Count + 1)
	filter := func(idField string) bson.D {
		f := bson.D{}
		if id != "" {
			f = append(f, bson.E{Key: idField, Value: id})
		}
		if !opt.Since.IsZero() {
			f = append(f, bson.E{Key: "lu", Value: bson.D{{Key: "$gte", Value: opt.Since}}})
		}
		if b := opt.Before; b != nil {
			f = append(f, bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: "lu", Value: bson.D{{Key: "$lt", Value: b.LastUpdated}}}},
				bson.D{{Key: "lu", Value: b.LastUpdated}, {Key: idField, Value: bson.D{{Key: "$lt", Value: b.ID}}}},
				bson.D{{Key: "lu", Value: b.LastUpdated}, {Key: idField, Value: b.ID}, {Key: "vid", Value: bson.D{{Key: "$lt", Value: b.VersionID}}}},
			}})
		}
		return f
	}
	sort := bson.D{{Key: "lu", Value: -1}, {Key: "rid", Value: -1}, {Key: "vid", Value: -1}}
	cur, err := s.history(resourceType).Find(ctx, filter("rid"), options.Find().SetSort(sort).SetLimit(limit))
	if err != nil {
		return nil, false, wrap(err)
	}
	var olds []old
	if err := cur.All(ctx, &olds); err != nil {
		return nil, false, wrap(err)
	}
	all := make([]*Version, 0, len(olds))
	for i := range olds {
		all = append(all, olds[i].version(resourceType))
	}
	more := len(all) > opt.Count
	if more {
		all = all[:opt.Count]
	}
	return all, more, nil
}

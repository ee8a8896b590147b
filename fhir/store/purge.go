package store

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Purge removes a resource for good, for a disposal under the retention
// schedule (package retention): every version in "<Type>_history" first,
// then the head (with its search fields and access attributes) and its
// access facts document. History goes first so that a crash part way
// leaves a head without versions, which the next Purge finishes; never a
// claimed version a writer could roll forward into a new head. It returns
// how many versions it removed; fhir.ErrNotFound when the resource never
// existed (or is purged already). What the database server does with
// freed space (WiredTiger reuses it; a compact reclaims it) is the
// server's: see docs/records-retention.md.
func (s *Store) Purge(ctx context.Context, resourceType, id string) (int, error) {
	if !fhir.Supported(resourceType) {
		return 0, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
	}
	hist, err := s.history(resourceType).DeleteMany(ctx, bson.D{{Key: "rid", Value: id}})
	if err != nil {
		return 0, wrap(err)
	}
	head, err := s.heads(resourceType).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return 0, wrap(err)
	}
	if _, err := s.db.Collection(factsCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: resourceType + "/" + id}}); err != nil {
		return 0, wrap(err)
	}
	if hist.DeletedCount == 0 && head.DeletedCount == 0 {
		return 0, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
	}
	return int(hist.DeletedCount), nil
}

package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// maxRetries bounds the compare-and-set loop of an update without If-Match,
// which retries only when another writer changed the head in between.
const maxRetries = 16

// WriteResult says what a write did.
type WriteResult struct {
	Version *Version
	// Created is true when the write created the resource.
	Created bool
	// Unchanged is true when the content equalled the current version, so
	// no new version was made.
	Unchanged bool
}

// NewID returns a new server-assigned logical id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Create stores res as a new resource with a server-assigned id.
func (s *Store) Create(ctx context.Context, res *fhir.Resource) (*Version, error) {
	for range maxRetries {
		h, err := s.newHead(res, NewID(), 1)
		if err != nil {
			return nil, err
		}
		ok, err := s.commit(ctx, res.Type, nil, h)
		if err != nil {
			return nil, err
		}
		if ok {
			return h.version(res.Type), nil
		}
	}
	return nil, errors.New("could not allocate a unique id")
}

// Absent, as Update's ifMatch, expects no live version: the resource does
// not exist or is deleted.
const Absent int64 = -1

// Update stores res under res.ID, creating it if it does not exist (update
// as create). ifMatch, when non-zero, is the version the client expects to
// replace, or Absent: a different current version is
// fhir.ErrVersionConflict.
func (s *Store) Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (WriteResult, error) {
	for range maxRetries {
		cur, err := s.loadHead(ctx, res.Type, res.ID)
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return WriteResult{}, err
		}
		if ifMatch == Absent {
			if cur != nil && !cur.Deleted {
				return WriteResult{}, fmt.Errorf("%w: %s/%s was created by another client", fhir.ErrVersionConflict, res.Type, res.ID)
			}
		} else if cur == nil && ifMatch != 0 {
			return WriteResult{}, fmt.Errorf("%w: %s/%s does not exist", fhir.ErrVersionConflict, res.Type, res.ID)
		}
		if cur != nil && ifMatch > 0 && cur.VersionID != ifMatch {
			return WriteResult{}, fmt.Errorf("%w: %s/%s is at version %d, not %d", fhir.ErrVersionConflict, res.Type, res.ID, cur.VersionID, ifMatch)
		}
		next, err := s.newHead(res, res.ID, nextVersion(cur))
		if err != nil {
			return WriteResult{}, err
		}
		if cur != nil && !cur.Deleted && cur.Hash == next.Hash {
			if err := s.writeFacts(ctx, res.Type, cur); err != nil {
				return WriteResult{}, err
			}
			return WriteResult{Version: cur.version(res.Type), Unchanged: true}, nil
		}
		ok, err := s.commit(ctx, res.Type, cur, next)
		if err != nil {
			return WriteResult{}, err
		}
		if ok {
			return WriteResult{Version: next.version(res.Type), Created: cur == nil || cur.Deleted}, nil
		}
		if ifMatch != 0 {
			return WriteResult{}, fmt.Errorf("%w: %s/%s was changed by another client", fhir.ErrVersionConflict, res.Type, res.ID)
		}
	}
	return WriteResult{}, fmt.Errorf("%w: %s/%s is being changed by other clients; retry", fhir.ErrVersionConflict, res.Type, res.ID)
}

// Delete logically deletes a resource: a new version marks it deleted and
// a later read is fhir.ErrGone. Deleting a deleted resource changes nothing.
func (s *Store) Delete(ctx context.Context, resourceType, id string, ifMatch int64) (*Version, error) {
	for range maxRetries {
		cur, err := s.loadHead(ctx, resourceType, id)
		if err != nil {
			return nil, err
		}
		if ifMatch != 0 && cur.VersionID != ifMatch {
			return nil, fmt.Errorf("%w: %s/%s is at version %d, not %d", fhir.ErrVersionConflict, resourceType, id, cur.VersionID, ifMatch)
		}
		if cur.Deleted {
			return cur.version(resourceType), nil
		}
		next := &head{ID: id, VersionID: cur.VersionID + 1, LastUpdated: s.stampTime(), Deleted: true, Patients: []string{}, Search: bson.M{}}
		ok, err := s.commit(ctx, resourceType, cur, next)
		if err != nil {
			return nil, err
		}
		if ok {
			return next.version(resourceType), nil
		}
		if ifMatch != 0 {
			return nil, fmt.Errorf("%w: %s/%s was changed by another client", fhir.ErrVersionConflict, resourceType, id)
		}
	}
	return nil, fmt.Errorf("%w: %s/%s is being changed by other clients; retry", fhir.ErrVersionConflict, resourceType, id)
}

func nextVersion(cur *head) int64 {
	if cur == nil {
		return 1
	}
	return cur.VersionID + 1
}

// commit claims next's version in history (a unique key: one claimant per
// version) and, if the claim is ours, moves the head to it. It reports
// false when another writer claimed that version first; in that case it
// has made sure the head reflects the other writer's version.
func (s *Store) commit(ctx context.Context, resourceType string, cur, next *head) (bool, error) {
	_, err := s.history(resourceType).InsertOne(ctx, next.toOld())
	if mongo.IsDuplicateKeyError(err) {
		return false, s.rollForward(ctx, resourceType, next.ID, next.VersionID)
	}
	if err != nil {
		return false, wrap(err)
	}
	if err := s.moveHead(ctx, resourceType, next); err != nil {
		return false, err
	}
	return true, nil
}

// moveHead makes h the head. A first version is inserted; a later one
// replaces the head by _id alone, the only filter the embedded server
// answers without scanning (an upsert or an extra version condition is
// five to fifty times slower there). Because the version was claimed
// first, only one writer moves the head to each version; a writer delayed
// between claim and move could still put back an older version after a
// newer one landed, so after moving, it looks for a newer claimed version
// in history (a lookup by _id) and rolls forward to it.
func (s *Store) moveHead(ctx context.Context, resourceType string, h *head) error {
	if h.VersionID == 1 {
		// An insert never overwrites: if the head exists (rolled forward by
		// a writer who then built on it), it is already as new or newer.
		_, err := s.heads(resourceType).InsertOne(ctx, h)
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return wrap(err)
		}
		if err == nil {
			return s.writeFacts(ctx, resourceType, h)
		}
		return nil
	}
	if _, err := s.heads(resourceType).ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.ID}}, h); err != nil {
		return wrap(err)
	}
	newest, err := s.latestClaim(ctx, resourceType, h.ID, h.VersionID+1)
	if err != nil {
		return err
	}
	if newest == nil {
		return s.writeFacts(ctx, resourceType, h)
	}
	nh := newest.toHead()
	if _, err = s.heads(resourceType).ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.ID}}, nh); err != nil {
		return wrap(err)
	}
	return s.writeFacts(ctx, resourceType, nh)
}

// latestClaim returns the newest version of id in history from version
// from on (lookups by _id, usually one), or nil when there is none.
func (s *Store) latestClaim(ctx context.Context, resourceType, id string, from int64) (*old, error) {
	var newest *old
	for vid := from; ; vid++ {
		var o old
		err := s.history(resourceType).FindOne(ctx, bson.D{{Key: "_id", Value: historyKey(id, vid)}}).Decode(&o)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return newest, nil
		}
		if err != nil {
			return nil, wrap(err)
		}
		newest = &o
	}
}

// rollForward makes the newest claimed version (vid or later) the head,
// finishing a write whose writer lost the race or stopped between claim
// and head move.
func (s *Store) rollForward(ctx context.Context, resourceType, id string, vid int64) error {
	o, err := s.latestClaim(ctx, resourceType, id, vid)
	if err != nil || o == nil {
		return err
	}
	return s.moveHead(ctx, resourceType, o.toHead())
}

func (s *Store) loadHead(ctx context.Context, resourceType, id string) (*head, error) {
	var h head
	err := s.heads(resourceType).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&h)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("%w: %s/%s", fhir.ErrNotFound, resourceType, id)
	}
	if err != nil {
		return nil, wrap(err)
	}
	return &h, nil
}

func (s *Store) newHead(res *fhir.Resource, id string, vid int64) (*head, error) {
	res.Object["id"] = id
	hash, err := contentHash(res.Object)
	if err != nil {
		return nil, err
	}
	lu := s.stampTime()
	js, err := stamp(res.Object, id, vid, lu)
	if err != nil {
		return nil, err
	}
	res.ID = id
	sp, pat := search.Index(res.Type, res.Object)
	if pat == nil {
		pat = []string{}
	}
	a := policy.Attributes(res.Type, res.Object)
	return &head{ID: id, VersionID: vid, LastUpdated: lu, Hash: hash, JSON: string(js), Patients: pat, Search: sp,
		ACL: acl{Patient: a.Patient, Categories: nonNil(a.Categories), Labels: nonNil(a.Labels), AuthorOrgs: nonNil(a.AuthorOrgs)}}, nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func (s *Store) stampTime() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

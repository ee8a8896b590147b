package store

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// factsCollection holds one document per resource that establishes access
// facts (package facts): {_id: "Type/id", vid, f: [{p, k, o, u}]}, indexed
// by f.p (patient) and f.o (organisation).
const factsCollection = "facts"

type factDoc struct {
	Patient string `bson:"p"`
	Kind    string `bson:"k"`
	Org     string `bson:"o"`
	Until   int64  `bson:"u"`
}

type factsDoc struct {
	ID    string    `bson:"_id"`
	VID   int64     `bson:"vid"`
	Facts []factDoc `bson:"f"`
}

// writeFacts records the facts of head h of resourceType. It runs after
// the head moved (and again whenever a writer finds the content
// unchanged, or rolls a claimed version forward), and never replaces the
// facts of a newer version: without transactions, a crash between the
// head and its facts is repaired by the resource's next write or replay.
func (s *Store) writeFacts(ctx context.Context, resourceType string, h *head) error {
	if !facts.Establishes(resourceType) {
		return nil
	}
	var fs []factDoc
	if !h.Deleted {
		for _, f := range facts.FromIndex(resourceType, h.Search, h.Patients) {
			fs = append(fs, factDoc{f.Patient, f.Kind, f.Org, f.Until})
		}
	}
	if fs == nil {
		fs = []factDoc{}
	}
	doc := factsDoc{ID: resourceType + "/" + h.ID, VID: h.VersionID, Facts: fs}
	_, err := s.db.Collection(factsCollection).ReplaceOne(ctx,
		bson.D{{Key: "_id", Value: doc.ID}, {Key: "vid", Value: bson.D{{Key: "$lte", Value: doc.VID}}}}, doc,
		options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil // a newer version's facts are there already
	}
	return wrap(err)
}

// Facts returns the access facts q selects: one query.
func (s *Store) Facts(ctx context.Context, q facts.Query) ([]facts.Fact, error) {
	or := bson.A{bson.D{{Key: "f.k", Value: facts.Objection}}}
	if len(q.Orgs) > 0 {
		or = append(or, bson.D{{Key: "f.o", Value: bson.D{{Key: "$in", Value: q.Orgs}}}})
	}
	filter := bson.D{{Key: "$or", Value: or}}
	if len(q.Patients) > 0 {
		filter = append(filter, bson.E{Key: "f.p", Value: bson.D{{Key: "$in", Value: q.Patients}}})
	}
	cur, err := s.db.Collection(factsCollection).Find(ctx, filter)
	if err != nil {
		return nil, wrap(err)
	}
	var docs []factsDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap(err)
	}
	var out []facts.Fact
	for _, d := range docs {
		for _, f := range d.Facts {
			if f.Kind != facts.Objection && !slices.Contains(q.Orgs, f.Org) {
				continue
			}
			if len(q.Patients) > 0 && !slices.Contains(q.Patients, f.Patient) {
				continue
			}
			out = append(out, facts.Fact{Patient: f.Patient, Kind: f.Kind, Org: f.Org, Until: f.Until})
		}
	}
	return out, nil
}

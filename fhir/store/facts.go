package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// factsCollection holds one document per resource that establishes access
// facts (package facts): {_id: "Type/id", vid, f: [{p, k, o, u, c}]},
// indexed by f.p (patient), f.o (organisation), f.k and f.c (ODS code, or
// a share's third party); s is when a share begins.
const factsCollection = "facts"

// factsSchemaID is the facts collection's own document, which says which
// kinds of fact its documents hold (factsSchema).
const factsSchemaID = "~schema"

// factsSchema 2: Organizations have ods facts; 3: Consents to share with
// a named third party have share facts.
const factsSchema = 3

type factDoc struct {
	Patient string `bson:"p"`
	Kind    string `bson:"k"`
	Org     string `bson:"o"`
	Until   int64  `bson:"u"`
	Code    string `bson:"c,omitempty"`
	From    int64  `bson:"s,omitempty"`
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
		var obj map[string]any
		if resourceType == "Consent" {
			// Share facts come from elements no search value holds.
			var err error
			if obj, err = fhir.DecodeObject([]byte(h.JSON)); err != nil {
				return fmt.Errorf("facts of Consent/%s: %w", h.ID, err)
			}
		}
		for _, f := range facts.FromResource(resourceType, h.ID, obj, h.Search, h.Patients) {
			fs = append(fs, factDoc{f.Patient, f.Kind, f.Org, f.Until, f.Code, f.From})
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

// upgradeFacts derives the facts of kinds a database written by an
// earlier version lacks (the ods facts of Organizations, the share facts
// of Consents), once.
func (s *Store) upgradeFacts(ctx context.Context) error {
	coll := s.db.Collection(factsCollection)
	var marker struct {
		V int `bson:"v"`
	}
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: factsSchemaID}}).Decode(&marker)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return wrap(err)
	}
	if marker.V >= factsSchema {
		return nil
	}
	types := []string{"Consent"}
	if marker.V < 2 {
		types = append(types, "Organization")
	}
	for _, t := range types {
		if err := s.deriveFacts(ctx, t); err != nil {
			return err
		}
	}
	_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: factsSchemaID}}, bson.D{{Key: "_id", Value: factsSchemaID}, {Key: "v", Value: factsSchema}},
		options.Replace().SetUpsert(true))
	return wrap(err)
}

// deriveFacts writes again the facts of every stored resource of type t.
func (s *Store) deriveFacts(ctx context.Context, t string) error {
	cur, err := s.heads(t).Find(ctx, bson.D{{Key: "del", Value: false}})
	if err != nil {
		return wrap(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var h head
		if err := cur.Decode(&h); err != nil {
			return wrap(err)
		}
		if err := s.writeFacts(ctx, t, &h); err != nil {
			return err
		}
	}
	return wrap(cur.Err())
}

// Facts returns the access facts q selects: one query, or for an ODS code
// and no patients one when the code names the organisations this instance
// found for it last time (odsorgs.go), and two when it names others.
func (s *Store) Facts(ctx context.Context, q facts.Query) ([]facts.Fact, error) {
	if q.ODS != "" && len(q.Patients) == 0 {
		return s.caseloadFacts(ctx, q)
	}
	or := bson.A{bson.D{{Key: "f.k", Value: facts.Objection}}}
	if len(q.Orgs) > 0 {
		or = append(or, bson.D{{Key: "f.o", Value: bson.D{{Key: "$in", Value: q.Orgs}}}})
	}
	if q.Actor != "" {
		or = append(or, shareFilter(q.Actor))
	}
	filter := bson.D{{Key: "$or", Value: or}}
	if len(q.Patients) > 0 {
		filter = bson.D{{Key: "f.p", Value: bson.D{{Key: "$in", Value: q.Patients}}}}
		if q.ODS != "" {
			// The organisations' ods facts come in the same query.
			filter = bson.D{{Key: "$or", Value: bson.A{filter, bson.D{{Key: "f.k", Value: facts.ODS}, {Key: "f.c", Value: q.ODS}}}}}
		}
	}
	all, err := s.findFacts(ctx, filter)
	if err != nil {
		return nil, err
	}
	return selectFacts(q, all), nil
}

// caseloadFacts is Facts for an ODS code and every patient: the code's
// ods facts and the facts naming the organisations it named last time in
// one query, then the facts naming any organisation it names now that
// were not asked for.
func (s *Store) caseloadFacts(ctx context.Context, q facts.Query) ([]facts.Fact, error) {
	guess := s.ods.get(q.ODS)
	or := bson.A{bson.D{{Key: "f.k", Value: facts.ODS}, {Key: "f.c", Value: q.ODS}}, bson.D{{Key: "f.k", Value: facts.Objection}}}
	if q.Actor != "" {
		or = append(or, shareFilter(q.Actor))
	}
	if asked := append(slices.Clone(q.Orgs), guess...); len(asked) > 0 {
		or = append(or, bson.D{{Key: "f.o", Value: bson.D{{Key: "$in", Value: asked}}}})
	}
	all, err := s.findFacts(ctx, bson.D{{Key: "$or", Value: or}})
	if err != nil {
		return nil, err
	}
	named := facts.Orgs(odsFactsOf(all, q.ODS))
	s.ods.put(q.ODS, named)
	var missed []string
	for _, o := range named {
		if !slices.Contains(guess, o) && !slices.Contains(q.Orgs, o) {
			missed = append(missed, o)
		}
	}
	if len(missed) > 0 {
		more, err := s.findFacts(ctx, bson.D{{Key: "f.o", Value: bson.D{{Key: "$in", Value: missed}}}})
		if err != nil {
			return nil, err
		}
		all = append(all, more...)
	}
	return selectFacts(q, all), nil
}

// shareFilter selects the documents with share facts naming the third
// party actor (on the f.c index).
func shareFilter(actor string) bson.D {
	return bson.D{{Key: "f.c", Value: actor}, {Key: "f.k", Value: bson.D{{Key: "$in", Value: facts.ShareKinds}}}}
}

// odsFactsOf is the ods facts of code among fs.
func odsFactsOf(fs []facts.Fact, code string) []facts.Fact {
	var out []facts.Fact
	for _, f := range fs {
		if f.Kind == facts.ODS && f.Code == code {
			out = append(out, f)
		}
	}
	return out
}

// selectFacts is the facts q selects among all, which holds them and
// possibly more: the ods facts of q.ODS, then the facts of the kinds
// asked for that are objections or name q's organisations (those listed
// and those of the code), about q's patients when it names some.
func selectFacts(q facts.Query, all []facts.Fact) []facts.Fact {
	var odsFacts []facts.Fact
	if q.ODS != "" {
		odsFacts = odsFactsOf(all, q.ODS)
	}
	orgs := append(slices.Clone(q.Orgs), facts.Orgs(odsFacts)...)
	out := odsFacts
	for _, f := range all {
		if f.Kind == facts.ODS || !q.Wants(f.Kind) {
			continue
		}
		switch {
		case facts.IsShare(f.Kind):
			if q.Actor == "" || f.Code != q.Actor {
				continue
			}
		case f.Kind != facts.Objection && !slices.Contains(orgs, f.Org):
			continue
		}
		if len(q.Patients) > 0 && !slices.Contains(q.Patients, f.Patient) {
			continue
		}
		out = append(out, f)
	}
	return facts.Merge(out)
}

// findFacts is every fact of the documents filter selects.
func (s *Store) findFacts(ctx context.Context, filter bson.D) ([]facts.Fact, error) {
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
			out = append(out, facts.Fact{Patient: f.Patient, Kind: f.Kind, Org: f.Org, Until: f.Until, Code: f.Code, From: f.From})
		}
	}
	return out, nil
}

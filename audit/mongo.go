package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/store"
)

// mongoRecords keeps the chain in a MongoDB collection: one document per
// record, with the BSON names of record's fields.
type mongoRecords struct{ coll *mongo.Collection }

// mongoReviews is the old reviews store, <collection>_reviews, keyed by the
// audit id (review.go).
type mongoReviews struct{ coll *mongo.Collection }

// ensureIndexes creates the indexes every query of the package needs.
func (m mongoRecords) ensureIndexes(ctx context.Context) error {
	desc := func(k string) bson.D { return bson.D{{Key: k, Value: 1}, {Key: "seq", Value: -1}} }
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "seq", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: desc("pat")},
		{Keys: desc("sub")},
		{Keys: desc("org")},
		{Keys: desc("bg")},
		{Keys: bson.D{{Key: "t", Value: 1}}},
		{Keys: bson.D{{Key: "kind", Value: 1}}},
		{Keys: bson.D{{Key: "rof", Value: 1}}},
	}
	// One at a time: the embedded server (FerretDB 1.24) drops the
	// connection when a createIndexes batch holds several existing indexes.
	for _, model := range models {
		if _, err := m.coll.Indexes().CreateOne(ctx, model); err != nil {
			return fmt.Errorf("create audit indexes: %w", unavailable(err))
		}
	}
	return nil
}

func (m mongoRecords) head(ctx context.Context) (head, error) {
	var h struct {
		Seq  int64  `bson:"seq"`
		Hash string `bson:"hash"`
	}
	err := m.coll.FindOne(ctx, bson.D{}, options.FindOne().
		SetSort(bson.D{{Key: "seq", Value: -1}}).
		SetProjection(bson.D{{Key: "seq", Value: 1}, {Key: "hash", Value: 1}})).Decode(&h)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return head{0, genesis}, nil
	case err != nil:
		return head{}, unavailable(err)
	}
	return head{h.Seq, h.Hash}, nil
}

func (m mongoRecords) insert(ctx context.Context, recs []*record) error {
	docs := make([]any, len(recs))
	for i, r := range recs {
		docs[i] = r
	}
	_, err := m.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	return unavailable(err)
}

// bson is f as a MongoDB filter.
func (f *filter) bson() bson.D {
	d := bson.D{}
	add := func(k string, v any) { d = append(d, bson.E{Key: k, Value: v}) }
	if f.kind != "" {
		add("kind", f.kind)
	}
	switch len(f.ids) {
	case 0:
	case 1:
		add("_id", f.ids[0])
	default:
		add("_id", bson.D{{Key: "$in", Value: f.ids}})
	}
	if len(f.reviewOf) > 0 {
		add("rof", bson.D{{Key: "$in", Value: f.reviewOf}})
	}
	if f.patient != "" {
		add("pat", f.patient)
		if f.notOwn {
			add("own", bson.D{{Key: "$ne", Value: f.patient}})
		}
	}
	for _, kv := range []struct{ k, v string }{{"sub", f.subject}, {"org", f.org}, {"pou", f.purpose}} {
		if kv.v != "" {
			add(kv.k, kv.v)
		}
	}
	if f.allowed != nil {
		add("allowed", *f.allowed)
	}
	if f.breakGlass != nil {
		add("bg", *f.breakGlass)
	}
	var tr bson.D
	if !f.from.IsZero() {
		tr = append(tr, bson.E{Key: "$gte", Value: f.from.UTC()})
	}
	if !f.to.IsZero() {
		tr = append(tr, bson.E{Key: "$lt", Value: f.to.UTC()})
	}
	if len(tr) > 0 {
		add("t", tr)
	}
	var sr bson.D
	if f.atSeq != 0 {
		sr = append(sr, bson.E{Key: "$eq", Value: f.atSeq})
	}
	if f.before != 0 {
		sr = append(sr, bson.E{Key: "$lt", Value: f.before})
	}
	if f.after != 0 {
		sr = append(sr, bson.E{Key: "$gt", Value: f.after})
	}
	switch {
	case len(sr) == 1 && sr[0].Key == "$eq":
		add("seq", f.atSeq)
	case len(sr) > 0:
		add("seq", sr)
	}
	return d
}

func (m mongoRecords) find(ctx context.Context, f filter, desc bool, limit int) ([]record, error) {
	dir := 1
	if desc {
		dir = -1
	}
	cur, err := m.coll.Find(ctx, f.bson(), options.Find().SetSort(bson.D{{Key: "seq", Value: dir}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, unavailable(err)
	}
	var recs []record
	if err := cur.All(ctx, &recs); err != nil {
		return nil, unavailable(err)
	}
	return recs, nil
}

func (m mongoRecords) latestCheckpoint(ctx context.Context) (checkpoint, error) {
	var r record
	err := m.coll.FindOne(ctx, bson.D{{Key: "kind", Value: kindCheckpoint}},
		options.FindOne().SetSort(bson.D{{Key: "cps", Value: -1}})).Decode(&r)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return checkpoint{hash: genesis}, nil
	case err != nil:
		return checkpoint{}, unavailable(err)
	}
	return checkpointOf(&r), nil
}

func (m mongoRecords) countThrough(ctx context.Context, through int64) (int64, error) {
	n, err := m.coll.CountDocuments(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$lte", Value: through}}}})
	return n, unavailable(err)
}

func (m mongoRecords) firstNaming(ctx context.Context, after, through int64) (map[string]int64, error) {
	cur, err := m.coll.Find(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: through}}}, {Key: "pat", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}).SetProjection(bson.D{{Key: "seq", Value: 1}, {Key: "pat", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return nil, unavailable(err)
	}
	defer cur.Close(ctx)
	out := map[string]int64{}
	for cur.Next(ctx) {
		var r struct {
			Seq int64    `bson:"seq"`
			Pat []string `bson:"pat"`
		}
		if err := cur.Decode(&r); err != nil {
			return nil, unavailable(err)
		}
		for _, p := range r.Pat {
			if _, ok := out[p]; !ok {
				out[p] = r.Seq
			}
		}
	}
	return out, unavailable(cur.Err())
}

func (m mongoRecords) deleteThrough(ctx context.Context, through int64) (int64, error) {
	res, err := m.coll.DeleteMany(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$lte", Value: through}}}})
	if err != nil {
		return 0, unavailable(err)
	}
	return res.DeletedCount, nil
}

func (m mongoRecords) walk(ctx context.Context, fn func(*storedRecord) error) error {
	cur, err := m.coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return unavailable(err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		if err := fn(decodeBSON(cur.Current)); err != nil {
			return err
		}
	}
	return unavailable(cur.Err())
}

// fields are the BSON field names a stored record may have; Verify reports
// any other field as an alteration.
var fields = []string{"_id", "seq", "prev", "hash", "kind", "t",
	"rid", "ia", "op", "rt", "q", "out", "st",
	"ak", "sub", "org", "role", "pou", "bgr", "cid", "apat", "net",
	"pat", "res", "cat", "n", "own", "allowed", "bg", "why", "rev", "obl", "dec", "deco", "dst",
	"rof", "vdt", "vnote", "vat",
	"cps", "cph", "cpn"}

func knownField(name string) bool { return slices.Contains(fields, name) }

// decodeBSON reads one stored document: its seq must be an integer and its
// fields those of a record.
func decodeBSON(raw bson.Raw) *storedRecord {
	s := &storedRecord{}
	s.id, _ = raw.Lookup("_id").StringValueOK()
	seqVal := raw.Lookup("seq")
	if seq, ok := seqVal.Int64OK(); ok {
		s.seq, s.seqOK = seq, true
	} else if s32, ok := seqVal.Int32OK(); ok {
		s.seq, s.seqOK = int64(s32), true
	} else {
		return s
	}
	elems, err := raw.Elements()
	if err != nil {
		s.flaw = "record cannot be read"
		return s
	}
	for _, e := range elems {
		if !knownField(e.Key()) {
			s.flaw = "record has an unexpected field"
			return s
		}
	}
	if err := bson.Unmarshal(raw, &s.rec); err != nil {
		s.flaw = "record cannot be decoded"
	}
	return s
}

func (m mongoReviews) add(ctx context.Context, r review) error {
	_, err := m.coll.InsertOne(ctx, r)
	if mongo.IsDuplicateKeyError(err) {
		return errReviewExists
	}
	return unavailable(err)
}

func (m mongoReviews) walk(ctx context.Context, fn func(review) error) error {
	cur, err := m.coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return unavailable(err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var r review
		if err := cur.Decode(&r); err != nil {
			return fmt.Errorf("a break-glass review cannot be decoded: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return unavailable(cur.Err())
}

// unavailable classifies driver errors as the store does.
func unavailable(err error) error { return store.Unavailable(err) }

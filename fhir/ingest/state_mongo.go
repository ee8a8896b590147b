package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/socialcare-fhir/gateway/fhir/store"
)

// mongoState keeps journals and job records in two collections of the
// resources' MongoDB database, written with majority write concern.
type mongoState struct {
	journal *mongo.Collection
	jobs    *mongo.Collection
}

func newMongoState(db *mongo.Database) *mongoState {
	majority := options.Collection().SetWriteConcern(writeconcern.Majority())
	return &mongoState{
		journal: db.Collection(JournalCollection, majority),
		jobs:    db.Collection(JobsCollection, majority),
	}
}

func (s *mongoState) setup(ctx context.Context) error {
	// Asking the embedded server (FerretDB 1.24) to create an index that
	// exists already drops the connection, so create only missing ones.
	specs, err := s.journal.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list journal indexes: %w", dbError(err))
	}
	have := make(map[string]bool, len(specs))
	for _, s := range specs {
		have[s.Name] = true
	}
	var models []mongo.IndexModel
	for name, keys := range map[string]bson.D{
		"state_1_created_1": {{Key: "state", Value: 1}, {Key: "created", Value: 1}},
		"key_1_state_1":     {{Key: "key", Value: 1}, {Key: "state", Value: 1}},
	} {
		if !have[name] {
			models = append(models, mongo.IndexModel{Keys: keys, Options: options.Index().SetName(name)})
		}
	}
	if len(models) == 0 {
		return nil
	}
	if _, err := s.journal.Indexes().CreateMany(ctx, models); err != nil {
		return fmt.Errorf("create journal indexes: %w", dbError(err))
	}
	return nil
}

func (s *mongoState) insertJournal(ctx context.Context, j *journal) error {
	_, err := s.journal.InsertOne(ctx, j)
	if mongo.IsDuplicateKeyError(err) {
		return errExists
	}
	return dbError(err)
}

func (s *mongoState) pendingIDs(ctx context.Context, f pendingFilter) ([]bson.ObjectID, error) {
	filter := bson.D{{Key: "state", Value: statePending}}
	if f.key != "" {
		filter = append(filter, bson.E{Key: "key", Value: f.key})
	}
	if !f.before.IsZero() {
		filter = append(filter, bson.E{Key: "created", Value: bson.D{{Key: "$lt", Value: f.before}}})
	}
	cur, err := s.journal.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, dbError(err)
	}
	var docs []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, dbError(err)
	}
	ids := make([]bson.ObjectID, len(docs))
	for n, d := range docs {
		ids[n] = d.ID
	}
	return ids, nil
}

func (s *mongoState) pendingJournal(ctx context.Context, id bson.ObjectID) (*journal, error) {
	var j journal
	err := s.journal.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: statePending}}).Decode(&j)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, dbError(err)
	}
	return &j, nil
}

func (s *mongoState) markApplied(ctx context.Context, id bson.ObjectID, at time.Time) error {
	_, err := s.journal.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "state", Value: stateApplied}, {Key: "applied", Value: at}}},
		{Key: "$unset", Value: bson.D{{Key: "res", Value: ""}}},
	})
	return dbError(err)
}

func (s *mongoState) insertJob(ctx context.Context, d *jobDoc) error {
	_, err := s.jobs.InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return errExists
	}
	return dbError(err)
}

func (s *mongoState) updateJob(ctx context.Context, id string, u jobUpdate) error {
	set := bson.D{{Key: "updated", Value: u.updated}, {Key: "done", Value: u.done}, {Key: "rejected", Value: u.rejected}}
	if u.state != "" {
		set = append(set, bson.E{Key: "state", Value: u.state})
	}
	if !u.finished.IsZero() {
		set = append(set, bson.E{Key: "finished", Value: u.finished})
	}
	if u.problems != nil {
		set = append(set, bson.E{Key: "problems", Value: u.problems})
	}
	if u.report != "" {
		set = append(set, bson.E{Key: "report", Value: u.report})
	}
	_, err := s.jobs.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return dbError(err)
}

func (s *mongoState) job(ctx context.Context, id string) (*jobDoc, error) {
	var d jobDoc
	err := s.jobs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, dbError(err)
	}
	return &d, nil
}

func (s *mongoState) jobIDs(ctx context.Context) ([]string, error) {
	cur, err := s.jobs.Find(ctx, bson.D{}, options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, dbError(err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, dbError(err)
	}
	ids := make([]string, len(docs))
	for n, d := range docs {
		ids[n] = d.ID
	}
	return ids, nil
}

// dbError marks errors that mean the database cannot be reached with
// fhir.ErrUnavailable (a 503 the client retries), as the store does.
func dbError(err error) error { return store.Unavailable(err) }

package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/socialcare-fhir/gateway/fhir/store"
)

// Collection is the MongoDB collection of export jobs.
const Collection = "export_jobs"

// MongoJobs keeps jobs in a collection of the resources' database,
// written with majority write concern: {_id, state, doc: <JSON Job>}.
type MongoJobs struct{ c *mongo.Collection }

// NewMongo keeps jobs in db's export_jobs collection.
func NewMongo(db *mongo.Database) *MongoJobs {
	return &MongoJobs{c: db.Collection(Collection, options.Collection().SetWriteConcern(writeconcern.Majority()))}
}

type mongoDoc struct {
	ID    string `bson:"_id"`
	State string `bson:"state"`
	Doc   string `bson:"doc"`
}

func toDoc(j *Job) (*mongoDoc, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("export: encode job: %w", err)
	}
	return &mongoDoc{ID: j.ID, State: j.State, Doc: string(b)}, nil
}

// Insert writes a new job.
func (m *MongoJobs) Insert(ctx context.Context, j *Job) error {
	d, err := toDoc(j)
	if err != nil {
		return err
	}
	_, err = m.c.InsertOne(ctx, d)
	return store.Unavailable(err)
}

// Save replaces a job.
func (m *MongoJobs) Save(ctx context.Context, j *Job) error {
	d, err := toDoc(j)
	if err != nil {
		return err
	}
	_, err = m.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: j.ID}}, d)
	return store.Unavailable(err)
}

// Get reads a job: ErrNotFound when there is none.
func (m *MongoJobs) Get(ctx context.Context, id string) (*Job, error) {
	var d mongoDoc
	err := m.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, store.Unavailable(err)
	}
	return decode(d.Doc)
}

// Delete removes a job (none is no error).
func (m *MongoJobs) Delete(ctx context.Context, id string) error {
	_, err := m.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return store.Unavailable(err)
}

// InState lists the jobs in a state, by id.
func (m *MongoJobs) InState(ctx context.Context, state string) ([]*Job, error) {
	cur, err := m.c.Find(ctx, bson.D{{Key: "state", Value: state}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, store.Unavailable(err)
	}
	var docs []mongoDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, store.Unavailable(err)
	}
	out := make([]*Job, 0, len(docs))
	for _, d := range docs {
		j, err := decode(d.Doc)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

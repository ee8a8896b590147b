// Package assertions remembers the ids (jti) of the SMART Backend Services
// client assertions the token endpoint accepted, in the database, so that
// several gateway instances sharing one database refuse an assertion
// replayed to any of them (auth.JTIStore). The SQLite engine keeps them in
// a table of their own file (assertions.db), the MongoDB engine in the
// smart_assertion_ids collection; both forget an id once its assertion
// has expired.
package assertions

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// File is the SQLite engine's file in the data directory; Collection the
// MongoDB engine's collection.
const (
	File       = "assertions.db"
	Collection = "smart_assertion_ids"
)

var (
	_ auth.JTIStore = (*SQLite)(nil)
	_ auth.JTIStore = (*Mongo)(nil)
)

// SQLite keeps assertion ids in an SQLite database.
type SQLite struct {
	db  *sqlitedb.DB
	now func() time.Time
}

// OpenSQLite creates the table if needed. now is the clock (nil: time.Now).
func OpenSQLite(ctx context.Context, db *sqlitedb.DB, now func() time.Time) (*SQLite, error) {
	if err := db.Exec(ctx,
		`CREATE TABLE IF NOT EXISTS assertion_ids (client TEXT NOT NULL, jti TEXT NOT NULL, exp INTEGER NOT NULL, PRIMARY KEY (client, jti)) WITHOUT ROWID`,
		`CREATE INDEX IF NOT EXISTS assertion_ids_exp ON assertion_ids (exp)`,
	); err != nil {
		return nil, err
	}
	return &SQLite{db: db, now: clock(now)}, nil
}

// Use records client's jti until exp, in one transaction that first
// forgets every expired id; it reports false when the id is remembered.
func (s *SQLite) Use(ctx context.Context, client, jti string, exp time.Time) (bool, error) {
	fresh := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM assertion_ids WHERE exp <= ?`, s.now().UnixMilli()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO assertion_ids (client, jti, exp) VALUES (?, ?, ?)`, client, jti, exp.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("assertions: %w", sqlitedb.Wrap(err))
	}
	return fresh, nil
}

// Mongo keeps assertion ids in a MongoDB collection.
type Mongo struct {
	coll *mongo.Collection
	now  func() time.Time
}

type mongoID struct {
	Client string `bson:"c"`
	JTI    string `bson:"j"`
}

type mongoDoc struct {
	ID  mongoID   `bson:"_id"`
	Exp time.Time `bson:"exp"`
}

// OpenMongo uses the smart_assertion_ids collection of db, with an index
// on the expiry (created only when missing: the embedded server breaks
// the connection on a createIndexes of an existing index). now is the
// clock (nil: time.Now).
func OpenMongo(ctx context.Context, db *mongo.Database, now func() time.Time) (*Mongo, error) {
	coll := db.Collection(Collection)
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, store.Unavailable(err)
	}
	have := false
	for _, sp := range specs {
		have = have || sp.Name == "exp_1"
	}
	if !have {
		if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "exp", Value: 1}},
			Options: options.Index().SetName("exp_1")}); err != nil {
			return nil, fmt.Errorf("create the assertion ids index: %w", store.Unavailable(err))
		}
	}
	return &Mongo{coll: coll, now: clock(now)}, nil
}

// Use forgets every expired id, then inserts client's jti: a duplicate
// key (the unique _id) means it is remembered already. Two instances
// inserting the same id at once cannot both succeed.
func (m *Mongo) Use(ctx context.Context, client, jti string, exp time.Time) (bool, error) {
	now := m.now().UTC().Truncate(time.Millisecond)
	if _, err := m.coll.DeleteMany(ctx, bson.D{{Key: "exp", Value: bson.D{{Key: "$lte", Value: now}}}}); err != nil {
		return false, fmt.Errorf("assertions: %w", store.Unavailable(err))
	}
	_, err := m.coll.InsertOne(ctx, mongoDoc{ID: mongoID{Client: client, JTI: jti}, Exp: exp.UTC()})
	switch {
	case err == nil:
		return true, nil
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	}
	return false, fmt.Errorf("assertions: %w", store.Unavailable(err))
}

func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

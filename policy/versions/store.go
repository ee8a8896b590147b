package versions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Store keeps versions: whole documents, replaced only while their state
// is still the one the writer read.
type Store interface {
	// Insert stores a new version; ErrExists if its id is taken.
	Insert(ctx context.Context, v *Version) error
	// Get returns one version, ErrNotFound if there is none.
	Get(ctx context.Context, id string) (*Version, error)
	// List returns every version, newest first.
	List(ctx context.Context) ([]*Version, error)
	// Replace stores v if the stored version is still in state from;
	// ErrState otherwise.
	Replace(ctx context.Context, v *Version, from string) error
	// ActiveID is the id of the active version activated last ("" when
	// none): what every instance polls.
	ActiveID(ctx context.Context) (string, error)
	// ShadowID is the id of the version shadowing the active one, the
	// one that began last ("" when none): polled beside ActiveID.
	ShadowID(ctx context.Context) (string, error)
}

// File is the SQLite database of policy versions in the data directory.
const File = "policy.db"

// SQLite keeps versions in a table of a SQLite database.
type SQLite struct{ db *sqlitedb.DB }

// OpenSQLite creates the table if needed.
func OpenSQLite(ctx context.Context, db *sqlitedb.DB) (*SQLite, error) {
	err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS policy_versions (
		id        TEXT PRIMARY KEY,
		state     TEXT NOT NULL,
		created   INTEGER NOT NULL,
		activated INTEGER NOT NULL DEFAULT 0,
		doc       TEXT NOT NULL
	)`, `CREATE INDEX IF NOT EXISTS policy_versions_active ON policy_versions (state, activated)`)
	if err != nil {
		return nil, fmt.Errorf("create the policy versions table: %w", sqlitedb.Wrap(err))
	}
	return &SQLite{db: db}, nil
}

func (s *SQLite) Insert(ctx context.Context, v *Version) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO policy_versions (id, state, created, activated, doc) VALUES (?, ?, ?, ?, ?)`,
			v.ID, v.State, v.Created.UnixMilli(), v.Activated, string(doc))
		return err
	})
	if sqlitedb.IsUnique(err) {
		return ErrExists
	}
	return sqlitedb.Wrap(err)
}

func (s *SQLite) Get(ctx context.Context, id string) (*Version, error) {
	var doc string
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM policy_versions WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.db.Check(err)
	}
	return decode([]byte(doc))
}

func (s *SQLite) List(ctx context.Context) ([]*Version, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT doc FROM policy_versions ORDER BY created DESC, id`)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []*Version
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, s.db.Check(err)
		}
		v, err := decode([]byte(doc))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, s.db.Check(rows.Err())
}

func (s *SQLite) Replace(ctx context.Context, v *Version, from string) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE policy_versions SET state = ?, activated = ?, doc = ? WHERE id = ? AND state = ?`,
			v.State, v.Activated, string(doc), v.ID, from)
		if err != nil {
			return sqlitedb.Wrap(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		return nil
	})
}

func (s *SQLite) ActiveID(ctx context.Context) (string, error) {
	var id string
	err := s.db.R.QueryRowContext(ctx, `SELECT id FROM policy_versions WHERE state = ? ORDER BY activated DESC, id LIMIT 1`, Active).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, s.db.Check(err)
}

func (s *SQLite) ShadowID(ctx context.Context) (string, error) {
	var id string
	err := s.db.R.QueryRowContext(ctx, `SELECT id FROM policy_versions WHERE json_extract(doc, '$.shadowing') > 0
		ORDER BY json_extract(doc, '$.shadowing') DESC, id LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, s.db.Check(err)
}

// Mongo keeps versions in a MongoDB collection.
type Mongo struct{ coll *mongo.Collection }

// Collection is the MongoDB collection of policy versions.
const Collection = "policy_versions"

// OpenMongo uses the policy_versions collection of db.
func OpenMongo(ctx context.Context, db *mongo.Database) (*Mongo, error) {
	coll := db.Collection(Collection)
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "activated", Value: -1}}}); err != nil {
		return nil, fmt.Errorf("create the policy versions index: %w", err)
	}
	return &Mongo{coll: coll}, nil
}

// mongoDoc is a version as stored: the searched fields beside the whole
// version as JSON (its files keep their exact bytes).
type mongoDoc struct {
	ID        string `bson:"_id"`
	State     string `bson:"state"`
	Created   int64  `bson:"created"`
	Activated int64  `bson:"activated"`
	Shadowing int64  `bson:"shadowing"`
	Doc       string `bson:"doc"`
}

func toMongo(v *Version) (mongoDoc, error) {
	doc, err := json.Marshal(v)
	return mongoDoc{ID: v.ID, State: v.State, Created: v.Created.UnixMilli(), Activated: v.Activated, Shadowing: v.Shadowing, Doc: string(doc)}, err
}

func (m *Mongo) Insert(ctx context.Context, v *Version) error {
	d, err := toMongo(v)
	if err != nil {
		return err
	}
	_, err = m.coll.InsertOne(ctx, d)
	if mongo.IsDuplicateKeyError(err) {
		return ErrExists
	}
	return err
}

func (m *Mongo) Get(ctx context.Context, id string) (*Version, error) {
	var d mongoDoc
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decode([]byte(d.Doc))
}

func (m *Mongo) List(ctx context.Context) ([]*Version, error) {
	cur, err := m.coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "created", Value: -1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var ds []mongoDoc
	if err := cur.All(ctx, &ds); err != nil {
		return nil, err
	}
	out := make([]*Version, 0, len(ds))
	for _, d := range ds {
		v, err := decode([]byte(d.Doc))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (m *Mongo) Replace(ctx context.Context, v *Version, from string) error {
	d, err := toMongo(v)
	if err != nil {
		return err
	}
	res, err := m.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: v.ID}, {Key: "state", Value: from}}, d)
	if err != nil {
		return err
	}
	if res.MatchedCount != 1 {
		return ErrState
	}
	return nil
}

func (m *Mongo) ActiveID(ctx context.Context) (string, error) {
	var d struct {
		ID string `bson:"_id"`
	}
	err := m.coll.FindOne(ctx, bson.D{{Key: "state", Value: Active}}, options.FindOne().
		SetSort(bson.D{{Key: "activated", Value: -1}, {Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	return d.ID, err
}

func decode(doc []byte) (*Version, error) {
	var v Version
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, fmt.Errorf("decode stored policy version: %w", err)
	}
	return &v, nil
}

func (m *Mongo) ShadowID(ctx context.Context) (string, error) {
	var d struct {
		ID string `bson:"_id"`
	}
	err := m.coll.FindOne(ctx, bson.D{{Key: "shadowing", Value: bson.D{{Key: "$gt", Value: int64(0)}}}}, options.FindOne().
		SetSort(bson.D{{Key: "shadowing", Value: -1}, {Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	return d.ID, err
}

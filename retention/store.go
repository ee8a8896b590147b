package retention

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Decision kinds.
const (
	KindHold     = "hold"
	KindExtend   = "extend"
	KindDisposal = "disposal"
)

// Decision states.
const (
	// StateActive: a hold in force, an extension that applies.
	StateActive = "active"
	// StateLifted: a hold lifted.
	StateLifted = "lifted"
	// StateProposed: a disposal proposed, not yet approved; nothing is
	// destroyed.
	StateProposed = "proposed"
	// StateDisposed: a disposal approved and carried out.
	StateDisposed = "disposed"
)

// Person is who made a decision: the token's subject, organisation and
// job role.
type Person struct {
	Subject string `json:"subject"`
	Org     string `json:"org"`
	Role    string `json:"role"`
}

// Decision is one records-management decision, stored whole: a legal
// hold (on a person's records, or one category of them), an extension
// of retention to a new date, or a disposal (proposed, then approved and
// carried out). None holds clinical content: people and resources by
// reference, record classes, rules, reasons and dates.
type Decision struct {
	ID    string    `json:"id"`
	Kind  string    `json:"kind"`
	State string    `json:"state"`
	By    Person    `json:"by"`
	At    time.Time `json:"at"`
	// Patient is the person ("Patient/<id>"); Category, when set, limits
	// a hold or extension to one record category.
	Patient  string `json:"patient"`
	Category string `json:"category,omitempty"`
	Reason   string `json:"reason"`
	// Until is an extension's new earliest disposal date.
	Until *time.Time `json:"until,omitempty"`
	// Lifted is when and by whom a hold was lifted, and why.
	Lifted *Step `json:"lifted,omitempty"`

	// A disposal: the items proposed (what would go), then its approval.
	Items    []Item `json:"items,omitempty"`
	Approved *Step  `json:"approved,omitempty"`
	// Schedule is the policy revision whose schedule the disposal applied.
	Schedule string `json:"schedule,omitempty"`
	// Destroyed counts the versions purged; AuditID is the destruction
	// record's id in the audit trail (AuditEvent/<id>).
	Destroyed int    `json:"destroyed,omitempty"`
	AuditID   string `json:"auditId,omitempty"`
}

// Step is a later step of a decision.
type Step struct {
	By     Person    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Store errors.
var (
	ErrNotFound = errors.New("retention: no such decision")
	ErrExists   = errors.New("retention: decision id taken")
	ErrState    = errors.New("retention: the decision changed meanwhile")
)

// Store keeps decisions: whole documents, replaced only while their
// state is still the one the writer read (two approvals of one
// disposal: one wins).
type Store interface {
	Insert(ctx context.Context, d *Decision) error
	Get(ctx context.Context, id string) (*Decision, error)
	// List returns the decisions of a kind ("" every kind), oldest first.
	List(ctx context.Context, kind string) ([]*Decision, error)
	// Replace stores d if the stored decision is still in state from.
	Replace(ctx context.Context, d *Decision, from string) error
}

// NewID is a new decision id.
func NewID() string { return store.NewID() }

// File is the SQLite database of decisions in the data directory.
const File = "retention.db"

// Collection is the MongoDB collection of decisions.
const Collection = "retention_decisions"

// SQLite keeps decisions in a table of a SQLite database.
type SQLite struct{ db *sqlitedb.DB }

// OpenSQLite creates the table if needed.
func OpenSQLite(ctx context.Context, db *sqlitedb.DB) (*SQLite, error) {
	err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS retention_decisions (
		id    TEXT PRIMARY KEY,
		kind  TEXT NOT NULL,
		state TEXT NOT NULL,
		at    INTEGER NOT NULL,
		doc   TEXT NOT NULL
	)`, `CREATE INDEX IF NOT EXISTS retention_decisions_kind ON retention_decisions (kind, at, id)`)
	if err != nil {
		return nil, fmt.Errorf("create the retention decisions table: %w", sqlitedb.Wrap(err))
	}
	return &SQLite{db: db}, nil
}

func (s *SQLite) Insert(ctx context.Context, d *Decision) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO retention_decisions (id, kind, state, at, doc) VALUES (?, ?, ?, ?, ?)`,
			d.ID, d.Kind, d.State, d.At.UnixMilli(), string(doc))
		return err
	})
	if sqlitedb.IsUnique(err) {
		return ErrExists
	}
	return sqlitedb.Wrap(err)
}

func (s *SQLite) Get(ctx context.Context, id string) (*Decision, error) {
	var doc string
	err := s.db.R.QueryRowContext(ctx, `SELECT doc FROM retention_decisions WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, s.db.Check(err)
	}
	return decode(doc)
}

func (s *SQLite) List(ctx context.Context, kind string) ([]*Decision, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT doc FROM retention_decisions WHERE ? = '' OR kind = ? ORDER BY at, id`, kind, kind)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []*Decision
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, s.db.Check(err)
		}
		d, err := decode(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, s.db.Check(rows.Err())
}

func (s *SQLite) Replace(ctx context.Context, d *Decision, from string) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE retention_decisions SET state = ?, doc = ? WHERE id = ? AND state = ?`, d.State, string(doc), d.ID, from)
		if err != nil {
			return sqlitedb.Wrap(err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		return nil
	})
}

// Mongo keeps decisions in a MongoDB collection.
type Mongo struct{ coll *mongo.Collection }

type mongoDoc struct {
	ID    string `bson:"_id"`
	Kind  string `bson:"kind"`
	State string `bson:"state"`
	At    int64  `bson:"at"`
	Doc   string `bson:"doc"`
}

// OpenMongo uses the retention_decisions collection of db.
func OpenMongo(ctx context.Context, db *mongo.Database) (*Mongo, error) {
	coll := db.Collection(Collection)
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, store.Unavailable(err)
	}
	for _, sp := range specs {
		if sp.Name == "kind_1_at_1" {
			return &Mongo{coll: coll}, nil
		}
	}
	// Created only when missing: the embedded server breaks the
	// connection on a createIndexes of an existing index.
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "kind", Value: 1}, {Key: "at", Value: 1}},
		Options: options.Index().SetName("kind_1_at_1")}); err != nil {
		return nil, fmt.Errorf("create the retention decisions index: %w", store.Unavailable(err))
	}
	return &Mongo{coll: coll}, nil
}

func toMongo(d *Decision) (mongoDoc, error) {
	doc, err := json.Marshal(d)
	return mongoDoc{ID: d.ID, Kind: d.Kind, State: d.State, At: d.At.UnixMilli(), Doc: string(doc)}, err
}

func (m *Mongo) Insert(ctx context.Context, d *Decision) error {
	md, err := toMongo(d)
	if err != nil {
		return err
	}
	_, err = m.coll.InsertOne(ctx, md)
	if mongo.IsDuplicateKeyError(err) {
		return ErrExists
	}
	return store.Unavailable(err)
}

func (m *Mongo) Get(ctx context.Context, id string) (*Decision, error) {
	var md mongoDoc
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&md)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, store.Unavailable(err)
	}
	return decode(md.Doc)
}

func (m *Mongo) List(ctx context.Context, kind string) ([]*Decision, error) {
	filter := bson.D{}
	if kind != "" {
		filter = bson.D{{Key: "kind", Value: kind}}
	}
	cur, err := m.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, store.Unavailable(err)
	}
	var mds []mongoDoc
	if err := cur.All(ctx, &mds); err != nil {
		return nil, store.Unavailable(err)
	}
	out := make([]*Decision, 0, len(mds))
	for _, md := range mds {
		d, err := decode(md.Doc)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (m *Mongo) Replace(ctx context.Context, d *Decision, from string) error {
	md, err := toMongo(d)
	if err != nil {
		return err
	}
	res, err := m.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "state", Value: from}}, md)
	if err != nil {
		return store.Unavailable(err)
	}
	if res.MatchedCount != 1 {
		return ErrState
	}
	return nil
}

func decode(doc string) (*Decision, error) {
	var d Decision
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("retention: stored decision: %w", err)
	}
	return &d, nil
}

var (
	_ Store = (*SQLite)(nil)
	_ Store = (*Mongo)(nil)
)

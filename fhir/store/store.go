// Package store persists FHIR resources in MongoDB through the official
// driver, with versions, history and search.
//
// Layout: one collection per resource type holds the current version of each
// resource (the "head"); a "<Type>_history" collection holds every version,
// the current one included. A head document is
//
//	{_id: <id>, vid: <version>, lu: <lastUpdated>, del: <deleted>, h: <content hash>,
//	 json: <the FHIR JSON>, pat: [<patient compartment>], sp: {<search fields>}}
//
// Writes need no multi-document transaction and no atomic read-modify-write
// from the server (the embedded server's compare-and-set is not atomic under
// concurrency). A writer first claims the next version by inserting it into
// history under the unique key "<id>/<version>": of two writers from the
// same version, exactly one insert succeeds, and the other gets a
// version conflict. Only the claimant then moves the head forward. A crash
// between the two steps leaves a claimed version that the head has not
// caught up with; the next writer (or reader of history) finds it and rolls
// the head forward, so a claimed version is never lost and never
// duplicated. A write is acknowledged only after the head moved, with
// majority write concern.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
)

// Store is the MongoDB persistence of FHIR resources.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	logger *slog.Logger
	now    func() time.Time
	// ods remembers the organisations each ODS code named last time.
	ods odsOrgs
}

// Options configure Open.
type Options struct {
	// Database is the database name (default "fhir").
	Database string
	// Monitor, when set, sees every command sent to the database; the
	// benchmarks count round trips with it.
	Monitor *event.CommandMonitor
	// Logger receives index-creation and recovery messages.
	Logger *slog.Logger
	// Clock stamps meta.lastUpdated (default time.Now); tests set it.
	Clock func() time.Time
}

// Open connects to the MongoDB at uri, with majority write concern, and
// creates the indexes for every query shape the store issues.
func Open(ctx context.Context, uri string, opt Options) (*Store, error) {
	if opt.Database == "" {
		opt.Database = "fhir"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	co := options.Client().ApplyURI(uri).
		SetWriteConcern(writeconcern.Majority()).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second)
	if opt.Monitor != nil {
		co.SetMonitor(opt.Monitor)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", err)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	s := &Store{client: client, db: client.Database(opt.Database), logger: opt.Logger, now: opt.Clock}
	if err := s.Ping(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if err := s.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if err := s.upgradeFacts(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("store: derive the access facts: %w", err)
	}
	return s, nil
}

// Close disconnects from the database.
func (s *Store) Close(ctx context.Context) error {
	return s.client.Disconnect(ctx)
}

// Database is the underlying database, for packages that keep their own
// collections beside the resources (audit, ingest journal).
func (s *Store) Database() *mongo.Database { return s.db }

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return wrap(err)
	}
	return nil
}

func (s *Store) heads(resourceType string) *mongo.Collection {
	return s.db.Collection(resourceType)
}

func (s *Store) history(resourceType string) *mongo.Collection {
	return s.db.Collection(resourceType + "_history")
}

func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, t := range fhir.ResourceTypes {
		keys := [][]bson.E{
			{{Key: "lu", Value: 1}, {Key: "_id", Value: 1}},
			{{Key: "pat", Value: 1}},
			{{Key: "acl.pat", Value: 1}},
			{{Key: "acl.cat", Value: 1}},
		}
		for _, k := range search.IndexKeys(t) {
			keys = append(keys, []bson.E{{Key: k, Value: 1}})
		}
		if err := s.createMissingIndexes(ctx, s.heads(t), keys); err != nil {
			return fmt.Errorf("create indexes on %s: %w", t, err)
		}
		hist := [][]bson.E{
			{{Key: "rid", Value: 1}, {Key: "vid", Value: -1}},
			{{Key: "lu", Value: -1}, {Key: "rid", Value: -1}, {Key: "vid", Value: -1}},
		}
		if err := s.createMissingIndexes(ctx, s.history(t), hist); err != nil {
			return fmt.Errorf("create indexes on %s history: %w", t, err)
		}
	}
	fx := [][]bson.E{{{Key: "f.p", Value: 1}}, {{Key: "f.o", Value: 1}}, {{Key: "f.k", Value: 1}}, {{Key: "f.c", Value: 1}}}
	if err := s.createMissingIndexes(ctx, s.db.Collection(factsCollection), fx); err != nil {
		return fmt.Errorf("create indexes on the access facts: %w", err)
	}
	return nil
}

// createMissingIndexes creates the indexes a collection lacks. Asking the
// embedded server to create an index that already exists crashes its
// connection (FerretDB 1.24), so existing ones are listed first.
func (s *Store) createMissingIndexes(ctx context.Context, coll *mongo.Collection, keys [][]bson.E) error {
	names, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return wrap(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n.Name] = true
	}
	var models []mongo.IndexModel
	for _, k := range keys {
		name := indexName(k)
		if !have[name] {
			models = append(models, mongo.IndexModel{Keys: bson.D(k), Options: options.Index().SetName(name)})
		}
	}
	if len(models) == 0 {
		return nil
	}
	_, err = coll.Indexes().CreateMany(ctx, models)
	return wrap(err)
}

// indexName is the name MongoDB would give the index: key_direction pairs.
func indexName(keys []bson.E) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('_')
		}
		fmt.Fprintf(&b, "%s_%v", k.Key, k.Value)
	}
	return b.String()
}

func wrap(err error) error { return Unavailable(err) }

// Unavailable marks MongoDB driver errors that mean the database cannot be
// reached with fhir.ErrUnavailable, so the gateway answers 503 and the
// client retries. Every package that talks to MongoDB classifies its
// errors with it.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fhir.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	var netErr net.Error
	switch {
	case mongo.IsNetworkError(err), mongo.IsTimeout(err), errors.As(err, &netErr),
		errors.Is(err, mongo.ErrClientDisconnected),
		errors.As(err, &topology.ServerSelectionError{}):
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, err)
	}
	return err
}

package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Journal states.
const (
	statePending = "pending"
	stateApplied = "applied"
)

// maxJournalBytes keeps a journal document under MongoDB's 16 MB limit,
// with room for the document's own fields.
const maxJournalBytes = 15 << 20

// journal is one record's translated resources, written before any of them
// is stored. Once applied, the resources are dropped and the document
// remains as a receipt (key, counts, times).
type journal struct {
	ID        bson.ObjectID     `bson:"_id"`
	Key       string            `bson:"key"` // the Patient reference
	State     string            `bson:"state"`
	Created   time.Time         `bson:"created"`
	Applied   time.Time         `bson:"applied,omitzero"`
	Count     int               `bson:"n"`
	Resources []journalResource `bson:"res,omitempty"`
}

type journalResource struct {
	Type string `bson:"t"`
	ID   string `bson:"id"`
	JSON string `bson:"json"`
}

func newJournal(resources []fhir.Resource, now time.Time) (*journal, error) {
	j := &journal{ID: bson.NewObjectID(), State: statePending, Created: now.UTC().Truncate(time.Millisecond),
		Count: len(resources), Resources: make([]journalResource, len(resources))}
	size := 0
	for n, r := range resources {
		if r.Type == "Patient" && j.Key == "" {
			j.Key = "Patient/" + r.ID
		}
		b, err := fhir.MarshalResource(r.Object)
		if err != nil {
			return nil, fmt.Errorf("ingest: journal %s: %w", r.Type, err)
		}
		size += len(b)
		j.Resources[n] = journalResource{Type: r.Type, ID: r.ID, JSON: string(b)}
	}
	if j.Key == "" {
		return nil, errors.New("ingest: translated record has no Patient")
	}
	if size > maxJournalBytes {
		return nil, fhir.Errorf(http.StatusRequestEntityTooLarge, "too-long",
			"The record is too large to store in one piece (%d resources, %d MB translated). Send the person's older visits and entries in a separate record.", len(resources), size>>20)
	}
	return j, nil
}

// resources decodes the journal's copy of the resources.
func (j *journal) resources() ([]fhir.Resource, error) {
	out := make([]fhir.Resource, len(j.Resources))
	for n, r := range j.Resources {
		obj, err := fhir.DecodeObject([]byte(r.JSON))
		if err != nil {
			return nil, fmt.Errorf("ingest: journal %s entry %d: %w", j.ID.Hex(), n, err)
		}
		out[n] = fhir.Resource{Type: r.Type, ID: r.ID, Object: obj}
	}
	return out, nil
}

func (i *Ingester) markApplied(ctx context.Context, id bson.ObjectID) error {
	_, err := i.journal.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "state", Value: stateApplied}, {Key: "applied", Value: i.now().UTC().Truncate(time.Millisecond)}}},
		{Key: "$unset", Value: bson.D{{Key: "res", Value: ""}}},
	})
	if err != nil {
		return fmt.Errorf("ingest: mark journal applied: %w", dbError(err))
	}
	return nil
}

// Recover finishes every record whose storing was interrupted, oldest
// first, and returns how many it finished. Run it at start-up, before
// serving, so that no half-stored record is ever read. It also creates the
// indexes of the ingest collections.
func (i *Ingester) Recover(ctx context.Context) (int, error) {
	if err := i.ensureIndexes(ctx); err != nil {
		return 0, err
	}
	return i.finish(ctx, bson.D{{Key: "state", Value: statePending}})
}

// RecoverStale finishes the records whose storing was interrupted at least
// olderThan ago, for instance by a database outage in the middle of a
// record while the gateway kept running. Records younger than that may
// still be being stored by their own request, and are left to it.
func (i *Ingester) RecoverStale(ctx context.Context, olderThan time.Duration) (int, error) {
	return i.finish(ctx, bson.D{{Key: "state", Value: statePending},
		{Key: "created", Value: bson.D{{Key: "$lt", Value: i.now().Add(-olderThan).UTC()}}}})
}

// RecoverEvery runs RecoverStale every interval until ctx ends, logging
// what it finished and any error (journal ids and counts only).
func (i *Ingester) RecoverEvery(ctx context.Context, interval, olderThan time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := i.RecoverStale(ctx, olderThan)
		switch {
		case err != nil && ctx.Err() == nil:
			i.logger.Warn("ingest: finishing interrupted records failed; will retry", "error", err)
		case n > 0:
			i.logger.Warn("ingest: finished interrupted records", "records", n)
		}
	}
}

// finishPending finishes the pending journals of one person.
func (i *Ingester) finishPending(ctx context.Context, key string) error {
	_, err := i.finish(ctx, bson.D{{Key: "state", Value: statePending}, {Key: "key", Value: key}})
	return err
}

func (i *Ingester) finish(ctx context.Context, filter bson.D) (int, error) {
	// Only ids first: a journal may be megabytes, and the cursor should
	// not hold many of them.
	cur, err := i.journal.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("ingest: find pending journals: %w", dbError(err))
	}
	var ids []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &ids); err != nil {
		return 0, fmt.Errorf("ingest: find pending journals: %w", dbError(err))
	}
	done := 0
	for _, id := range ids {
		var j journal
		err := i.journal.FindOne(ctx, bson.D{{Key: "_id", Value: id.ID}, {Key: "state", Value: statePending}}).Decode(&j)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue // finished meanwhile by another request
		}
		if err != nil {
			return done, fmt.Errorf("ingest: read journal: %w", dbError(err))
		}
		resources, err := j.resources()
		if err != nil {
			return done, err
		}
		if _, err := i.applyAndClose(ctx, &j, resources); err != nil {
			return done, err
		}
		done++
		i.logger.Info("ingest: finished an interrupted record", "journal", j.ID.Hex(), "resources", j.Count)
	}
	return done, nil
}

func (i *Ingester) ensureIndexes(ctx context.Context) error {
	// Asking the embedded server (FerretDB 1.24) to create an index that
	// exists already drops the connection, so create only missing ones.
	specs, err := i.journal.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("ingest: list journal indexes: %w", dbError(err))
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
	if _, err := i.journal.Indexes().CreateMany(ctx, models); err != nil {
		return fmt.Errorf("ingest: create journal indexes: %w", dbError(err))
	}
	return nil
}

// dbError marks errors that mean the database cannot be reached with
// fhir.ErrUnavailable (a 503 the client retries), as the store does.
func dbError(err error) error {
	if err == nil || errors.Is(err, fhir.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	var netErr net.Error
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, &netErr) ||
		errors.Is(err, mongo.ErrClientDisconnected) || errors.As(err, &topology.ServerSelectionError{}) {
		return fmt.Errorf("%w: %w", fhir.ErrUnavailable, err)
	}
	return err
}

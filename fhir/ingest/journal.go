package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Journal states.
const (
	statePending = "pending"
	stateApplied = "applied"
)

// maxJournalBytes keeps a journal document under MongoDB's 16 MB limit,
// with room for the document's own fields. The SQLite journal has the same
// limit, so that a record is accepted or refused alike by both engines.
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

// newJournal journals a translated record, keyed by its person: the
// Patient it holds, or subject (a record joining a Patient already held).
func newJournal(resources []fhir.Resource, subject string, now time.Time) (*journal, error) {
	j, err := newReceipt(resources, subject, now)
	if err != nil {
		return nil, err
	}
	j.Resources = make([]journalResource, len(resources))
	size := 0
	for n, r := range resources {
		b, err := fhir.MarshalResource(r.Object)
		if err != nil {
			return nil, fmt.Errorf("ingest: journal %s: %w", r.Type, err)
		}
		size += len(b)
		j.Resources[n] = journalResource{Type: r.Type, ID: r.ID, JSON: string(b)}
	}
	if err := checkSize(len(resources), size); err != nil {
		return nil, err
	}
	return j, nil
}

// newReceipt is a journal without the copy of the resources: the receipt
// of a record that a store writes in one transaction (see storeWhole).
func newReceipt(resources []fhir.Resource, subject string, now time.Time) (*journal, error) {
	j := &journal{ID: bson.NewObjectID(), State: statePending, Created: now.UTC().Truncate(time.Millisecond),
		Count: len(resources), Key: subject}
	for _, r := range resources {
		if r.Type == "Patient" && j.Key == "" {
			j.Key = "Patient/" + r.ID
		}
	}
	if j.Key == "" {
		return nil, errors.New("ingest: translated record has no Patient")
	}
	return j, nil
}

// checkSize refuses a record whose n resources come to size bytes of JSON
// when that is more than a journal may hold, whichever engine stores it.
func checkSize(n, size int) error {
	if size > maxJournalBytes {
		return fhir.Errorf(http.StatusRequestEntityTooLarge, "too-long",
			"The record is too large to store in one piece (%d resources, %d MB translated). Send the person's older visits and entries in a separate record.", n, size>>20)
	}
	return nil
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
	if err := i.state.markApplied(ctx, id, i.now().UTC().Truncate(time.Millisecond)); err != nil {
		return fmt.Errorf("ingest: mark journal applied: %w", err)
	}
	return nil
}

// Recover finishes every record whose storing was interrupted, oldest
// first, and returns how many it finished. Run it at start-up, before
// serving, so that no half-stored record is ever read. It also creates the
// indexes of the ingest collections (MongoDB) or the tables and indexes
// (SQLite).
func (i *Ingester) Recover(ctx context.Context) (int, error) {
	if err := i.state.setup(ctx); err != nil {
		return 0, fmt.Errorf("ingest: %w", err)
	}
	return i.finish(ctx, pendingFilter{})
}

// RecoverStale finishes the records whose storing was interrupted at least
// olderThan ago, for instance by a database outage in the middle of a
// record while the gateway kept running. Records younger than that may
// still be being stored by their own request, and are left to it.
func (i *Ingester) RecoverStale(ctx context.Context, olderThan time.Duration) (int, error) {
	return i.finish(ctx, pendingFilter{before: i.now().Add(-olderThan).UTC()})
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
	_, err := i.finish(ctx, pendingFilter{key: key})
	return err
}

func (i *Ingester) finish(ctx context.Context, f pendingFilter) (int, error) {
	// Only ids first: a journal may be megabytes, and a cursor should not
	// hold many of them.
	ids, err := i.state.pendingIDs(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("ingest: find pending journals: %w", err)
	}
	done := 0
	for _, id := range ids {
		j, err := i.state.pendingJournal(ctx, id)
		if err != nil {
			return done, fmt.Errorf("ingest: read journal: %w", err)
		}
		if j == nil {
			continue // finished meanwhile by another request
		}
		resources, err := j.resources()
		if err != nil {
			return done, err
		}
		if _, err := i.applyAndClose(ctx, j, resources, nil); err != nil {
			return done, err
		}
		done++
		i.logger.Info("ingest: finished an interrupted record", "journal", j.ID.Hex(), "resources", j.Count)
	}
	return done, nil
}

package ingest

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
)

// state is where an Ingester keeps its journals and job records: MongoDB
// (mongoState, next to the resources) or SQLite (sqliteState, a file of
// its own). Errors that mean the database cannot be reached wrap
// fhir.ErrUnavailable.
type state interface {
	// setup creates the indexes (and tables) the queries below use. It is
	// idempotent.
	setup(ctx context.Context) error

	// insertJournal writes a new journal: errExists when one with its id
	// exists.
	insertJournal(ctx context.Context, j *journal) error
	// pendingIDs lists the pending journals f selects, oldest first
	// (created, then id).
	pendingIDs(ctx context.Context, f pendingFilter) ([]bson.ObjectID, error)
	// pendingJournal reads a journal with its resources if it is still
	// pending; nil and no error when it is not (or does not exist).
	pendingJournal(ctx context.Context, id bson.ObjectID) (*journal, error)
	// markApplied marks a journal applied at the given time and drops its
	// copy of the resources.
	markApplied(ctx context.Context, id bson.ObjectID, at time.Time) error

	// insertJob writes a new job record: errExists when one with its id
	// exists.
	insertJob(ctx context.Context, d *jobDoc) error
	// updateJob changes a job record (see jobUpdate).
	updateJob(ctx context.Context, id string, u jobUpdate) error
	// job reads a job record: errNotFound when there is none.
	job(ctx context.Context, id string) (*jobDoc, error)
	// jobIDs lists every job record's id, in id order.
	jobIDs(ctx context.Context) ([]string, error)
}

var (
	errExists   = errors.New("ingest: a document with this id exists")
	errNotFound = errors.New("ingest: no such document")
)

// pendingFilter selects pending journals: all of them, or those of one
// person (key), or those created before a time.
type pendingFilter struct {
	key    string
	before time.Time
}

// jobUpdate is a change to a job record: updated, done and rejected are
// always set; the other fields only when not zero.
type jobUpdate struct {
	updated        time.Time
	done, rejected int
	state          string
	finished       time.Time
	problems       []fhir.Issue
	report         string
}

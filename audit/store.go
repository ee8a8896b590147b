package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// records is where a Log keeps its chain: a MongoDB collection
// (mongoRecords, mongo.go) or a SQLite table (sqliteRecords, sqlite.go).
// The chain logic, the writer, reading, retention, verification and export
// are written once against it. Errors that mean the database cannot be
// reached wrap fhir.ErrUnavailable; errors never quote record contents.
type records interface {
	// head returns the seq and hash of the record with the highest seq,
	// seq 0 and the genesis hash when there is none. It reads nothing
	// else, so a damaged record at the head cannot stop the writer.
	head(ctx context.Context) (head, error)
	// insert stores recs, in order, with the seq, prev and hash they
	// carry. On error MongoDB may have stored a prefix (an ordered
	// InsertMany); SQLite stores all or nothing (one transaction). A
	// clash on seq or id is an error for which isConflict is true.
	insert(ctx context.Context, recs []*record) error
	// find returns up to limit records matching f in seq order, newest
	// first when desc.
	find(ctx context.Context, f filter, desc bool, limit int) ([]record, error)
	// latestCheckpoint returns the checkpoint with the highest purge
	// point (seq 0 and the genesis hash when there is none).
	latestCheckpoint(ctx context.Context) (checkpoint, error)
	// countThrough and deleteThrough count and remove the records with
	// seq <= through.
	countThrough(ctx context.Context, through int64) (int64, error)
	deleteThrough(ctx context.Context, through int64) (int64, error)
	// firstNaming is, for each patient the records with after < seq <=
	// through name, the lowest such seq.
	firstNaming(ctx context.Context, after, through int64) (map[string]int64, error)
	// walk calls fn with every record as stored, in seq order, until fn
	// returns an error (which walk returns). It is how Verify and
	// ExportRecords read the chain.
	walk(ctx context.Context, fn func(*storedRecord) error) error
}

// reviewStore is where break-glass reviews were kept before they became
// audit records (the <collection>_reviews collection or table): read once
// at Open to move them into the chain (review.go), and copied as it is
// between engines. add refuses a second review of the same record with
// errReviewExists.
type reviewStore interface {
	add(ctx context.Context, r review) error
	// walk calls fn with every review in audit id order.
	walk(ctx context.Context, fn func(review) error) error
}

// errReviewExists: reviewStore.add found a review of the same record.
var errReviewExists = errors.New("review exists")

// filter selects records for records.find. Zero fields do not filter.
type filter struct {
	kind    string   // kindEvent or kindCheckpoint
	ids     []string // record ids
	atSeq   int64    // seq = atSeq (seqs from 1)
	before  int64    // seq < before
	after   int64    // seq > after
	patient string   // "Patient/<id>" concerned
	// notOwn, with patient, leaves out the patient's own accesses.
	notOwn bool
	// reviewOf: records of reviews of these record ids.
	reviewOf              []string
	subject, org, purpose string
	allowed, breakGlass   *bool
	from, to              time.Time // from <= t < to
}

// storedRecord is a record as read back for verification or export, with
// what its stored form showed beyond the record itself.
type storedRecord struct {
	id    string // "" when it could not be read
	seq   int64  // the stored seq (meaningful when seqOK)
	seqOK bool   // the stored seq is an integer
	// flaw says why the stored form is not exactly a record (an unknown
	// field, a form that does not decode, an index that disagrees with
	// it); "" when it is. rec is valid only when flaw is "" and seqOK.
	flaw string
	rec  record
}

// errStop ends a walk early without an error.
var errStop = errors.New("stop walk")

// isConflict reports a clash on a unique key: another writer took the seq
// (or, for reviews, the record was reviewed already).
func isConflict(err error) bool {
	return mongo.IsDuplicateKeyError(err) || sqlitedb.IsUnique(err)
}

// errorClass names the kind of a database error for logs, which must not
// carry error text that could quote a record.
func errorClass(err error) string {
	switch {
	case isConflict(err):
		return "duplicate-key"
	case mongo.IsTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case mongo.IsNetworkError(err), errors.Is(err, mongo.ErrClientDisconnected):
		return "network"
	case errors.As(err, &topology.ServerSelectionError{}):
		return "server-selection"
	case errors.Is(err, fhir.ErrUnavailable):
		return "unavailable"
	}
	return "server"
}

// loadHead reads the chain head.
func loadHead(ctx context.Context, recs records) (head, error) {
	h, err := recs.head(ctx)
	if err != nil {
		return head{}, fmt.Errorf("read audit chain head: %w", err)
	}
	return h, nil
}

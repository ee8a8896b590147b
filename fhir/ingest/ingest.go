package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Collection names (MongoDB), which are also the table names (SQLite).
const (
	JournalCollection = "ingest_journal"
	JobsCollection    = "ingest_jobs"
)

// FileName is the SQLite journal's file in the data directory (see
// [NewSQLite]).
const FileName = "ingest.db"

// ResourceStore is what an Ingester needs of the FHIR resource store:
// Update as *store.Store has it (update as create; ifMatch 0 here, so an
// unchanged resource makes no new version).
type ResourceStore interface {
	Update(ctx context.Context, res *fhir.Resource, ifMatch int64) (store.WriteResult, error)
}

// BatchStore is a ResourceStore that can store a whole record in one
// transaction. When the store given to an Ingester has UpdateAll, each
// record is stored with one call to it instead of one Update per resource.
//
// UpdateAll must store every resource as Update(ctx, res, 0) would, in
// order, all or none, and return one WriteResult per resource in the same
// order. (*store.Store has no UpdateAll: MongoDB's embedded server has no
// multi-document transactions, so records are stored resource by resource
// and made whole by the journal.)
type BatchStore interface {
	ResourceStore
	UpdateAll(ctx context.Context, res []*fhir.Resource) ([]store.WriteResult, error)
}

// A PreparingStore is a BatchStore that works out a record's writes from
// their content before it takes its write lock (the SQLite engine):
// PrepareAll returns the write, which does what UpdateAll would, and the
// length of the JSON it will store (held to the journal's size limit, so
// that both engines refuse the same records). A bulk import prepares the
// next records while one is being written. workers is how many
// goroutines may prepare the record's resources at once (0: one a core).
type PreparingStore interface {
	BatchStore
	PrepareAll(res []*fhir.Resource, workers int) (write func(context.Context) ([]store.WriteResult, error), size int, err error)
}

// finishTimeout bounds the attempt to finish a record whose request was
// cancelled half-way (the client went away or its deadline passed).
const finishTimeout = 30 * time.Second

// Ingester stores social care records. It is safe for concurrent use.
// Call [Ingester.Recover] once at start-up and [Ingester.Close] at shutdown.
type Ingester struct {
	st     ResourceStore
	state  state // journals and job records
	logger *slog.Logger
	now    func() time.Time

	// afterApply, set only by tests, is called once the journal is written
	// (n = 0) and after each resource is stored (n = resources stored so
	// far); with a BatchStore, whose UpdateAll stores all or none and
	// which has no journal written first, it is called with 0 before
	// UpdateAll and then, once UpdateAll returned (before the receipt),
	// with the number of resources. An error stops the record there, as a
	// crash would.
	afterApply func(n int) error

	// Background jobs run under base, which Close cancels; mu orders
	// starting a job (wg.Add) before Close's wait.
	base   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	// heartbeat is how often a running job records its progress;
	// staleAfter is when a job that stopped doing so counts as interrupted.
	heartbeat, staleAfter time.Duration
}

// New returns an Ingester writing through st, the MongoDB engine, and
// keeping its journals and job records in st's database (collections
// JournalCollection and JobsCollection, majority write concern). logger
// receives operational messages only (counts, job ids, errors without
// record content).
func New(st *store.Store, logger *slog.Logger) *Ingester {
	return newIngesterOn(st, newMongoState(st.Database()), logger)
}

// NewSQLite returns an Ingester writing resources through st and keeping
// its journals and job records in the SQLite database db (tables
// JournalCollection and JobsCollection, created on first use; give it its
// own file, FileName in the data directory). When st is a [BatchStore],
// each record is stored in one UpdateAll transaction. db must stay open
// while the Ingester is used; the caller closes it after [Ingester.Close].
// logger receives operational messages only.
func NewSQLite(st ResourceStore, db *sqlitedb.DB, logger *slog.Logger) *Ingester {
	return newIngesterOn(st, newSQLiteState(db), logger)
}

func newIngesterOn(st ResourceStore, s state, logger *slog.Logger) *Ingester {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	return &Ingester{
		st:         st,
		state:      s,
		logger:     logger,
		now:        time.Now,
		base:       base,
		cancel:     cancel,
		heartbeat:  time.Second,
		staleAfter: 2 * time.Minute,
	}
}

// Outcome is what storing did to one resource, or to a record as a whole.
type Outcome string

// Outcomes.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
)

// Stored is one stored resource of a record.
type Stored struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id"`
	VersionID    int64   `json:"versionId,string"`
	Outcome      Outcome `json:"outcome"`
	// Provenance marks the Provenance resources, which say who recorded
	// each entry and when.
	Provenance bool `json:"provenance,omitempty"`
}

// Counts are resources by outcome.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

func (c *Counts) add(o Outcome) {
	switch o {
	case Created:
		c.Created++
	case Updated:
		c.Updated++
	default:
		c.Unchanged++
	}
}

// Outcome is the record's overall outcome: created when any resource was
// created, else updated when any was updated, else unchanged.
func (c Counts) Outcome() Outcome {
	switch {
	case c.Created > 0:
		return Created
	case c.Updated > 0:
		return Updated
	}
	return Unchanged
}

// Result says what storing a record did.
type Result struct {
	// Patient is the reference of the person's Patient resource.
	Patient string `json:"patient"`
	// Outcome is Counts.Outcome().
	Outcome   Outcome  `json:"outcome"`
	Counts    Counts   `json:"counts"`
	Resources []Stored `json:"resources"`
}

// Record decodes, translates and stores one record whole or not at all.
// A record with problems is the *fhir.Error from socialcare.Decode (400 or
// 422) and nothing is stored. A store failure leaves the record's journal
// pending, to be finished by Recover or by the person's next record; with
// a BatchStore, which stores the record in one transaction, it leaves
// nothing (the error is returned, and the record may be sent again).
func (i *Ingester) Record(ctx context.Context, data []byte) (*Result, error) {
	rec, err := socialcare.Decode(data, i.now())
	if err != nil {
		return nil, err
	}
	return i.store(ctx, rec)
}

// Decoded stores a record already decoded (and checked) by the caller,
// as Record does: for a gateway that set rec.Subject from what it holds.
func (i *Ingester) Decoded(ctx context.Context, rec *socialcare.Record) (*Result, error) {
	return i.store(ctx, rec)
}

// staged is a record made ready to store: translated, its journal built,
// and, with a PreparingStore, its writes prepared. Nothing of it depends
// on what is stored, so records are staged in parallel and ahead of their
// turn.
type staged struct {
	resources []fhir.Resource
	journal   *journal
	// write stores the resources (PreparingStore); nil: apply them with
	// the store's own calls.
	write func(context.Context) ([]store.WriteResult, error)
	// receipt: the store writes the record in one transaction, so journal
	// is only its receipt, without the resources, written once they are
	// stored (storeWhole).
	receipt bool
}

// store translates a decoded record, journals it and applies it.
func (i *Ingester) store(ctx context.Context, rec *socialcare.Record) (*Result, error) {
	st, err := i.stage(rec, 0)
	if err != nil {
		return nil, err
	}
	return i.commit(ctx, st)
}

// checkTranslated runs the R4 validator (invariants included) over what
// the translator built, as a REST write would be checked: a record whose
// translation breaks R4 is refused whole (422, every problem named by
// resource), never stored.
func checkTranslated(resources []fhir.Resource) error {
	var issues []fhir.Issue
	for n := range resources {
		r := &resources[n]
		if err := validate.Check(r.Object); err != nil {
			var fe *fhir.Error
			if !errors.As(err, &fe) {
				return fmt.Errorf("ingest: validate translated %s/%s: %w", r.Type, r.ID, err)
			}
			for _, is := range fe.Issues {
				is.Diagnostics = fmt.Sprintf("the record's %s would break FHIR R4: %s", r.Type, is.Diagnostics)
				issues = append(issues, is)
			}
		}
	}
	if len(issues) > 0 {
		return &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: issues}
	}
	return nil
}

// stage translates a decoded record, builds its journal and prepares its
// writes, on up to workers goroutines (0: one a core).
func (i *Ingester) stage(rec *socialcare.Record, workers int) (*staged, error) {
	resources, err := socialcare.Translate(rec)
	if err != nil {
		return nil, fmt.Errorf("ingest: translate: %w", err)
	}
	if err := checkTranslated(resources); err != nil {
		return nil, err
	}
	st := &staged{resources: resources}
	ps, preparing := i.st.(PreparingStore)
	_, batch := i.st.(BatchStore)
	switch {
	case preparing:
		// One transaction stores the record: only a receipt, and the
		// size limit checked on the JSON the store will keep.
		if st.journal, err = newReceipt(resources, rec.Subject, i.now()); err != nil {
			return nil, err
		}
		all := make([]*fhir.Resource, len(resources))
		for n := range resources {
			all[n] = &resources[n]
		}
		var size int
		if st.write, size, err = ps.PrepareAll(all, workers); err != nil {
			return nil, fmt.Errorf("ingest: prepare record: %w", err)
		}
		if err := checkSize(len(resources), size); err != nil {
			return nil, err
		}
		st.receipt = true
	case batch:
		if st.journal, err = newJournal(resources, rec.Subject, i.now()); err != nil {
			return nil, err
		}
		st.journal.Resources, st.receipt = nil, true
	default:
		if st.journal, err = newJournal(resources, rec.Subject, i.now()); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// commit journals a staged record and stores it.
func (i *Ingester) commit(ctx context.Context, st *staged) (*Result, error) {
	j := st.journal
	// Finish any record of this person a crash left half-stored, so that
	// its content cannot later overwrite this newer one.
	if err := i.finishPending(ctx, j.Key); err != nil {
		return nil, err
	}
	if st.receipt {
		return i.storeWhole(ctx, st)
	}
	if err := i.state.insertJournal(ctx, j); err != nil {
		return nil, fmt.Errorf("ingest: write journal: %w", err)
	}
	res, err := i.applyAndClose(ctx, j, st.resources, st.write)
	if err != nil && ctx.Err() != nil && !errors.Is(err, fhir.ErrUnavailable) {
		// The caller gave up half-way: finish the record anyway rather
		// than leave it half-stored until the next Recover.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		res, err = i.applyAndClose(fctx, j, st.resources, st.write)
	}
	return res, err
}

// storeWhole stores a record with a store that writes all of it in one
// transaction (a BatchStore): a crash leaves all of it stored or none,
// so nothing needs replaying and no journal is written first. Its
// receipt is written once it is stored; a record whose receipt could not
// be written stays stored (the receipt only says when it came).
func (i *Ingester) storeWhole(ctx context.Context, st *staged) (*Result, error) {
	j := st.journal
	res, err := i.apply(ctx, j.Key, st.resources, st.write)
	if err != nil && ctx.Err() != nil && !errors.Is(err, fhir.ErrUnavailable) {
		// The caller gave up: store the record anyway, as with a journal.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		defer cancel()
		res, err = i.apply(fctx, j.Key, st.resources, st.write)
	}
	if err != nil {
		return nil, err
	}
	i.writeReceipt(ctx, j)
	return res, nil
}

// writeReceipt writes the receipt of j, a record that is stored.
func (i *Ingester) writeReceipt(ctx context.Context, j *journal) {
	j.State, j.Applied = stateApplied, i.now().UTC().Truncate(time.Millisecond)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := i.state.insertJournal(rctx, j); err != nil {
		i.logger.Warn("ingest: a record was stored but its receipt was not written", "journal", j.ID.Hex(), "error", err)
	}
}

// A groupingStore stores several records in one transaction, each whole
// or not at all (the SQLite engine: sqlstore.Store.Group).
type groupingStore interface {
	Group(ctx context.Context, fn func(ctx context.Context) error) error
}

// storeGrouped stores a staged record that has a receipt inside a
// groupingStore's Group; its receipt is written once the group commits.
func (i *Ingester) storeGrouped(ctx context.Context, st *staged) (*Result, error) {
	if err := i.finishPending(ctx, st.journal.Key); err != nil {
		return nil, err
	}
	return i.apply(ctx, st.journal.Key, st.resources, st.write)
}

// applyAndClose stores the resources of journal j and marks it applied.
// write, when not nil, is their prepared write.
func (i *Ingester) applyAndClose(ctx context.Context, j *journal, resources []fhir.Resource, write func(context.Context) ([]store.WriteResult, error)) (*Result, error) {
	res, err := i.apply(ctx, j.Key, resources, write)
	if err != nil {
		return nil, err
	}
	if err := i.markApplied(ctx, j.ID); err != nil {
		return nil, err
	}
	return res, nil
}

// apply stores resources in order: with their prepared write, or one
// UpdateAll when the store is a BatchStore, or else one Update each; none
// makes a new version when the content is unchanged.
func (i *Ingester) apply(ctx context.Context, patient string, resources []fhir.Resource, write func(context.Context) ([]store.WriteResult, error)) (*Result, error) {
	if err := i.hook(0); err != nil {
		return nil, err
	}
	res := &Result{Patient: patient, Resources: make([]Stored, 0, len(resources))}
	bs, batch := i.st.(BatchStore)
	if batch && write == nil {
		all := make([]*fhir.Resource, len(resources))
		for n := range resources {
			all[n] = &resources[n]
		}
		write = func(ctx context.Context) ([]store.WriteResult, error) { return bs.UpdateAll(ctx, all) }
	}
	if write != nil {
		wrs, err := write(ctx)
		if err != nil {
			return nil, fmt.Errorf("ingest: store record: %w", storeError(err))
		}
		if len(wrs) != len(resources) {
			return nil, fmt.Errorf("ingest: store record: %d results for %d resources", len(wrs), len(resources))
		}
		for n := range resources {
			if err := res.add(&resources[n], wrs[n]); err != nil {
				return nil, err
			}
		}
		if err := i.hook(len(resources)); err != nil {
			return nil, err
		}
	} else {
		for n := range resources {
			r := &resources[n]
			wr, err := i.st.Update(ctx, r, 0)
			if err != nil {
				return nil, fmt.Errorf("ingest: store %s: %w", r.Type, storeError(err))
			}
			if err := res.add(r, wr); err != nil {
				return nil, err
			}
			if err := i.hook(n + 1); err != nil {
				return nil, err
			}
		}
	}
	res.Outcome = res.Counts.Outcome()
	return res, nil
}

// add records what storing r did.
func (res *Result) add(r *fhir.Resource, wr store.WriteResult) error {
	if wr.Version == nil {
		return fmt.Errorf("ingest: store %s: the store returned no version", r.Type)
	}
	o := Updated
	switch {
	case wr.Created:
		o = Created
	case wr.Unchanged:
		o = Unchanged
	}
	res.Counts.add(o)
	res.Resources = append(res.Resources, Stored{
		ResourceType: r.Type, ID: r.ID, VersionID: wr.Version.VersionID, Outcome: o,
		Provenance: r.Type == "Provenance",
	})
	return nil
}

func (i *Ingester) hook(n int) error {
	if i.afterApply == nil {
		return nil
	}
	return i.afterApply(n)
}

// storeError turns a version conflict (another request changing the same
// person's resources at the same moment) into a 409 the sender can retry;
// other errors pass through.
func storeError(err error) error {
	if errors.Is(err, fhir.ErrVersionConflict) {
		return &fhir.Error{Status: http.StatusConflict, Err: err, Issues: []fhir.Issue{{
			Severity: "error", Code: "conflict",
			Diagnostics: "Another request is changing this person's record at the same moment. Send the record again.",
		}}}
	}
	return err
}

package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Page sizes for Search, WhoAccessed and PendingBreakGlass.
const (
	defaultCount = 50
	maxCount     = 500
)

// ErrBadCursor: a Search cursor this package did not issue.
var ErrBadCursor = errors.New("invalid audit search cursor")

// AuditEvent renders the stored record id as a FHIR R4 AuditEvent (JSON
// object) shaped after IHE BALP. An unknown id, or a checkpoint, gives an
// error wrapping fhir.ErrNotFound.
func (l *Log) AuditEvent(ctx context.Context, id string) (map[string]any, error) {
	var r record
	err := l.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "kind", Value: kindEvent}}).Decode(&r)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, fmt.Errorf("audit event: %w", fhir.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("read audit event: %w", unavailable(err))
	}
	return l.auditEvent(&r), nil
}

// Query filters Search. Empty fields do not filter.
type Query struct {
	Patient string // "Patient/<id>" concerned
	Subject string // agent subject
	Org     string // agent organisation (ODS code)
	Purpose string // purpose of use code
	// From and To bound the time of the interaction: From <= time < To.
	From, To   time.Time
	Allowed    *bool // the policy decision
	BreakGlass *bool // emergency access
	// Count is the page size (default 50, at most 500).
	Count int
	// Cursor is the next value returned by the previous page.
	Cursor string
}

// Search finds audit records for IG leads, newest first, one page at a time
// (keyset paging on seq): it returns AuditEvent JSON objects and the cursor
// of the next page, "" after the last.
func (l *Log) Search(ctx context.Context, q Query) (events []map[string]any, next string, err error) {
	filter := bson.D{{Key: "kind", Value: kindEvent}}
	add := func(k string, v any) { filter = append(filter, bson.E{Key: k, Value: v}) }
	if q.Patient != "" {
		add("pat", q.Patient)
	}
	if q.Subject != "" {
		add("sub", q.Subject)
	}
	if q.Org != "" {
		add("org", q.Org)
	}
	if q.Purpose != "" {
		add("pou", q.Purpose)
	}
	if q.Allowed != nil {
		add("allowed", *q.Allowed)
	}
	if q.BreakGlass != nil {
		add("bg", *q.BreakGlass)
	}
	var tr bson.D
	if !q.From.IsZero() {
		tr = append(tr, bson.E{Key: "$gte", Value: q.From.UTC()})
	}
	if !q.To.IsZero() {
		tr = append(tr, bson.E{Key: "$lt", Value: q.To.UTC()})
	}
	if len(tr) > 0 {
		add("t", tr)
	}
	if q.Cursor != "" {
		seq, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || seq < 1 {
			return nil, "", ErrBadCursor
		}
		add("seq", bson.D{{Key: "$lt", Value: seq}})
	}
	count := pageSize(q.Count)
	recs, err := l.find(ctx, filter, -1, int64(count)+1)
	if err != nil {
		return nil, "", err
	}
	if len(recs) > count {
		recs = recs[:count]
		next = strconv.FormatInt(recs[count-1].Seq, 10)
	}
	events = make([]map[string]any, len(recs))
	for i := range recs {
		events[i] = l.auditEvent(&recs[i])
	}
	return events, next, nil
}

func pageSize(n int) int {
	switch {
	case n <= 0:
		return defaultCount
	case n > maxCount:
		return maxCount
	}
	return n
}

// find returns up to limit records matching filter in seq order (dir 1
// ascending, -1 descending).
func (l *Log) find(ctx context.Context, filter bson.D, dir int, limit int64) ([]record, error) {
	cur, err := l.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "seq", Value: dir}}).SetLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("search audit records: %w", unavailable(err))
	}
	var recs []record
	if err := cur.All(ctx, &recs); err != nil {
		return nil, fmt.Errorf("search audit records: %w", unavailable(err))
	}
	return recs, nil
}

// Access is one access to a person's record by someone else.
type Access struct {
	Time    time.Time
	Org     string // ODS code of the organisation
	Role    string // job role code
	Purpose string // purpose of use code
	// Categories are the kinds of information touched (record categories).
	Categories  []string
	Interaction string
	Allowed     bool
	BreakGlass  bool
}

// WhoAccessed lists accesses to patient's record ("Patient/<id>") by others,
// allowed or refused, newest first, at most limit (default 50, at most
// 500). The person's own accesses are left out.
func (l *Log) WhoAccessed(ctx context.Context, patient string, limit int) ([]Access, error) {
	if patient == "" {
		return nil, fmt.Errorf("%w: no patient", ErrInvalidEntry)
	}
	filter := bson.D{
		{Key: "kind", Value: kindEvent},
		{Key: "pat", Value: patient},
		{Key: "own", Value: bson.D{{Key: "$ne", Value: patient}}},
	}
	recs, err := l.find(ctx, filter, -1, int64(pageSize(limit)))
	if err != nil {
		return nil, err
	}
	out := make([]Access, 0, len(recs))
	for _, r := range recs {
		out = append(out, Access{
			Time: r.T.UTC(), Org: r.Org, Role: r.Role, Purpose: r.Purpose,
			Categories: r.Categories, Interaction: r.Interaction,
			Allowed: r.Allowed, BreakGlass: r.BreakGlass,
		})
	}
	return out, nil
}

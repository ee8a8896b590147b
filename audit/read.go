package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Page sizes for Search, WhoAccessed and PendingBreakGlass.
const (
	defaultCount = 50
	maxCount     = 500
)

// Search errors, checked with errors.Is.
var (
	// ErrBadCursor: a Search cursor this package did not issue.
	ErrBadCursor = errors.New("invalid audit search cursor")
	// ErrBadEntity: a Search entity that is not "AuditEvent/<id>".
	ErrBadEntity = errors.New(`audit search entity must be "AuditEvent/<id>"`)
)

// AuditEvent renders the stored record id as a FHIR R4 AuditEvent (JSON
// object) shaped after IHE BALP. An unknown id, or a checkpoint, gives an
// error wrapping fhir.ErrNotFound.
func (l *Log) AuditEvent(ctx context.Context, id string) (map[string]any, error) {
	r, ok, err := l.event(ctx, id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read audit event: %w", err)
	case !ok:
		return nil, fmt.Errorf("audit event: %w", fhir.ErrNotFound)
	}
	return l.auditEvent(&r), nil
}

// event reads the event record id (not a checkpoint).
func (l *Log) event(ctx context.Context, id string) (record, bool, error) {
	recs, err := l.recs.find(ctx, filter{ids: []string{id}, kind: kindEvent}, false, 1)
	if err != nil || len(recs) == 0 {
		return record{}, false, err
	}
	return recs[0], true, nil
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
	// Entity is "AuditEvent/<id>": the records of the reviews of that
	// record (the verdict that stands first).
	Entity string
	// Count is the page size (default 50, at most 500).
	Count int
	// Cursor is the next value returned by the previous page.
	Cursor string
}

// Search finds audit records for IG leads, newest first, one page at a time
// (keyset paging on seq): it returns AuditEvent JSON objects and the cursor
// of the next page, "" after the last.
func (l *Log) Search(ctx context.Context, q Query) (events []map[string]any, next string, err error) {
	f, err := q.filter()
	if err != nil {
		return nil, "", err
	}
	count := pageSize(q.Count)
	recs, err := l.find(ctx, f, true, count+1)
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

// filter is q as a filter of event records.
func (q *Query) filter() (filter, error) {
	f := filter{kind: kindEvent, patient: q.Patient, subject: q.Subject, org: q.Org, purpose: q.Purpose,
		allowed: q.Allowed, breakGlass: q.BreakGlass, from: q.From.UTC(), to: q.To.UTC()}
	if q.Entity != "" {
		id, ok := strings.CutPrefix(q.Entity, "AuditEvent/")
		if !ok || id == "" {
			return filter{}, ErrBadEntity
		}
		f.reviewOf = []string{id}
	}
	if q.Cursor != "" {
		seq, err := strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || seq < 1 {
			return filter{}, ErrBadCursor
		}
		f.before = seq
	}
	return f, nil
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

// find returns up to limit records matching f in seq order, newest first
// when desc.
func (l *Log) find(ctx context.Context, f filter, desc bool, limit int) ([]record, error) {
	recs, err := l.recs.find(ctx, f, desc, limit)
	if err != nil {
		return nil, fmt.Errorf("search audit records: %w", err)
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
	Operation   string // the operation, when Interaction is "operation"
	// Resources are the "Type/id" references the access returned or
	// touched.
	Resources  []string
	Allowed    bool
	BreakGlass bool
	// Public is an access by a member of the public (a person's token),
	// who is never named: Org and Role are empty.
	Public bool
}

// WhoAccessed lists accesses to patient's record ("Patient/<id>") by others
// (staff, systems and members of the public), allowed or refused, newest
// first, at most limit (default 50, at most
// 500). The person's own accesses are left out.
func (l *Log) WhoAccessed(ctx context.Context, patient string, limit int) ([]Access, error) {
	if patient == "" {
		return nil, fmt.Errorf("%w: no patient", ErrInvalidEntry)
	}
	recs, err := l.find(ctx, filter{kind: kindEvent, patient: patient, notOwn: true}, true, pageSize(limit))
	if err != nil {
		return nil, err
	}
	out := make([]Access, 0, len(recs))
	for _, r := range recs {
		var res []string
		if len(r.Resources) > 0 {
			res = r.Resources
		}
		out = append(out, Access{
			Time: r.T.UTC(), Org: r.Org, Role: r.Role, Purpose: r.Purpose,
			Categories: r.Categories, Interaction: r.Interaction, Operation: r.Operation, Resources: res,
			Allowed: r.Allowed, BreakGlass: r.BreakGlass, Public: r.AgentKind == KindPerson,
		})
	}
	return out, nil
}

package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// OperationReview is the operation name under which a break-glass review is
// itself audited.
const OperationReview = "$break-glass-review"

// Verdicts as a review's audit record carries them.
const (
	verdictJustified    = "justified"
	verdictNotJustified = "not-justified"
)

// Review is an IG lead's verdict on one break-glass access.
type Review struct {
	AuditID   string // the audit record reviewed
	Reviewer  string // the IG lead's user id
	Justified bool
	Note      string // required
	Time      time.Time
	// Org, Role and Purpose describe the reviewer in the audit record of
	// the review; optional.
	Org, Role, Purpose string
}

// Review errors, checked with errors.Is.
var (
	ErrAlreadyReviewed = errors.New("this break-glass access has already been reviewed")
	ErrNotBreakGlass   = errors.New("this audit record is not a break-glass access")
	ErrInvalidReview   = errors.New("invalid review")
)

// review is the stored form of a Review in the old reviews store, keyed by
// the audit id. The BSON names are MongoDB's; SQLite's columns are named
// after them.
type review struct {
	AuditID   string    `bson:"_id"`
	Reviewer  string    `bson:"reviewer"`
	Justified bool      `bson:"justified"`
	Note      string    `bson:"note"`
	T         time.Time `bson:"t"`
}

// PendingBreakGlass lists break-glass accesses that were allowed and have
// no review yet, oldest first, as AuditEvents; at most limit (default 50, at
// most 500).
func (l *Log) PendingBreakGlass(ctx context.Context, limit int) ([]map[string]any, error) {
	limit = pageSize(limit)
	var out []map[string]any
	after := int64(0)
	for len(out) < limit {
		yes := true
		recs, err := l.find(ctx, filter{kind: kindEvent, breakGlass: &yes, allowed: &yes, after: after}, false, limit)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			break
		}
		ids := make([]string, len(recs))
		for i, r := range recs {
			ids[i] = r.ID
		}
		reviewed, err := l.reviews(ctx, ids)
		if err != nil {
			return nil, err
		}
		for i := range recs {
			if _, done := reviewed[recs[i].ID]; !done && len(out) < limit {
				out = append(out, l.auditEvent(&recs[i]))
			}
		}
		after = recs[len(recs)-1].Seq
	}
	return out, nil
}

// reviews finds the reviews of the records ids in the chain: for each
// reviewed id, the first review record (the verdict that stands; a second
// one can only come from another gateway instance reviewing at the same
// moment).
func (l *Log) reviews(ctx context.Context, ids []string) (map[string]*record, error) {
	out := map[string]*record{}
	if len(ids) == 0 {
		return out, nil
	}
	recs, err := l.find(ctx, filter{kind: kindEvent, reviewOf: ids}, false, math.MaxInt32)
	if err != nil {
		return nil, fmt.Errorf("read break-glass reviews: %w", err)
	}
	for i := range recs {
		if _, seen := out[recs[i].ReviewOf]; !seen {
			out[recs[i].ReviewOf] = &recs[i]
		}
	}
	return out, nil
}

// RecordReview records an IG lead's review of a break-glass access as an
// audit record of its own, in the chain: the record names the reviewed
// record, the verdict and the note, so that they are read back with the
// trail (Search with Entity, Reviewed) and Verify catches any change to
// them. A record has one review: a second is refused with
// ErrAlreadyReviewed (and audited as a refused attempt).
func (l *Log) RecordReview(ctx context.Context, r Review) error {
	if r.AuditID == "" || strings.TrimSpace(r.Reviewer) == "" || strings.TrimSpace(r.Note) == "" {
		return fmt.Errorf("%w: audit id, reviewer and note are required", ErrInvalidReview)
	}
	// One review at a time in this process, so that two cannot both find
	// the record unreviewed.
	l.reviewMu.Lock()
	defer l.reviewMu.Unlock()
	target, ok, err := l.event(ctx, r.AuditID)
	switch {
	case err != nil:
		return fmt.Errorf("break-glass review: %w", err)
	case !ok:
		return fmt.Errorf("break-glass review: %w", fhir.ErrNotFound)
	case !target.BreakGlass:
		return ErrNotBreakGlass
	}
	done, err := l.reviews(ctx, []string{r.AuditID})
	if err != nil {
		return err
	}
	entry := reviewEntry(r, &target)
	if done[r.AuditID] != nil {
		entry.Outcome, entry.HTTPStatus = "4", 409
		if _, err := l.Record(ctx, entry); err != nil {
			return err
		}
		return ErrAlreadyReviewed
	}
	_, err = l.record(ctx, entry, func(rec *record) { rec.setReview(r) })
	return err
}

// reviewEntry is the audit entry of a review of target.
func reviewEntry(r Review, target *record) Entry {
	return Entry{
		Time: r.Time, Interaction: "operation", Operation: OperationReview,
		ResourceType: "AuditEvent", Resources: []string{"AuditEvent/" + r.AuditID},
		Patients: target.Patients, HTTPStatus: 200,
		Agent:    Agent{Kind: KindUser, Subject: r.Reviewer, Org: r.Org, Role: r.Role, Purpose: r.Purpose},
		Decision: Decision{Allowed: true},
	}
}

// setReview makes rec the record of review r.
func (rec *record) setReview(r Review) {
	rec.ReviewOf, rec.ReviewNote = r.AuditID, strings.ToValidUTF8(r.Note, "\uFFFD")
	rec.Verdict = verdictNotJustified
	if r.Justified {
		rec.Verdict = verdictJustified
	}
}

// Reviewed returns the review of audit record id, read from the chain,
// with ok false when there is none.
func (l *Log) Reviewed(ctx context.Context, id string) (r Review, ok bool, err error) {
	done, err := l.reviews(ctx, []string{id})
	if err != nil || done[id] == nil {
		return Review{}, false, err
	}
	return done[id].review(), true, nil
}

// review is the Review a review record carries.
func (rec *record) review() Review {
	t := rec.T.UTC()
	if rec.ReviewedAt != 0 {
		t = time.UnixMilli(rec.ReviewedAt).UTC()
	}
	return Review{AuditID: rec.ReviewOf, Reviewer: rec.Subject, Justified: rec.Verdict == verdictJustified,
		Note: rec.ReviewNote, Time: t, Org: rec.Org, Role: rec.Role, Purpose: rec.Purpose}
}

// public is the Review of a stored review.
func (doc *review) public() Review {
	return Review{AuditID: doc.AuditID, Reviewer: doc.Reviewer, Justified: doc.Justified, Note: doc.Note, Time: doc.T.UTC()}
}

// moveReviews appends to the chain each review of the old reviews store
// that the chain lacks, as the audit record of that review (carrying when
// it was made), and returns how many it moved. The old store is left as it
// is but no longer read: what stands is the chain. It runs at Open, and
// finds nothing to do once the reviews have moved.
func (l *Log) moveReviews(ctx context.Context) (int, error) {
	var old []review
	if err := l.oldReviews.walk(ctx, func(r review) error {
		old = append(old, r)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("read the old break-glass reviews: %w", err)
	}
	moved := 0
	for len(old) > 0 {
		batch := old[:min(len(old), maxCount)]
		old = old[len(batch):]
		ids := make([]string, len(batch))
		for i, r := range batch {
			ids[i] = r.AuditID
		}
		done, err := l.reviews(ctx, ids)
		if err != nil {
			return moved, err
		}
		targets, err := l.find(ctx, filter{kind: kindEvent, ids: ids}, false, len(ids))
		if err != nil {
			return moved, err
		}
		byID := make(map[string]*record, len(targets))
		for i := range targets {
			byID[targets[i].ID] = &targets[i]
		}
		for _, doc := range batch {
			if done[doc.AuditID] != nil {
				continue
			}
			target := byID[doc.AuditID]
			if target == nil {
				target = &record{} // purged: the review still stands
			}
			r := doc.public()
			entry := reviewEntry(r, target)
			entry.Time = time.Time{} // recorded now; made at ReviewedAt
			if _, err := l.record(ctx, entry, func(rec *record) {
				rec.setReview(r)
				rec.ReviewedAt = r.Time.UnixMilli()
			}); err != nil {
				return moved, fmt.Errorf("move a break-glass review into the chain: %w", err)
			}
			moved++
		}
	}
	return moved, nil
}

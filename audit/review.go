package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// OperationReview is the operation name under which a break-glass review is
// itself audited.
const OperationReview = "$break-glass-review"

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

// review is the stored form of a Review, keyed by the audit id so that a
// second review of the same record clashes on insert. The BSON names are
// MongoDB's; SQLite's columns are named after them.
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
		reviewed, err := l.reviewed(ctx, recs)
		if err != nil {
			return nil, err
		}
		for i := range recs {
			if !reviewed[recs[i].ID] && len(out) < limit {
				out = append(out, l.auditEvent(&recs[i]))
			}
		}
		after = recs[len(recs)-1].Seq
	}
	return out, nil
}

// reviewed reports which of recs have a review.
func (l *Log) reviewed(ctx context.Context, recs []record) (map[string]bool, error) {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	m, err := l.reviews.reviewed(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read break-glass reviews: %w", err)
	}
	return m, nil
}

// RecordReview stores an IG lead's review of a break-glass access with the
// reviews (the <collection>_reviews collection or table) (append-only: a second review of the same record is
// refused with ErrAlreadyReviewed) and audits it. The review stands only
// once its own audit record is durable: if that write fails, the review is
// withdrawn and the error returned.
func (l *Log) RecordReview(ctx context.Context, r Review) error {
	if r.AuditID == "" || strings.TrimSpace(r.Reviewer) == "" || strings.TrimSpace(r.Note) == "" {
		return fmt.Errorf("%w: audit id, reviewer and note are required", ErrInvalidReview)
	}
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	target, ok, err := l.event(ctx, r.AuditID)
	switch {
	case err != nil:
		return fmt.Errorf("break-glass review: %w", err)
	case !ok:
		return fmt.Errorf("break-glass review: %w", fhir.ErrNotFound)
	case !target.BreakGlass:
		return ErrNotBreakGlass
	}
	entry := Entry{
		Time: r.Time, Interaction: "operation", Operation: OperationReview,
		ResourceType: "AuditEvent", Resources: []string{"AuditEvent/" + r.AuditID},
		Patients: target.Patients, HTTPStatus: 200,
		Agent:    Agent{Kind: KindUser, Subject: r.Reviewer, Org: r.Org, Role: r.Role, Purpose: r.Purpose},
		Decision: Decision{Allowed: true},
	}
	doc := review{AuditID: r.AuditID, Reviewer: r.Reviewer, Justified: r.Justified, Note: r.Note,
		T: r.Time.UTC().Truncate(time.Millisecond)}
	if err := l.reviews.add(ctx, doc); err != nil {
		if errors.Is(err, errReviewExists) {
			entry.Outcome, entry.HTTPStatus = "4", 409
			if _, aerr := l.Record(ctx, entry); aerr != nil {
				return aerr
			}
			return ErrAlreadyReviewed
		}
		return fmt.Errorf("store break-glass review: %w", err)
	}
	if _, err := l.Record(ctx, entry); err != nil {
		// Withdraw the review: it must not stand unaudited.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.opt.WriteTimeout)
		defer cancel()
		if derr := l.reviews.remove(dctx, r.AuditID); derr != nil {
			l.logger.Error("break-glass review stored but neither audited nor withdrawn", "cause", errorClass(derr))
		}
		return err
	}
	return nil
}

// Reviewed returns the review of audit record id, with ok false when there
// is none.
func (l *Log) Reviewed(ctx context.Context, id string) (r Review, ok bool, err error) {
	doc, ok, err := l.reviews.get(ctx, id)
	switch {
	case err != nil:
		return Review{}, false, fmt.Errorf("read break-glass review: %w", err)
	case !ok:
		return Review{}, false, nil
	}
	return doc.public(), true, nil
}

// public is the Review of a stored review.
func (doc *review) public() Review {
	return Review{AuditID: doc.AuditID, Reviewer: doc.Reviewer, Justified: doc.Justified, Note: doc.Note, Time: doc.T.UTC()}
}

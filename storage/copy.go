package storage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// CopyReport says what Copy moved.
type CopyReport struct {
	// Versions are resource versions by type (deletions included).
	Versions map[string]int64
	// Resources are the resources by type.
	Resources                    map[string]int64
	AuditRecords, AuditReviews   int64
	IngestJournals, IngestJobs   int64
	PolicyVersions               int64
	AuditHead                    audit.Anchor
	AuditVerified, CountsMatched bool
}

// copyBatch is about how many versions go in one Restore.
const copyBatch = 2000

// Copy moves everything from one engine to another that holds nothing
// yet: every resource with all its versions (ids, version numbers, times
// and JSON kept; the target rebuilds its search index and access facts),
// the audit trail with its chain intact (break-glass reviews are records
// in it), the old store of reviews made before they were, and the
// ingest journals and job records. Then it checks the target: the same
// number of versions of every type, and the audit chain verified there
// against the source's head. Run it with no gateway using either engine.
// progress, when set, hears each step.
func Copy(ctx context.Context, from, to *Engine, progress func(step string, n int64)) (*CopyReport, error) {
	if progress == nil {
		progress = func(string, int64) {}
	}
	rep := &CopyReport{Versions: map[string]int64{}, Resources: map[string]int64{}}
	for _, t := range fhir.ResourceTypes {
		if has, err := holds(ctx, to.Resources, t); err != nil {
			return rep, err
		} else if has {
			return rep, fmt.Errorf("copy: the target already holds %s resources; copy only into an empty engine", t)
		}
	}
	for _, t := range fhir.ResourceTypes {
		var batch []*store.Version
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			if err := to.Resources.Restore(ctx, batch); err != nil {
				return fmt.Errorf("copy %s: %w", t, err)
			}
			batch = batch[:0]
			return nil
		}
		err := from.Resources.Versions(ctx, t, func(v *store.Version) error {
			// A batch ends only between resources: Restore makes the last
			// version of each resource in a batch its current one.
			if len(batch) >= copyBatch && batch[len(batch)-1].ID != v.ID {
				if err := flush(); err != nil {
					return err
				}
			}
			if len(batch) == 0 || batch[len(batch)-1].ID != v.ID {
				rep.Resources[t]++
			}
			batch = append(batch, v)
			rep.Versions[t]++
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return rep, fmt.Errorf("copy %s: %w", t, err)
		}
		if rep.Versions[t] > 0 {
			progress("resources "+t, rep.Versions[t])
		}
	}
	var err error
	if rep.AuditRecords, err = to.Audit.ImportRecords(ctx, from.Audit.ExportRecords); err != nil {
		return rep, fmt.Errorf("copy the audit trail: %w", err)
	}
	progress("audit records", rep.AuditRecords)
	if rep.AuditReviews, err = to.Audit.ImportReviews(ctx, from.Audit.ExportReviews); err != nil {
		return rep, fmt.Errorf("copy break-glass reviews: %w", err)
	}
	progress("break-glass reviews of the old store", rep.AuditReviews)
	err = from.Ingest.ExportState(ctx, func(kind string, doc []byte) error {
		switch kind {
		case ingest.KindJournal:
			rep.IngestJournals++
		default:
			rep.IngestJobs++
		}
		return to.Ingest.ImportState(ctx, kind, doc)
	})
	if err != nil {
		return rep, fmt.Errorf("copy ingest journals and jobs: %w", err)
	}
	progress("ingest journals", rep.IngestJournals)
	progress("ingest jobs", rep.IngestJobs)
	if rep.PolicyVersions, err = copyPolicyVersions(ctx, from, to); err != nil {
		return rep, err
	}
	progress("policy versions", rep.PolicyVersions)

	// Check the copy.
	rep.CountsMatched = true
	for t, n := range rep.Versions {
		var got int64
		if err := to.Resources.Versions(ctx, t, func(*store.Version) error { got++; return nil }); err != nil {
			return rep, err
		}
		if got != n {
			rep.CountsMatched = false
			return rep, fmt.Errorf("copy: the target holds %d versions of %s, the source %d", got, t, n)
		}
	}
	if rep.AuditRecords > 0 {
		if rep.AuditHead, err = from.Audit.Head(ctx); err != nil {
			return rep, err
		}
	}
	ok, err := to.VerifyAudit(ctx, io.Discard, rep.AuditHeads()...)
	if err != nil {
		return rep, fmt.Errorf("copy: verify the copied audit trail: %w", err)
	}
	if !ok {
		return rep, fmt.Errorf("copy: the copied audit trail does not verify")
	}
	rep.AuditVerified = true
	return rep, nil
}

// copyPolicyVersions copies every policy version, state and history kept.
func copyPolicyVersions(ctx context.Context, from, to *Engine) (int64, error) {
	vs, err := from.Policies.List(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy policy versions: %w", err)
	}
	for _, v := range vs {
		if err := to.Policies.Insert(ctx, v); err != nil {
			return 0, fmt.Errorf("copy policy version %s: %w", v.ID, err)
		}
	}
	return int64(len(vs)), nil
}

// AuditHeads is the source's chain head as an anchor list (none for an
// empty trail).
func (r *CopyReport) AuditHeads() []audit.Anchor {
	if r.AuditRecords == 0 {
		return nil
	}
	return []audit.Anchor{r.AuditHead}
}

// holds reports whether r holds any version of type t.
func holds(ctx context.Context, r Resources, t string) (bool, error) {
	found := false
	err := r.Versions(ctx, t, func(*store.Version) error { found = true; return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	return found, nil
}

var errStop = errors.New("stop")

// VerifyAudit walks the engine's audit chain, writing the report to w,
// and checks it against anchors; ok is false when it was tampered with.
func (e *Engine) VerifyAudit(ctx context.Context, w io.Writer, anchors ...audit.Anchor) (bool, error) {
	if e.Kind == SQLite {
		return audit.RunVerifySQLite(ctx, e.auditDB, "audit", w, anchors...)
	}
	return audit.RunVerify(ctx, e.Mongo.Database(), "audit", w, anchors...)
}

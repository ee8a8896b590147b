package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/retention"
)

// RetentionJobSubject is the audit trail's agent of the background
// appraisal.
const RetentionJobSubject = "gateway-retention-appraisal"

// AppraisalRun is what one background appraisal found: counts only.
type AppraisalRun struct {
	Due, Held, People int
}

// RunAppraisal appraises every stored record under the current policy's
// schedule, as the daily job does: it destroys nothing, records one
// audit record (the gateway as a system agent, the people whose records
// are due, the resources due counted by type) and returns the counts for
// the log. Records managers see the list itself at GET /$disposal-due.
func (s *Server) RunAppraisal(ctx context.Context) (AppraisalRun, error) {
	var run AppraisalRun
	if s.cfg.Retention == nil || s.cfg.Records == nil || s.cfg.Policy == nil {
		return run, nil
	}
	eng := s.cfg.Policy.Current()
	ds, err := s.cfg.Retention.List(ctx, "")
	if err != nil {
		return run, err
	}
	today := s.cfg.Clock().UTC()
	items, err := retention.Appraise(ctx, s.cfg.Records, eng.Retention(), ds, today)
	if err != nil {
		return run, err
	}
	counts := map[string]int{}
	var patients, categories []string
	for _, it := range retention.Due(items, today) {
		if it.Approvable(today) {
			run.Due++
		} else {
			run.Held++
		}
		patients = appendNew(patients, it.Patient)
		categories = appendNew(categories, it.Category)
		for _, r := range it.Resources {
			typ, _, _ := strings.Cut(r, "/")
			counts[typ]++
		}
	}
	run.People = len(patients)
	if len(counts) == 0 {
		counts = nil
	}
	_, err = s.cfg.Audit.Record(ctx, audit.Entry{Interaction: "operation", Operation: opDisposalDue, HTTPStatus: 200,
		Agent:    audit.Agent{Kind: audit.KindSystem, Subject: RetentionJobSubject, ClientID: RetentionJobSubject},
		Patients: patients, Categories: categories, Counts: counts,
		Decision: audit.Decision{Allowed: true, Revision: eng.Revision(), Reasons: []string{"RETAIN-12-appraisal"}}})
	return run, err
}

// every runs job every period until the server closes, the first time a
// while after start-up (an hour, or the period when shorter): the jobs
// read every stored version or record, seconds of work at a hundred
// thousand resources, which a starting gateway should not add to its
// first requests.
func (s *Server) every(period time.Duration, job func(context.Context)) {
	defer s.wg.Done()
	select {
	case <-s.bg.Done():
		return
	case <-time.After(min(period, time.Hour)):
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		job(s.bg)
		select {
		case <-s.bg.Done():
			return
		case <-t.C:
		}
	}
}

// appraisalJob is the retention appraisal, for every.
func (s *Server) appraisalJob(ctx context.Context) {
	start := time.Now()
	run, err := s.RunAppraisal(ctx)
	if err != nil {
		s.logger.Error("retention appraisal failed", "error", err.Error())
		return
	}
	s.logger.Info("retention appraisal", "items_due", run.Due, "items_held", run.Held, "people", run.People, "took", time.Since(start).Round(time.Millisecond).String())
}

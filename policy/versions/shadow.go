package versions

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
)

// Shadow evaluates a candidate version beside the active one on live
// traffic: each audited decision this instance makes is decided again
// under the candidate, off the request's path, from the inputs its audit
// record keeps (exactly as an impact preview replays them); the two are
// compared, disagreements counted, grouped and logged (the audit record's
// id and the candidate's rules, never the record or the person), and
// nothing the candidate decides is enforced. Each instance reports what it
// saw since the shadow began there.
type Shadow struct {
	id     string
	since  time.Time
	logger *slog.Logger
	in     chan *audit.DecisionRecord
	stop   chan struct{}
	done   chan struct{}
	// dropped counts records not compared because the queue was full
	// (the instance was busier than the shadow could keep up with).
	dropped atomic.Int64

	mu  sync.Mutex
	rep *ImpactReport
	r   *replayer
}

// shadowQueue is how many records wait for the shadow at most.
const shadowQueue = 4096

// shadowFlush is how many decisions the shadow holds before deciding them.
const shadowFlush = 512

func startShadow(id string, since time.Time, e *policy.Engine, logger *slog.Logger) *Shadow {
	s := &Shadow{id: id, since: since, logger: logger, in: make(chan *audit.DecisionRecord, shadowQueue),
		stop: make(chan struct{}), done: make(chan struct{})}
	s.rep = &ImpactReport{Candidate: id, From: since, Refused: newFlips(), Allowed: newFlips()}
	s.r = newReplayer(e, s.rep)
	s.r.onFlip = func(auditID string, nowAllowed bool, reasons []string) {
		way := "now refused"
		if nowAllowed {
			way = "now allowed"
		}
		logger.Info("policy shadow disagrees", "candidate", id, "audit_id", auditID, "candidate_decision", way, "rules", reasons)
	}
	go s.run()
	return s
}

// ID is the candidate version's id.
func (s *Shadow) ID() string { return s.id }

// Observe hands a committed audit record to the shadow without waiting:
// when the queue is full the record is counted as dropped, never delayed.
func (s *Shadow) Observe(dr *audit.DecisionRecord) {
	select {
	case s.in <- dr:
	default:
		s.dropped.Add(1)
	}
}

func (s *Shadow) run() {
	defer close(s.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	ctx := context.Background()
	for {
		select {
		case dr := <-s.in:
			s.mu.Lock()
			err := s.r.observe(ctx, dr)
			if err == nil && s.r.pending >= shadowFlush {
				err = s.r.flush(ctx)
			}
			s.mu.Unlock()
			if err != nil {
				s.logger.Error("policy shadow could not decide", "candidate", s.id, "error", err)
			}
		case <-tick.C:
			s.flush(ctx)
		case <-s.stop:
			return
		}
	}
}

func (s *Shadow) flush(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked(ctx)
}

// flushLocked decides the decisions held; s.mu is held.
func (s *Shadow) flushLocked(ctx context.Context) {
	if s.r.pending == 0 {
		return
	}
	if err := s.r.flush(ctx); err != nil {
		s.logger.Error("policy shadow could not decide", "candidate", s.id, "error", err)
	}
}

// Close stops the shadow.
func (s *Shadow) Close() {
	close(s.stop)
	<-s.done
}

// ShadowReport is what one instance saw of a shadow: an impact report over
// live traffic since the shadow began here, and the records it could not
// compare.
type ShadowReport struct {
	*ImpactReport
	// Pending are records received and not yet compared.
	Pending int `json:"pending"`
	// Dropped are records this instance did not compare (queue full).
	Dropped int64 `json:"dropped"`
}

// Report is what the shadow has compared so far (up to now: waiting
// decisions are decided first).
func (s *Shadow) Report(ctx context.Context) (*ShadowReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Decided and copied under one hold of the lock: every record the
	// report counts has its decisions counted too.
	s.flushLocked(ctx)
	// A deep copy, so that the caller may read it while the shadow goes on.
	b, err := json.Marshal(s.rep)
	if err != nil {
		return nil, err
	}
	var cp ImpactReport
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, err
	}
	cp.To = time.Now().UTC()
	return &ShadowReport{ImpactReport: &cp, Pending: len(s.in), Dropped: s.dropped.Load()}, nil
}

package versions

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
)

// Loader serves the active version from the database. A request takes
// [Loader.Current] once and keeps that engine for its whole life; a
// refresh swaps the pointer for later requests only.
type Loader struct {
	store   Store
	logger  *slog.Logger
	current atomic.Pointer[policy.Engine]
	shadow  atomic.Pointer[Shadow]
	mu      sync.Mutex // one refresh at a time
}

// NewLoader loads the active version; there must be one (see
// [Workflow.Seed]).
func NewLoader(ctx context.Context, store Store, logger *slog.Logger) (*Loader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Loader{store: store, logger: logger}
	if err := l.Refresh(ctx); err != nil {
		return nil, err
	}
	if l.Current() == nil {
		return nil, fmt.Errorf("no policy version is active")
	}
	return l, nil
}

// Current is the engine of the active version as last refreshed.
func (l *Loader) Current() *policy.Engine { return l.current.Load() }

// Refresh reads the active version's id and, if it changed, loads that
// version and swaps it in. A version that does not load (it passed its
// test when approved, so this means a damaged database or a new gateway
// refusing it) keeps the current engine and returns the error.
func (l *Loader) Refresh(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.refreshShadow(ctx); err != nil {
		l.logger.ErrorContext(ctx, "policy shadow not started", "error", err)
	}
	id, err := l.store.ActiveID(ctx)
	if err != nil {
		return fmt.Errorf("read the active policy version: %w", err)
	}
	cur := l.Current()
	if id == "" || (cur != nil && IDOf(cur.Revision()) == id) {
		return nil
	}
	v, err := l.store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("read policy version %s: %w", id, err)
	}
	e, err := policy.LoadFiles(ctx, v.Files())
	if err != nil {
		l.logger.ErrorContext(ctx, "active policy version refused; keeping the current one", "version", id, "error", err)
		return err
	}
	l.current.Store(e)
	prev := ""
	if cur != nil {
		prev = cur.Revision()
	}
	l.logger.InfoContext(ctx, "policy version in force", "revision", e.Revision(), "previous", prev)
	return nil
}

// Poll refreshes every interval until ctx ends.
func (l *Loader) Poll(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = l.Refresh(ctx)
		}
	}
}

// Shadow is the version evaluated in shadow on this instance, nil when none.
func (l *Loader) Shadow() *Shadow { return l.shadow.Load() }

// Observe hands a committed audit record to the shadow, if one runs.
func (l *Loader) Observe(dr *audit.DecisionRecord) {
	if s := l.shadow.Load(); s != nil {
		s.Observe(dr)
	}
}

// refreshShadow starts the shadow the database names, or stops the one
// running when it names another or none.
func (l *Loader) refreshShadow(ctx context.Context) error {
	id, err := l.store.ShadowID(ctx)
	if err != nil {
		return err
	}
	cur := l.shadow.Load()
	if cur != nil && cur.ID() == id {
		return nil
	}
	if cur != nil {
		l.shadow.Store(nil)
		cur.Close()
		l.logger.InfoContext(ctx, "policy shadow stopped", "candidate", cur.ID())
	}
	if id == "" {
		return nil
	}
	v, err := l.store.Get(ctx, id)
	if err != nil {
		return err
	}
	e, err := policy.LoadFiles(ctx, v.Files())
	if err != nil {
		return err
	}
	l.shadow.Store(startShadow(id, time.UnixMilli(v.Shadowing).UTC(), e, l.logger))
	l.logger.InfoContext(ctx, "policy shadow started", "candidate", id)
	return nil
}

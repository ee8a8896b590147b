package policy

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long Watch waits after a file event before reloading, so
// an editor's burst of writes is read once.
const settle = 200 * time.Millisecond

// Loader holds the current policy engine and replaces it when the policy
// changes and the new version passes [Load]'s checks.
type Loader struct {
	dir     string
	logger  *slog.Logger
	current atomic.Pointer[Engine]
}

// NewLoader loads the policy in dir; it fails if that version does not
// pass [Load].
func NewLoader(ctx context.Context, dir string, logger *slog.Logger) (*Loader, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e, err := Load(ctx, dir)
	if err != nil {
		return nil, err
	}
	l := &Loader{dir: dir, logger: logger}
	l.current.Store(e)
	logger.InfoContext(ctx, "policy loaded", "revision", e.Revision(), "dir", dir)
	return l, nil
}

// Current returns the engine in force. A request calls it once and uses
// that engine for every decision it makes.
func (l *Loader) Current() *Engine { return l.current.Load() }

// Reload loads the policy again. If it is unchanged nothing happens; if
// the new version fails its checks the current engine stays and the error
// is returned (and logged).
func (l *Loader) Reload(ctx context.Context) error {
	src, err := readSource(l.dir)
	if err == nil && src.revision == l.Current().Revision() {
		return nil
	}
	var e *Engine
	if err == nil {
		e, err = load(ctx, src)
	}
	if err != nil {
		l.logger.ErrorContext(ctx, "policy reload rejected; keeping current revision",
			"revision", l.Current().Revision(), "error", err)
		return err
	}
	old := l.current.Swap(e)
	l.logger.InfoContext(ctx, "policy reloaded", "revision", e.Revision(), "previous", old.Revision())
	return nil
}

// Watch reloads the policy when a file in its directory changes and on
// SIGHUP, until ctx ends. Without file notifications it still reloads on
// SIGHUP.
func (l *Loader) Watch(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var events <-chan fsnotify.Event
	var errs <-chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		err = w.Add(l.dir)
	}
	if err != nil {
		l.logger.WarnContext(ctx, "policy file watch unavailable; reload with SIGHUP", "error", err)
	} else {
		defer w.Close()
		events, errs = w.Events, w.Errors
	}

	// Catch edits made between NewLoader and the watch starting.
	_ = l.Reload(ctx)

	timer := time.NewTimer(time.Hour)
	timer.Stop() // armed by file events; Go 1.23+ timers need no draining
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = l.Reload(ctx)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if relevant(ev.Name) {
				timer.Reset(settle)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			l.logger.WarnContext(ctx, "policy file watch error", "error", err)
		case <-timer.C:
			_ = l.Reload(ctx)
		}
	}
}

// relevant reports whether a changed file is part of the policy.
func relevant(name string) bool {
	base := filepath.Base(name)
	return base == DataFile || strings.HasSuffix(base, ".rego")
}

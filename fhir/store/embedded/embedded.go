// Package embedded runs the MongoDB-compatible server that the gateway uses
// when no MONGODB_URI is configured: FerretDB's embeddable package on its
// SQLite backend, in-process, listening on a loopback port. Clients reach it
// with the official MongoDB driver over the wire protocol, exactly as they
// would reach MongoDB.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running embedded database.
type Server struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts the embedded server with its data in dir (created if
// missing) and returns once it accepts connections. The server's own logs
// go to logger at error level and above (its warnings are wire-protocol
// chatter, such as the driver's endSessions it does not implement); pass
// nil to discard them.
func Start(ctx context.Context, dir string, logger *slog.Logger) (*Server, error) {
	return StartAt(ctx, dir, "", logger)
}

// StartAt is Start listening on addr (host:port); an empty addr picks a
// free loopback port.
func StartAt(ctx context.Context, dir, addr string, logger *slog.Logger) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded database directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded database directory: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	} else {
		logger = slog.New(levelFloor{logger.Handler(), slog.LevelError}).With("component", "embedded-db")
	}
	if addr == "" {
		if addr, err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded database: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(runCtx)
	}()
	if err := waitListening(ctx, addr); err != nil {
		cancel()
		<-s.done
		return nil, err
	}
	s.uri = f.MongoDBURI()
	return s, nil
}

// URI is the MongoDB connection string of the running server.
func (s *Server) URI() string { return s.uri }

// Close stops the server and waits for it to release its files.
func (s *Server) Close() {
	s.cancel()
	<-s.done
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port for the embedded database: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return errors.New("embedded database did not start listening within 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// levelFloor drops records below a minimum level.
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}

func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}

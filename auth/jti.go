package auth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// JTIStore remembers the ids (jti) of the client assertions the token
// endpoint accepted, so that none is accepted twice while it is valid.
// The default keeps them in memory, which is right for one gateway
// instance; the gateway itself uses package assertions, which keeps them in
// its database, so that instances behind a load balancer sharing it refuse
// an assertion replayed to any of them.
type JTIStore interface {
	// Use records that client used jti, to be remembered until exp. It
	// reports false if that client's jti is remembered already.
	Use(ctx context.Context, client, jti string, exp time.Time) (fresh bool, err error)
}

// maxJTIs bounds the in-memory store. Assertions live at most five
// minutes, so this is 100,000 token requests in five minutes.
const maxJTIs = 100_000

// errJTIsFull is returned rather than forgetting an id still valid.
var errJTIsFull = errors.New("too many client assertions in the last five minutes")

type memoryJTIs struct {
	mu  sync.Mutex
	ids map[[2]string]time.Time
	now func() time.Time
}

func newMemoryJTIs(now func() time.Time) *memoryJTIs {
	return &memoryJTIs{ids: map[[2]string]time.Time{}, now: now}
}

func (m *memoryJTIs) Use(_ context.Context, client, jti string, exp time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	k := [2]string{client, jti}
	if until, ok := m.ids[k]; ok && until.After(now) {
		return false, nil
	}
	if len(m.ids) >= maxJTIs {
		for id, until := range m.ids {
			if !until.After(now) {
				delete(m.ids, id)
			}
		}
		if len(m.ids) >= maxJTIs {
			return false, errJTIsFull
		}
	}
	m.ids[k] = exp
	return true, nil
}

package assertions_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/auth/assertions"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// engines opens two stores on one database for each engine: two gateway
// instances sharing it.
func engines(t *testing.T, c *clock) map[string][2]auth.JTIStore {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), assertions.File)
	var sq [2]auth.JTIStore
	for i := range sq {
		db, err := sqlitedb.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		s, err := assertions.OpenSQLite(ctx, db, c.now)
		if err != nil {
			t.Fatal(err)
		}
		sq[i] = s
	}
	mdb := storetest.Database(t, "fhir")
	var mg [2]auth.JTIStore
	for i := range mg {
		m, err := assertions.OpenMongo(ctx, mdb, c.now)
		if err != nil {
			t.Fatal(err)
		}
		mg[i] = m
	}
	return map[string][2]auth.JTIStore{"sqlite": sq, "mongodb": mg}
}

func TestAnAssertionIDIsUsedOnceAcrossInstances(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	for name, st := range engines(t, c) {
		t.Run(name, func(t *testing.T) {
			a, b := st[0], st[1]
			exp := c.now().Add(5 * time.Minute)
			use := func(s auth.JTIStore, client, jti string, want bool) {
				t.Helper()
				fresh, err := s.Use(ctx, client, jti, exp)
				if err != nil {
					t.Fatal(err)
				}
				if fresh != want {
					t.Errorf("Use(%s, %s) = %v, want %v", client, jti, fresh, want)
				}
			}
			use(a, "trust-1", "j1", true)
			use(b, "trust-1", "j1", false) // replayed to the other instance
			use(a, "trust-1", "j1", false)
			use(b, "trust-2", "j1", true) // another client's id is its own
			use(b, "trust-1", "j2", true)
			// Once expired, the id is forgotten (an assertion that old is
			// refused by its exp anyway).
			c.add(5*time.Minute + time.Second)
			exp = c.now().Add(5 * time.Minute)
			use(b, "trust-1", "j1", true)
			use(a, "trust-1", "j1", false)
		})
	}
}

// Concurrent uses of one id at several instances: exactly one is fresh.
func TestOneOfConcurrentUsesIsFresh(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
	for name, st := range engines(t, c) {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			fresh := 0
			for i := range 8 {
				wg.Go(func() {
					ok, err := st[i%2].Use(ctx, "trust-1", "same", c.now().Add(time.Minute))
					if err != nil {
						t.Error(err)
					}
					if ok {
						mu.Lock()
						fresh++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if fresh != 1 {
				t.Errorf("%d uses were fresh, want 1", fresh)
			}
		})
	}
}

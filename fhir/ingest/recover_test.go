package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

var errCrash = errors.New("simulated crash")

// crashAt makes the ingester stop, as a crash would, once n resources of
// a record are stored (0: right after the journal is written).
func crashAt(i *Ingester, n int) {
	i.afterApply = func(done int) error {
		if done == n {
			return errCrash
		}
		return nil
	}
}

// midRecord is where a crash leaves a record of n resources half-stored:
// half way, or before its one transaction with a BatchStore, which stores
// all or none (and so leaves nothing to finish).
func midRecord(i *Ingester, n int) int {
	if _, batch := i.st.(BatchStore); batch {
		return 0
	}
	return n / 2
}

func TestRecoverFinishesAnInterruptedRecordExactly(t *testing.T) {
	data := fixture(t, "01-daily-home-care.json")
	want := translate(t, data)
	eachBackend(t, func(t *testing.T, backend string) {
		for _, tc := range []struct {
			note    string
			crashAt int
		}{
			{"after the journal write", 0},
			{"after half the resources", len(want) / 2},
			{"after the last resource, before the journal is closed", len(want)},
		} {
			t.Run(tc.note, func(t *testing.T) {
				e := newEnv(t, backend)
				i := e.journaled(t)
				crashAt(i, tc.crashAt)
				if _, err := i.Record(context.Background(), data); !errors.Is(err, errCrash) {
					t.Fatalf("err = %v, want the simulated crash", err)
				}
				stored := 0
				for _, r := range want {
					if _, err := resourcesOf(t, i).Read(context.Background(), r.Type, r.ID); err == nil {
						stored++
					}
				}
				if stored != tc.crashAt {
					t.Fatalf("%d resources stored before the crash, want %d", stored, tc.crashAt)
				}
				if n := journals(t, i, statePending); n != 1 {
					t.Fatalf("%d pending journals, want 1", n)
				}

				// Restart: a new ingester over the same databases.
				restarted := e.journaled(t) // runs Recover
				if n := journals(t, restarted, statePending); n != 0 {
					t.Fatalf("%d journals still pending after Recover", n)
				}
				checkStored(t, resourcesOf(t, restarted), want, 1)
				if n, err := restarted.Recover(context.Background()); err != nil || n != 0 {
					t.Errorf("second Recover = %d, %v; want 0, nil", n, err)
				}
				res, err := restarted.Record(context.Background(), data)
				if err != nil {
					t.Fatal(err)
				}
				if res.Outcome != Unchanged {
					t.Errorf("re-send after recovery: %s %+v, want unchanged", res.Outcome, res.Counts)
				}
			})
		}
	})
}

// With a BatchStore (the SQLite engine) no journal is written before the
// record's one transaction: a crash before it commits leaves nothing
// stored and nothing to finish (the record was not acknowledged, and is
// stored when sent again); a crash after it leaves all of it stored and
// nothing pending.
func TestBatchStoreCrashLeavesAllOrNothing(t *testing.T) {
	t.Parallel()
	data := fixture(t, "01-daily-home-care.json")
	want := translate(t, data)
	for _, tc := range []struct {
		note    string
		crashAt int
		stored  int
		resend  Outcome
	}{
		{"before the transaction", 0, 0, Created},
		{"after it committed, before the receipt", len(want), len(want), Unchanged},
	} {
		t.Run(tc.note, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, onSQLite)
			i := e.ingester(t)
			if _, batch := i.st.(BatchStore); !batch {
				t.Fatalf("the SQLite engine (%T) is not a BatchStore", i.st)
			}
			crashAt(i, tc.crashAt)
			if _, err := i.Record(context.Background(), data); !errors.Is(err, errCrash) {
				t.Fatalf("err = %v, want the simulated crash", err)
			}
			restarted := e.ingester(t) // runs Recover
			stored := 0
			for _, r := range want {
				if _, err := resourcesOf(t, restarted).Read(context.Background(), r.Type, r.ID); err == nil {
					stored++
				}
			}
			if stored != tc.stored {
				t.Fatalf("%d resources stored after the crash, want %d", stored, tc.stored)
			}
			if n := journals(t, restarted, statePending) + journals(t, restarted, stateApplied); n != 0 {
				t.Fatalf("%d journals after a crash, want none (nothing written before the transaction, no receipt after)", n)
			}
			res, err := restarted.Record(context.Background(), data)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.resend {
				t.Errorf("sent again: %s, want %s", res.Outcome, tc.resend)
			}
			if n := journals(t, restarted, stateApplied); n != 1 {
				t.Errorf("%d receipts after the record was sent again, want 1", n)
			}
			checkStored(t, resourcesOf(t, restarted), want, 1)
		})
	}
}

// A newer record for the same person first finishes the older one a crash
// left half-stored, so the older content never overwrites the newer.
func TestNewerRecordFinishesEarlierPendingFirst(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := journaled(t, backend)
		ctx := context.Background()
		older := fixture(t, "10-money-handled.json")
		crashAt(i, midRecord(i, len(translate(t, older))))
		if _, err := i.Record(ctx, older); !errors.Is(err, errCrash) {
			t.Fatalf("err = %v, want the simulated crash", err)
		}
		i.afterApply = nil
		newer := edit(t, older, func(m map[string]any) {
			m["transactions"].([]any)[0].(map[string]any)["purpose"] = "Weekly shopping at the supermarket"
		})
		if _, err := i.Record(ctx, newer); err != nil {
			t.Fatal(err)
		}
		if n := journals(t, i, statePending); n != 0 {
			t.Fatalf("%d journals pending", n)
		}
		// Stored content is the newer record's, whatever the versions.
		for _, r := range translate(t, newer) {
			v, err := resourcesOf(t, i).Read(ctx, r.Type, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameContent(t, v.JSON, r.Object) {
				t.Errorf("%s/%s does not hold the newer record's content", r.Type, r.ID)
			}
		}
		if n, err := i.Recover(ctx); err != nil || n != 0 {
			t.Errorf("Recover = %d, %v; want 0, nil", n, err)
		}
	})
}

// When the resource database goes away mid-record, Record fails with
// fhir.ErrUnavailable and the record is finished by Recover once the
// database is back. The resources are in a MongoDB server on both
// backends (a SQLite file does not go away); on onSQLite the journal is
// SQLite's.
func TestDatabaseUnavailableMidRecord(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		dir := t.TempDir()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		db, err := startServerAt(ctx, dir, addr)
		if err != nil {
			t.Fatal(err)
		}
		i := newEnvMongoAt(t, backend, db.URI()).ingester(t)
		data := fixture(t, "03-fall.json")
		want := translate(t, data)
		half := midRecord(i, len(want))
		i.afterApply = func(n int) error {
			if n == half {
				db.Close()
			}
			return nil
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := i.Record(rctx, data); !errors.Is(err, fhir.ErrUnavailable) {
			t.Fatalf("err = %v, want fhir.ErrUnavailable", err)
		}
		i.afterApply = nil

		db, err = startServerAt(ctx, dir, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// The driver reconnects by itself; retry (bounded) until it has.
		deadline := time.Now().Add(60 * time.Second)
		for {
			n, err := i.Recover(ctx)
			if err == nil {
				if n != 1 {
					t.Fatalf("Recover finished %d records, want 1", n)
				}
				break
			}
			if !errors.Is(err, fhir.ErrUnavailable) || time.Now().After(deadline) {
				t.Fatalf("Recover: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		checkStored(t, resourcesOf(t, i), want, 1)
	})
}

// startServerAt is embedded.StartAt, one start at a time (see serverStart).
func startServerAt(ctx context.Context, dir, addr string) (*embedded.Server, error) {
	serverStart.Lock()
	defer serverStart.Unlock()
	return embedded.StartAt(ctx, dir, addr, nil)
}

func sameContent(t testing.TB, stored []byte, obj map[string]any) bool {
	t.Helper()
	got := map[string]any{}
	if err := json.Unmarshal(stored, &got); err != nil {
		t.Fatal(err)
	}
	stripStamp(got)
	exp := canonical(t, obj)
	stripStamp(exp)
	return mustJSON(t, got) == mustJSON(t, exp)
}

// A record left half-stored while the gateway keeps running (a database
// outage mid-record) is finished by RecoverStale once it is old enough,
// and not before: a younger one may still be being stored by its request.
func TestRecoverStaleFinishesOnlyOldInterruptedRecords(t *testing.T) {
	data := fixture(t, "01-daily-home-care.json")
	want := translate(t, data)
	eachBackend(t, func(t *testing.T, backend string) {
		i := journaled(t, backend)
		start := time.Now()
		i.now = func() time.Time { return start }
		crashAt(i, midRecord(i, len(want)))
		if _, err := i.Record(context.Background(), data); !errors.Is(err, errCrash) {
			t.Fatalf("err = %v, want the simulated crash", err)
		}
		i.afterApply = nil
		if n, err := i.RecoverStale(context.Background(), time.Minute); err != nil || n != 0 {
			t.Fatalf("RecoverStale of a fresh record = %d, %v; want 0, nil", n, err)
		}
		if n := journals(t, i, statePending); n != 1 {
			t.Fatalf("%d pending journals, want 1", n)
		}
		later := start.Add(2 * time.Minute)
		i.now = func() time.Time { return later }
		if n, err := i.RecoverStale(context.Background(), time.Minute); err != nil || n != 1 {
			t.Fatalf("RecoverStale after two minutes = %d, %v; want 1, nil", n, err)
		}
		if n := journals(t, i, statePending); n != 0 {
			t.Fatalf("%d journals still pending", n)
		}
		checkStored(t, resourcesOf(t, i), want, 1)
	})
}

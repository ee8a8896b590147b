package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
)

// openLog opens a log on a fresh embedded database.
func openLog(t testing.TB, opt Options) (*Log, *mongo.Database) {
	t.Helper()
	db := storetest.Database(t, "audit_test")
	return openOn(t, db, opt), db
}

// openOn opens a log on db and closes it when the test ends.
func openOn(t testing.TB, db *mongo.Database, opt Options) *Log {
	t.Helper()
	l, err := Open(context.Background(), db, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// insertCounter counts insert commands sent to the server.
type insertCounter struct{ n atomic.Int64 }

func (c *insertCounter) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "insert" {
			c.n.Add(1)
		}
	}}
}

// monitoredDB connects to a fresh embedded server through a client whose
// insert commands are counted.
func monitoredDB(t testing.TB) (*mongo.Database, *insertCounter) {
	t.Helper()
	c := &insertCounter{}
	client, err := mongo.Connect(options.Client().ApplyURI(storetest.Server(t, "")).SetMonitor(c.monitor()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database("audit_test"), c
}

// base is the clock the tests' entries start from.
var base = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// readEntry is a GP nurse reading a care plan of patient p.
func readEntry(i int, p string) Entry {
	return Entry{
		Time:         base.Add(time.Duration(i) * time.Minute),
		RequestID:    fmt.Sprintf("req-%d", i),
		Interaction:  "read",
		ResourceType: "CarePlan",
		HTTPStatus:   200,
		Agent:        Agent{Kind: KindUser, Subject: "u-gp", Org: "G81001", Role: "R8001", Purpose: "TREAT", ClientID: "gp-app"},
		Patients:     []string{p},
		Resources:    []string{fmt.Sprintf("CarePlan/cp-%d", i)},
		Categories:   []string{"care-plan"},
		Decision:     Decision{Allowed: true, Reasons: []string{"DSA-1-signatory"}, Revision: "rev-1"},
	}
}

// mustRecord records e or fails the test.
func mustRecord(t testing.TB, l *Log, e Entry) string {
	t.Helper()
	id, err := l.Record(context.Background(), e)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return id
}

// mustVerify verifies the chain and fails the test on any problem.
func mustVerify(t testing.TB, db *mongo.Database, collection string) int64 {
	t.Helper()
	p, n, err := Verify(context.Background(), db, collection, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p != nil {
		t.Fatalf("Verify found a problem after %d records: %s", n, p)
	}
	return n
}

// roundTrip re-decodes v through JSON so that it compares with parsed
// expectations.
func roundTrip(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

package ingest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
)

const fixtureDir = "../../fixtures/socialcare"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openStore(t testing.TB, uri string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), uri, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	return st
}

// newIngester is an Ingester over a fresh embedded database.
func newIngester(t testing.TB) *Ingester {
	t.Helper()
	return newIngesterAt(t, storetest.Server(t, ""))
}

func newIngesterAt(t testing.TB, uri string) *Ingester {
	t.Helper()
	i := New(openStore(t, uri), nil)
	if _, err := i.Recover(context.Background()); err != nil {
		t.Fatalf("recover: %v", err)
	}
	t.Cleanup(func() { _ = i.Close(context.Background()) })
	return i
}

// translate is what the translator makes of a record, for comparison with
// what was stored.
func translate(t testing.TB, data []byte) []fhir.Resource {
	t.Helper()
	rec, err := socialcare.Decode(data, time.Now())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	res, err := socialcare.Translate(rec)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkStored asserts that every resource is stored with exactly the
// translated content, at version want, with history of that length.
func checkStored(t *testing.T, st *store.Store, want []fhir.Resource, version int64) {
	t.Helper()
	ctx := context.Background()
	for _, r := range want {
		v, err := st.Read(ctx, r.Type, r.ID)
		if err != nil {
			t.Fatalf("read %s/%s: %v", r.Type, r.ID, err)
		}
		if v.VersionID != version {
			t.Errorf("%s/%s at version %d, want %d", r.Type, r.ID, v.VersionID, version)
		}
		got := map[string]any{}
		if err := json.Unmarshal(v.JSON, &got); err != nil {
			t.Fatal(err)
		}
		stripStamp(got)
		exp := canonical(t, r.Object)
		stripStamp(exp)
		if g, e := mustJSON(t, got), mustJSON(t, exp); g != e {
			t.Errorf("%s/%s stored content differs from the translation:\n got %s\nwant %s", r.Type, r.ID, g, e)
		}
		hist, _, err := st.History(ctx, r.Type, r.ID, store.HistoryOptions{Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(hist)) != version {
			t.Errorf("%s/%s has %d versions, want %d", r.Type, r.ID, len(hist), version)
		}
	}
}

// stripStamp removes what the store sets: meta.versionId and
// meta.lastUpdated.
func stripStamp(obj map[string]any) {
	if m, ok := obj["meta"].(map[string]any); ok {
		delete(m, "versionId")
		delete(m, "lastUpdated")
		if len(m) == 0 {
			delete(obj, "meta")
		}
	}
}

// canonical round-trips obj through JSON, so numbers compare alike; meta
// (apart from versionId and lastUpdated, which the store sets) stays.
func canonical(t testing.TB, obj map[string]any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, obj)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// journals counts journal documents by state.
func journals(t testing.TB, i *Ingester, state string) int64 {
	t.Helper()
	n, err := i.journal.CountDocuments(context.Background(), bson.D{{Key: "state", Value: state}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

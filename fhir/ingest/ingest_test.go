package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func TestRecordStoresEveryResourceOnceAndResendChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		ctx := context.Background()
		data := fixture(t, "10-money-handled.json")
		want := translate(t, data)

		res, err := i.Record(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != Created || res.Counts != (Counts{Created: len(want)}) {
			t.Fatalf("first send: outcome %s counts %+v, want all %d created", res.Outcome, res.Counts, len(want))
		}
		if len(res.Resources) != len(want) {
			t.Fatalf("result lists %d resources, want %d", len(res.Resources), len(want))
		}
		for n, s := range res.Resources {
			if s.ResourceType != want[n].Type || s.ID != want[n].ID || s.VersionID != 1 || s.Outcome != Created {
				t.Errorf("resource %d: %+v, want %s/%s version 1 created", n, s, want[n].Type, want[n].ID)
			}
			if s.Provenance != (s.ResourceType == "Provenance") {
				t.Errorf("resource %d: provenance flag %v on %s", n, s.Provenance, s.ResourceType)
			}
		}
		if !strings.HasPrefix(res.Patient, "Patient/") || !slices.ContainsFunc(res.Resources, func(s Stored) bool { return "Patient/"+s.ID == res.Patient }) {
			t.Errorf("patient %q is not one of the stored resources", res.Patient)
		}
		checkStored(t, resourcesOf(t, i), want, 1)

		again, err := i.Record(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		if again.Outcome != Unchanged || again.Counts != (Counts{Unchanged: len(want)}) {
			t.Fatalf("second send: outcome %s counts %+v, want all unchanged", again.Outcome, again.Counts)
		}
		checkStored(t, resourcesOf(t, i), want, 1)
		if n := journals(t, i, statePending); n != 0 {
			t.Errorf("%d journals still pending", n)
		}
		if n := journals(t, i, stateApplied); n != 2 {
			t.Errorf("%d applied journals, want 2", n)
		}
	})
}

func TestChangedEntryMakesOneNewVersion(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		ctx := context.Background()
		data := fixture(t, "10-money-handled.json")
		if _, err := i.Record(ctx, data); err != nil {
			t.Fatal(err)
		}
		changed := edit(t, data, func(m map[string]any) {
			tx := m["transactions"].([]any)[0].(map[string]any)
			tx["purpose"] = "Weekly shopping at the supermarket"
		})
		res, err := i.Record(ctx, changed)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != Updated || res.Counts.Updated == 0 || res.Counts.Created != 0 {
			t.Fatalf("outcome %s counts %+v, want some updated and none created", res.Outcome, res.Counts)
		}
		for _, s := range res.Resources {
			want := int64(1)
			if s.Outcome == Updated {
				want = 2
			}
			if s.VersionID != want {
				t.Errorf("%s/%s %s at version %d", s.ResourceType, s.ID, s.Outcome, s.VersionID)
			}
		}
	})
}

// badRecord has four problems: an NHS number failing its check digit, a
// visit ending before it starts, a negative amount and an unknown field.
func badRecord(t testing.TB) []byte {
	return edit(t, fixture(t, "10-money-handled.json"), func(m map[string]any) {
		m["person"].(map[string]any)["nhsNumber"] = "9990000019"
		v := m["visits"].([]any)[0].(map[string]any)
		v["actualEnd"] = "2025-03-03T07:00:00Z"
		m["transactions"].([]any)[0].(map[string]any)["amount"] = -5
		m["favouriteColour"] = "blue"
	})
}

func TestRejectedRecordStoresNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		_, err := i.Record(context.Background(), badRecord(t))
		var fe *fhir.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
			t.Fatalf("err = %v, want a 422 *fhir.Error", err)
		}
		var paths []string
		for _, is := range fe.Issues {
			paths = append(paths, is.Expression...)
		}
		for _, want := range []string{"person.nhsNumber", "visits[0].actualEnd", "transactions[0].amount", "favouriteColour"} {
			if !slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, want) }) {
				t.Errorf("no issue names %s; issues at %v", want, paths)
			}
		}
		if n := journals(t, i, statePending) + journals(t, i, stateApplied); n != 0 {
			t.Errorf("%d journals written for a rejected record", n)
		}
		for _, typ := range fhir.ResourceTypes {
			if n := versions(t, i, typ); n != 0 {
				t.Errorf("%d %s stored for a rejected record", n, typ)
			}
		}
	})
}

func TestMalformedRecordIs400(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		_, err := i.Record(context.Background(), []byte(`{"schemaVersion":`))
		var fe *fhir.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest {
			t.Fatalf("err = %v, want a 400 *fhir.Error", err)
		}
	})
}

// edit changes a JSON record.
func edit(t testing.TB, data []byte, fn func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

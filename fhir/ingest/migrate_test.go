package ingest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
)

type stateDoc struct {
	kind string
	doc  []byte
}

func patientRef(t testing.TB, rs []fhir.Resource) string {
	t.Helper()
	for _, r := range rs {
		if r.Type == "Patient" {
			return "Patient/" + r.ID
		}
	}
	t.Fatal("no Patient")
	return ""
}

func exportState(t *testing.T, i *Ingester) []stateDoc {
	t.Helper()
	var docs []stateDoc
	if err := i.ExportState(context.Background(), func(kind string, doc []byte) error {
		docs = append(docs, stateDoc{kind, doc})
		return nil
	}); err != nil {
		t.Fatalf("export: %v", err)
	}
	return docs
}

// Pending journals and job records copied from one engine to the other
// (and to the same engine) arrive exactly: the copy exports the same
// documents, reads the same jobs, and Recover finishes the records against
// the new resource store. Copying again changes nothing.
func TestExportImportStateRoundTrip(t *testing.T) {
	half := fixture(t, "01-daily-home-care.json") // stopped half-stored
	early := fixture(t, "03-fall.json")           // stopped right after its journal
	whole := fixture(t, "10-money-handled.json")  // stored: its journal is a receipt, not exported
	for _, from := range backends {
		for _, to := range backends {
			t.Run(from+" to "+to, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				src := journaled(t, from)
				clock := time.Now().UTC().Truncate(time.Millisecond)
				src.now = func() time.Time { return clock }

				if _, err := src.Record(ctx, whole); err != nil {
					t.Fatal(err)
				}
				data, _ := ndjsonWithBadLine(t)
				j, err := src.Submit(ctx, FormatNDJSON, bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				waitJob(t, src, j.ID)
				if err := src.state.insertJob(ctx, &jobDoc{ID: "0-stale", Format: FormatCLD, State: JobRunning,
					Started: clock.Add(-time.Hour), Updated: clock.Add(-time.Hour), Done: 3, Rejected: 1}); err != nil {
					t.Fatal(err)
				}
				crashAt(src, midRecord(src, len(translate(t, half))))
				if _, err := src.Record(ctx, half); !errors.Is(err, errCrash) {
					t.Fatalf("err = %v, want the simulated crash", err)
				}
				clock = clock.Add(time.Second)
				crashAt(src, 0)
				if _, err := src.Record(ctx, early); !errors.Is(err, errCrash) {
					t.Fatalf("err = %v, want the simulated crash", err)
				}
				src.afterApply = nil

				docs := exportState(t, src)
				var kinds []string
				for _, d := range docs {
					kinds = append(kinds, d.kind)
				}
				if want := []string{KindJournal, KindJournal, KindJob, KindJob}; !slices.Equal(kinds, want) {
					t.Fatalf("exported %v, want %v", kinds, want)
				}
				for n, want := range [][]fhir.Resource{translate(t, half), translate(t, early)} {
					if key := `"key":"` + patientRef(t, want) + `"`; !bytes.Contains(docs[n].doc, []byte(key)) {
						t.Errorf("journal %d is not the record stopped %s", n, []string{"first", "second"}[n])
					}
				}

				dst := newIngester(t, to) // fresh databases: resources too
				dst.now = src.now
				for range 2 { // the second copy finds everything there
					for _, d := range docs {
						if err := dst.ImportState(ctx, d.kind, d.doc); err != nil {
							t.Fatalf("import %s: %v", d.kind, err)
						}
					}
				}
				again := exportState(t, dst)
				if len(again) != len(docs) {
					t.Fatalf("the copy exports %d documents, want %d", len(again), len(docs))
				}
				for n := range docs {
					if again[n].kind != docs[n].kind || !bytes.Equal(again[n].doc, docs[n].doc) {
						t.Errorf("document %d differs after the copy:\n got %s %.300s\nwant %s %.300s", n, again[n].kind, again[n].doc, docs[n].kind, docs[n].doc)
					}
				}
				for _, id := range []string{j.ID, "0-stale"} {
					a, err := src.Job(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					b, err := dst.Job(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if g, w := mustJSON(t, b), mustJSON(t, a); g != w {
						t.Errorf("job %s differs after the copy:\n got %.400s\nwant %.400s", id, g, w)
					}
				}
				if n := journals(t, dst, statePending); n != 2 {
					t.Fatalf("%d pending journals in the copy, want 2", n)
				}
				if n, err := dst.Recover(ctx); err != nil || n != 2 {
					t.Fatalf("Recover of the copy = %d, %v; want 2, nil", n, err)
				}
				checkStored(t, resourcesOf(t, dst), translate(t, half), 1)
				checkStored(t, resourcesOf(t, dst), translate(t, early), 1)
			})
		}
	}
}

func TestExportStopsOnCallbackError(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := journaled(t, backend)
		crashAt(i, 0)
		if _, err := i.Record(context.Background(), fixture(t, "03-fall.json")); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		stop := errors.New("stop")
		calls := 0
		err := i.ExportState(context.Background(), func(string, []byte) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("ExportState = %v after %d calls, want the callback's error after 1", err, calls)
		}
	})
}

// ImportState refuses what ExportState does not make, and stores none of
// it.
func TestImportRefusesMalformedDocuments(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := journaled(t, backend)
		ctx := context.Background()
		crashAt(i, 0)
		if _, err := i.Record(ctx, fixture(t, "03-fall.json")); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		i.afterApply = nil
		docs := exportState(t, i)
		if len(docs) != 1 || docs[0].kind != KindJournal {
			t.Fatalf("exported %d documents, want one journal", len(docs))
		}
		variant := func(fn func(m map[string]any)) string { return string(edit(t, docs[0].doc, fn)) }
		fresh := variant(func(m map[string]any) { m["id"] = bson.NewObjectID().Hex() })
		job := `{"id":"j","format":"ndjson","state":"done","started":"2025-01-01T00:00:00Z","updated":"2025-01-01T00:00:00Z","done":0,"rejected":0`
		for _, tc := range []struct{ note, kind, doc string }{
			{"unknown kind", "resource", fresh},
			{"not JSON", KindJournal, "{"},
			{"two values", KindJournal, fresh + " {}"},
			{"unknown field", KindJournal, variant(func(m map[string]any) { m["extra"] = 1 })},
			{"bad id", KindJournal, variant(func(m map[string]any) { m["id"] = "x" })},
			{"applied", KindJournal, variant(func(m map[string]any) { m["state"] = stateApplied })},
			{"not a Patient key", KindJournal, variant(func(m map[string]any) { m["key"] = "Basic/1" })},
			{"wrong count", KindJournal, variant(func(m map[string]any) { m["n"] = 1 })},
			{"resource not an object", KindJournal, variant(func(m map[string]any) {
				m["resources"].([]any)[0].(map[string]any)["resource"] = []any{}
			})},
			{"job without id", KindJob, strings.Replace(job, `"id":"j"`, `"id":""`, 1) + "}"},
			{"job with unknown state", KindJob, strings.Replace(job, `"done",`, `"lost",`, 1) + "}"},
			{"job with unknown format", KindJob, strings.Replace(job, `"ndjson"`, `"xml"`, 1) + "}"},
			{"job with bad report", KindJob, job + `,"report":[]}`},
		} {
			if err := i.ImportState(ctx, tc.kind, []byte(tc.doc)); err == nil {
				t.Errorf("%s: imported", tc.note)
			}
		}
		if n := journals(t, i, statePending); n != 1 {
			t.Errorf("%d pending journals, want the one", n)
		}
		if _, err := i.Job(ctx, "j"); err == nil {
			t.Error("a refused job was stored")
		}
		// The fresh-id journal itself is accepted.
		if err := i.ImportState(ctx, KindJournal, []byte(fresh)); err != nil {
			t.Fatalf("fresh journal: %v", err)
		}
		if n := journals(t, i, statePending); n != 2 {
			t.Errorf("%d pending journals, want 2", n)
		}
		if n, err := i.Recover(ctx); err != nil || n != 2 {
			t.Errorf("Recover = %d, %v; want 2, nil", n, err)
		}
	})
}

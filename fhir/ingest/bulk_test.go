package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

// ndjsonWithBadLine is people.ndjson with a bad record inserted as line 3.
func ndjsonWithBadLine(t testing.TB) ([]byte, int) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(fixture(t, "people.ndjson")), []byte("\n"))
	bad := badRecord(t)
	out := append([][]byte{}, lines[:2]...)
	out = append(out, bad)
	out = append(out, lines[2:]...)
	return append(bytes.Join(out, []byte("\n")), '\n'), len(out)
}

func TestBulkNDJSONReportsEachLine(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		data, n := ndjsonWithBadLine(t)
		var calls, lastDone, lastFailed int
		rep, err := i.Bulk(context.Background(), FormatNDJSON, bytes.NewReader(data), func(done, failed int) {
			calls++
			lastDone, lastFailed = done, failed
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Records != n || rep.Stored != n-1 || rep.Rejected != 1 || len(rep.Items) != n {
			t.Fatalf("report: %d records, %d stored, %d rejected, %d items; want %d, %d, 1, %d", rep.Records, rep.Stored, rep.Rejected, len(rep.Items), n, n-1, n)
		}
		if calls != n || lastDone != n || lastFailed != 1 {
			t.Errorf("progress called %d times, last (%d, %d); want %d times, last (%d, 1)", calls, lastDone, lastFailed, n, n)
		}
		for k, it := range rep.Items {
			if it.Line != k+1 {
				t.Errorf("item %d is line %d", k, it.Line)
			}
			switch {
			case k == 2:
				if it.Status != ItemRejected || it.Problems == nil || len(it.Problems.Issue) < 4 {
					t.Errorf("line 3: %+v, want rejected with at least 4 problems", it)
				}
			case it.Status != ItemStored || it.Outcome != Created || it.Resources == nil || it.Resources.Created == 0 || !strings.HasPrefix(it.Patient, "Patient/"):
				t.Errorf("line %d: %+v, want stored and created", it.Line, it)
			}
		}
		again, err := i.Bulk(context.Background(), FormatNDJSON, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		total := rep.Resources.Created + rep.Resources.Updated + rep.Resources.Unchanged
		if again.Resources != (Counts{Unchanged: total}) {
			t.Errorf("re-import: %+v, want all %d resources unchanged", again.Resources, total)
		}
	})
}

func TestBulkCLD(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		rep, err := i.Bulk(context.Background(), FormatCLD, bytes.NewReader(fixture(t, "cld-example.csv")), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Records == 0 || rep.Rejected != 0 {
			t.Fatalf("CLD report: %+v", rep)
		}
		prev := 1
		for _, it := range rep.Items {
			if it.Row <= prev || it.Line != 0 {
				t.Errorf("item row %d line %d: want rows increasing after the header", it.Row, it.Line)
			}
			prev = it.Row
		}
	})
}

func TestBulkStopsOnUnusableFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		for _, tc := range []struct{ note, format, body string }{
			{"CSV without the CLD header", FormatCLD, "a,b\n1,2\n"},
			{"unknown format", "xml", "<x/>"},
		} {
			t.Run(tc.note, func(t *testing.T) {
				if _, err := i.Bulk(context.Background(), tc.format, strings.NewReader(tc.body), nil); err == nil {
					t.Fatal("no error")
				}
			})
		}
	})
}

func TestBulkStopsWhenContextEnds(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		ctx, cancel := context.WithCancel(context.Background())
		data, _ := ndjsonWithBadLine(t)
		data = bytes.Repeat(data, groupRecords) // more records than one transaction holds
		total := bytes.Count(data, []byte("\n"))
		rep, err := i.Bulk(ctx, FormatNDJSON, bytes.NewReader(data), func(done, _ int) {
			if done == 1 {
				cancel()
			}
		})
		// It stops after the record, or (SQLite) after the group of
		// records stored with it in one transaction.
		if err == nil || rep.Records < 1 || rep.Records > groupRecords || rep.Records >= total {
			t.Fatalf("err %v after %d of %d records; want an error after 1 to %d", err, rep.Records, total, groupRecords)
		}
	})
}

// Records are staged in parallel but stored in input order: of several
// records of one person in a file, the last one's content is what is
// stored, and each made one new version of what it changed.
func TestBulkStoresAPersonsRecordsInFileOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		ctx := context.Background()
		base := fixture(t, "10-money-handled.json")
		var lines [][]byte
		var last []byte
		for n := range 6 {
			rec := edit(t, base, func(m map[string]any) {
				m["transactions"].([]any)[0].(map[string]any)["purpose"] = fmt.Sprintf("Shopping, week %d", n+1)
			})
			lines = append(lines, compact(t, rec))
			last = rec
		}
		rep, err := i.Bulk(ctx, FormatNDJSON, bytes.NewReader(append(bytes.Join(lines, []byte("\n")), '\n')), nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Stored != len(lines) {
			t.Fatalf("%d of %d records stored: %+v", rep.Stored, len(lines), rep.Items)
		}
		for k, it := range rep.Items {
			want := Updated
			if k == 0 {
				want = Created
			}
			if it.Line != k+1 || it.Outcome != want {
				t.Errorf("item %d: line %d %s, want line %d %s", k, it.Line, it.Outcome, k+1, want)
			}
		}
		for _, r := range translate(t, last) {
			v, err := resourcesOf(t, i).Read(ctx, r.Type, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !sameContent(t, v.JSON, r.Object) {
				t.Errorf("%s/%s does not hold the last record's content", r.Type, r.ID)
			}
		}
	})
}

func compact(t testing.TB, js []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, js); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A write that fails inside a transaction shared by several records (on
// SQLite) undoes the whole group; its records are then stored one
// transaction each, so one record's failure costs no other record and
// nothing is stored twice.
func TestBulkRedoesAFailedGroupOneByOne(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		i := newIngester(t, backend)
		data, n := ndjsonWithBadLine(t)
		writes := 0
		i.afterApply = func(done int) error {
			if done == 0 {
				return nil
			}
			if writes++; writes == 2 { // the second record written, once
				return fhir.Errorf(http.StatusConflict, "conflict", "simulated conflict")
			}
			return nil
		}
		rep, err := i.Bulk(context.Background(), FormatNDJSON, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The second record is refused (409) when it is written; on
		// SQLite its group is then stored again record by record and
		// the hook lets it through, so it is stored.
		wantStored := n - 2
		if _, grouped := i.st.(groupingStore); grouped {
			wantStored = n - 1
		}
		if rep.Records != n || rep.Stored != wantStored || rep.Rejected != n-wantStored {
			t.Fatalf("report: %d records, %d stored, %d rejected; want %d, %d, %d", rep.Records, rep.Stored, rep.Rejected, n, wantStored, n-wantStored)
		}
		i.afterApply = nil
		again, err := i.Bulk(context.Background(), FormatNDJSON, bytes.NewReader(data), nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Resources.Updated != 0 || (wantStored == n-1 && again.Resources.Created != 0) {
			t.Errorf("re-import: %+v, want nothing new (every stored record stored once)", again.Resources)
		}
	})
}

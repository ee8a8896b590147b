package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		note string
		only string // "mongo" or "sqlite" when the tampering exists on one engine only
		// tamper edits the trail name directly in the database.
		tamper  func(t *testing.T, b *testBackend, l *Log, name string)
		seq     int64
		kind    string
		checked int64
		detail  string // in the problem's detail, when set
	}{
		{
			note:   "altered field",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) { b.set(t, name, 4, "org", "X99") },
			seq:    4, kind: ProblemAltered, checked: 4,
		},
		{
			note: "altered patient list hides an access",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				b.set(t, name, 2, "pat", []string{"Patient/other"})
			},
			seq: 2, kind: ProblemAltered, checked: 2,
		},
		{
			note:   "field added",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) { b.set(t, name, 5, "note", "x") },
			seq:    5, kind: ProblemAltered, checked: 5, detail: "unexpected field",
		},
		{
			note:   "record deleted",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) { b.deleteSeqs(t, name, 3, 3) },
			seq:    3, kind: ProblemMissing, checked: 3,
		},
		{
			note: "forged record appended",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				forged := &record{ID: "forged", Seq: 7, Prev: genesis, Kind: kindEvent, T: base, Patients: []string{"Patient/p1"}}
				forged.Hash, _ = forged.computeHash()
				b.insertRaw(t, name, forged)
			},
			seq: 7, kind: ProblemBrokenLink, checked: 7,
		},
		{
			note: "forged record between two others",
			only: "mongo", // a SQLite seq is an integer primary key
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				if _, err := b.mongo.Collection(name).InsertOne(ctx, bson.D{{Key: "_id", Value: "forged"}, {Key: "seq", Value: 3.5}, {Key: "kind", Value: kindEvent}}); err != nil {
					t.Fatal(err)
				}
			},
			seq: 4, kind: ProblemInserted, checked: 4,
		},
		{
			note: "forged record with a seq already passed",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				forged := &record{ID: "forged", Seq: 0, Prev: genesis, Kind: kindEvent, T: base}
				forged.Hash, _ = forged.computeHash()
				b.insertRaw(t, name, forged)
			},
			seq: 0, kind: ProblemInserted, checked: 1,
		},
		{
			note: "hash rewritten to match altered content breaks the next link",
			tamper: func(t *testing.T, b *testBackend, l *Log, name string) {
				b.rewrite(t, l, name, 2, func(r *record) { r.Org = "X99" })
			},
			seq: 3, kind: ProblemBrokenLink, checked: 3,
		},
		{
			note: "hash replaced",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				b.set(t, name, 3, "hash", strings.Repeat("ab", 32))
			},
			seq: 3, kind: ProblemAltered, checked: 3, detail: "content does not match its hash",
		},
		{
			note: "patient index row deleted hides an access",
			only: "sqlite",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				b.sql(t, name, `DELETE FROM `+b.names(t, name).pats+` WHERE seq = 2`)
			},
			seq: 2, kind: ProblemAltered, checked: 2, detail: "patient index",
		},
		{
			note: "patient index marks an access as the person's own",
			only: "sqlite",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				b.sql(t, name, `UPDATE `+b.names(t, name).pats+` SET own = 1 WHERE seq = 3`)
			},
			seq: 3, kind: ProblemAltered, checked: 3, detail: "patient index",
		},
		{
			note: "patient index row added",
			only: "sqlite",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				b.sql(t, name, `INSERT INTO `+b.names(t, name).pats+` (pat, seq, own) VALUES ('Patient/other', 4, 0)`)
			},
			seq: 4, kind: ProblemAltered, checked: 4, detail: "patient index",
		},
		{
			note: "row moved to another seq",
			only: "sqlite",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				b.sql(t, name, `UPDATE `+b.names(t, name).tbl+` SET seq = 10 WHERE seq = 6`)
			},
			seq: 10, kind: ProblemAltered, checked: 6, detail: "seq differs",
		},
		{
			note: "record rewritten in another JSON form",
			only: "sqlite",
			tamper: func(t *testing.T, b *testBackend, _ *Log, name string) {
				// The same content, spaced out: it decodes to the record
				// its hash covers, but is not what was hashed.
				b.sql(t, name, `UPDATE `+b.names(t, name).tbl+` SET doc = json_pretty(doc) WHERE seq = 5`)
			},
			seq: 5, kind: ProblemAltered, checked: 5, detail: "canonical form",
		},
	}
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		for i, tc := range tests {
			if tc.only != "" && tc.only != b.name {
				continue
			}
			t.Run(tc.note, func(t *testing.T) {
				name := "audit" + string(rune('a'+i))
				l := b.open(t, Options{Collection: name})
				for j := range 6 {
					mustRecord(t, l, readEntry(j, "Patient/p1"))
				}
				b.mustVerify(t, name)
				tc.tamper(t, b, l, name)
				p, n, err := b.verify(ctx, name, nil)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if p == nil {
					t.Fatalf("Verify found no problem after %d records", n)
				}
				if p.Seq != tc.seq || p.Kind != tc.kind || n != tc.checked || !strings.Contains(p.Detail, tc.detail) {
					t.Fatalf("Verify = %s after %d records; want %s at seq %d after %d (%q)", p, n, tc.kind, tc.seq, tc.checked, tc.detail)
				}
			})
		}
	})
}

func TestRunVerifyReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		l := b.open(t, Options{})
		for i := range 3 {
			mustRecord(t, l, readEntry(i, "Patient/p1"))
		}
		var out bytes.Buffer
		ok, err := b.runVerify(context.Background(), "audit", &out)
		if err != nil || !ok {
			t.Fatalf("RunVerify = %v, %v; output:\n%s", ok, err, out.String())
		}
		if !strings.Contains(out.String(), "OK: 3 records verified; head seq 3 hash ") {
			t.Fatalf("output lacks the result line:\n%s", out.String())
		}
		b.deleteSeqs(t, "audit", 2, 2)
		out.Reset()
		ok, err = b.runVerify(context.Background(), "audit", &out)
		if err != nil || ok {
			t.Fatalf("RunVerify after a deletion = %v, %v; want not ok", ok, err)
		}
		if !strings.Contains(out.String(), "FAILED after 2 records: seq 2 (record -): missing") {
			t.Fatalf("output lacks the failure line:\n%s", out.String())
		}
	})
}

func TestVerifyEmptyChain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		b.open(t, Options{})
		if n := b.mustVerify(t, "audit"); n != 0 {
			t.Fatalf("checked %d records in an empty chain", n)
		}
	})
}

// Records cut from the end of the chain leave a chain that verifies on its
// own; an anchor kept elsewhere reveals the cut, and a rewritten record.
func TestRunVerifyAgainstAnchors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b *testBackend) {
		ctx := context.Background()
		l := b.open(t, Options{})
		for i := range 5 {
			mustRecord(t, l, readEntry(i, "Patient/p1"))
		}
		head, err := l.Head(ctx)
		if err != nil || head.Seq != 5 {
			t.Fatalf("Head = %v, %v; want seq 5", head, err)
		}
		parsed, err := ParseAnchor(head.String())
		if err != nil || parsed != head {
			t.Fatalf("ParseAnchor(%q) = %v, %v", head.String(), parsed, err)
		}
		var out bytes.Buffer
		if ok, err := b.runVerify(ctx, "audit", &out, head); err != nil || !ok {
			t.Fatalf("intact chain against its head: %v, %v\n%s", ok, err, out.String())
		}
		if !strings.Contains(out.String(), "anchor 5: present, hash matches") {
			t.Errorf("output lacks the anchor line:\n%s", out.String())
		}

		// Cut the last two records: the rest still verifies...
		b.deleteSeqs(t, "audit", 4, 5)
		out.Reset()
		if ok, err := b.runVerify(ctx, "audit", &out); err != nil || !ok {
			t.Fatalf("truncated chain without anchors: %v, %v (a chain alone cannot show this)", ok, err)
		}
		// ...but not against the anchor.
		out.Reset()
		if ok, err := b.runVerify(ctx, "audit", &out, head); err != nil || ok {
			t.Fatalf("truncated chain against the anchor: %v, %v; want not ok", ok, err)
		}
		if !strings.Contains(out.String(), "seq 5 (record -): truncated: the chain ends at seq 3") {
			t.Errorf("output lacks the truncation:\n%s", out.String())
		}

		// An anchor whose hash the chain no longer has: rewritten.
		forged := Anchor{Seq: 2, Hash: strings.Repeat("ab", 32)}
		out.Reset()
		if ok, err := b.runVerify(ctx, "audit", &out, forged); err != nil || ok {
			t.Fatalf("chain against a different hash: %v, %v; want not ok", ok, err)
		}
		if !strings.Contains(out.String(), "hash differs from an anchor kept elsewhere") {
			t.Errorf("output lacks the rewrite:\n%s", out.String())
		}
	})
}

func TestParseAnchorRejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "5", "x:" + strings.Repeat("a", 64), "0:" + strings.Repeat("a", 64), "5:" + strings.Repeat("A", 64), "5:abc"} {
		if _, err := ParseAnchor(s); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", s)
		}
	}
}

package audit

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestVerifyDetectsTampering(t *testing.T) {
	_, db := openLog(t, Options{Collection: "unused"})
	ctx := context.Background()
	tests := []struct {
		note    string
		tamper  func(t *testing.T, c *mongo.Collection)
		seq     int64
		kind    string
		checked int64
	}{
		{
			note: "altered field",
			tamper: func(t *testing.T, c *mongo.Collection) {
				update(t, c, 4, bson.D{{Key: "$set", Value: bson.D{{Key: "org", Value: "X99"}}}})
			},
			seq: 4, kind: ProblemAltered, checked: 4,
		},
		{
			note: "altered patient list hides an access",
			tamper: func(t *testing.T, c *mongo.Collection) {
				update(t, c, 2, bson.D{{Key: "$set", Value: bson.D{{Key: "pat", Value: bson.A{"Patient/other"}}}}})
			},
			seq: 2, kind: ProblemAltered, checked: 2,
		},
		{
			note: "field added",
			tamper: func(t *testing.T, c *mongo.Collection) {
				update(t, c, 5, bson.D{{Key: "$set", Value: bson.D{{Key: "note", Value: "x"}}}})
			},
			seq: 5, kind: ProblemAltered, checked: 5,
		},
		{
			note: "record deleted",
			tamper: func(t *testing.T, c *mongo.Collection) {
				if _, err := c.DeleteOne(ctx, bson.D{{Key: "seq", Value: 3}}); err != nil {
					t.Fatal(err)
				}
			},
			seq: 3, kind: ProblemMissing, checked: 3,
		},
		{
			note: "forged record appended",
			tamper: func(t *testing.T, c *mongo.Collection) {
				forged := &record{ID: "forged", Seq: 7, Prev: genesis, Kind: kindEvent, T: base, Patients: []string{"Patient/p1"}}
				forged.Hash, _ = forged.computeHash()
				if _, err := c.InsertOne(ctx, forged); err != nil {
					t.Fatal(err)
				}
			},
			seq: 7, kind: ProblemBrokenLink, checked: 7,
		},
		{
			note: "forged record between two others",
			tamper: func(t *testing.T, c *mongo.Collection) {
				if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "forged"}, {Key: "seq", Value: 3.5}, {Key: "kind", Value: kindEvent}}); err != nil {
					t.Fatal(err)
				}
			},
			seq: 4, kind: ProblemInserted, checked: 4,
		},
		{
			note: "forged record with a seq already passed",
			tamper: func(t *testing.T, c *mongo.Collection) {
				forged := &record{ID: "forged", Seq: 0, Prev: genesis, Kind: kindEvent, T: base}
				forged.Hash, _ = forged.computeHash()
				if _, err := c.InsertOne(ctx, forged); err != nil {
					t.Fatal(err)
				}
			},
			seq: 0, kind: ProblemInserted, checked: 1,
		},
		{
			note: "hash rewritten to match altered content breaks the next link",
			tamper: func(t *testing.T, c *mongo.Collection) {
				var r record
				if err := c.FindOne(ctx, bson.D{{Key: "seq", Value: 2}}).Decode(&r); err != nil {
					t.Fatal(err)
				}
				r.Org = "X99"
				sum, _ := r.computeHash()
				update(t, c, 2, bson.D{{Key: "$set", Value: bson.D{{Key: "org", Value: "X99"}, {Key: "hash", Value: sum}}}})
			},
			seq: 3, kind: ProblemBrokenLink, checked: 3,
		},
	}
	for i, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			name := "audit" + string(rune('a'+i))
			l := openOn(t, db, Options{Collection: name})
			for j := range 6 {
				mustRecord(t, l, readEntry(j, "Patient/p1"))
			}
			mustVerify(t, db, name)
			tc.tamper(t, db.Collection(name))
			p, n, err := Verify(ctx, db, name, nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p == nil {
				t.Fatalf("Verify found no problem after %d records", n)
			}
			if p.Seq != tc.seq || p.Kind != tc.kind || n != tc.checked {
				t.Fatalf("Verify = %s after %d records; want %s at seq %d after %d", p, n, tc.kind, tc.seq, tc.checked)
			}
		})
	}
}

func update(t *testing.T, c *mongo.Collection, seq int64, u bson.D) {
	t.Helper()
	res, err := c.UpdateOne(context.Background(), bson.D{{Key: "seq", Value: seq}}, u)
	if err != nil || res.ModifiedCount != 1 {
		t.Fatalf("tamper with seq %d: %v (modified %v)", seq, err, res)
	}
}

func TestRunVerifyReports(t *testing.T) {
	l, db := openLog(t, Options{})
	for i := range 3 {
		mustRecord(t, l, readEntry(i, "Patient/p1"))
	}
	var out bytes.Buffer
	ok, err := RunVerify(context.Background(), db, "audit", &out)
	if err != nil || !ok {
		t.Fatalf("RunVerify = %v, %v; output:\n%s", ok, err, out.String())
	}
	if !strings.Contains(out.String(), "OK: 3 records verified; head seq 3 hash ") {
		t.Fatalf("output lacks the result line:\n%s", out.String())
	}
	if _, err := db.Collection("audit").DeleteOne(context.Background(), bson.D{{Key: "seq", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	ok, err = RunVerify(context.Background(), db, "audit", &out)
	if err != nil || ok {
		t.Fatalf("RunVerify after a deletion = %v, %v; want not ok", ok, err)
	}
	if !strings.Contains(out.String(), "FAILED after 2 records: seq 2 (record -): missing") {
		t.Fatalf("output lacks the failure line:\n%s", out.String())
	}
}

func TestVerifyEmptyChain(t *testing.T) {
	_, db := openLog(t, Options{})
	if n := mustVerify(t, db, "audit"); n != 0 {
		t.Fatalf("checked %d records in an empty chain", n)
	}
}

// Records cut from the end of the chain leave a chain that verifies on its
// own; an anchor kept elsewhere reveals the cut, and a rewritten record.
func TestRunVerifyAgainstAnchors(t *testing.T) {
	ctx := context.Background()
	l, db := openLog(t, Options{})
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
	if ok, err := RunVerify(ctx, db, "audit", &out, head); err != nil || !ok {
		t.Fatalf("intact chain against its head: %v, %v\n%s", ok, err, out.String())
	}
	if !strings.Contains(out.String(), "anchor 5: present, hash matches") {
		t.Errorf("output lacks the anchor line:\n%s", out.String())
	}

	// Cut the last two records: the rest still verifies...
	if _, err := db.Collection("audit").DeleteMany(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: 3}}}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if ok, err := RunVerify(ctx, db, "audit", &out); err != nil || !ok {
		t.Fatalf("truncated chain without anchors: %v, %v (a chain alone cannot show this)", ok, err)
	}
	// ...but not against the anchor.
	out.Reset()
	if ok, err := RunVerify(ctx, db, "audit", &out, head); err != nil || ok {
		t.Fatalf("truncated chain against the anchor: %v, %v; want not ok", ok, err)
	}
	if !strings.Contains(out.String(), "seq 5 (record -): truncated: the chain ends at seq 3") {
		t.Errorf("output lacks the truncation:\n%s", out.String())
	}

	// An anchor whose hash the chain no longer has: rewritten.
	forged := Anchor{Seq: 2, Hash: strings.Repeat("ab", 32)}
	out.Reset()
	if ok, err := RunVerify(ctx, db, "audit", &out, forged); err != nil || ok {
		t.Fatalf("chain against a different hash: %v, %v; want not ok", ok, err)
	}
	if !strings.Contains(out.String(), "hash differs from an anchor kept elsewhere") {
		t.Errorf("output lacks the rewrite:\n%s", out.String())
	}
}

func TestParseAnchorRejectsMalformed(t *testing.T) {
	for _, s := range []string{"", "5", "x:" + strings.Repeat("a", 64), "0:" + strings.Repeat("a", 64), "5:" + strings.Repeat("A", 64), "5:abc"} {
		if _, err := ParseAnchor(s); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", s)
		}
	}
}

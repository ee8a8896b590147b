package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
)

// randomDoc is a document with the engine's layout (acl, pat, sp) and the
// same fields as a cond.Record, values drawn from small pools.
func randomDoc(r *rand.Rand, i int) (bson.D, map[string][]any) {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	some := func(opts ...string) []string {
		out := []string{}
		for _, o := range opts {
			if r.IntN(2) == 0 {
				out = append(out, o)
			}
		}
		return out
	}
	anys := func(l []string) []any {
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	id := fmt.Sprintf("r%03d", i)
	pat := pick("", "Patient/a", "Patient/b", "Patient/c")
	cats, labels, orgs := some("visit", "care-plan", "financial"), some("R", "V"), some("LA001", "CP001")
	names := some("siobhan", "o'brien", "a.b*")
	lu := time.Date(2026, 1, 1+r.IntN(5), 0, 0, 0, 0, time.UTC)
	fields := map[string][]any{
		cond.ID:               {id},
		cond.LastUpdated:      {lu},
		cond.Compartment:      {},
		cond.AccessPatient:    {pat},
		cond.AccessCategories: anys(cats),
		cond.AccessLabels:     anys(labels),
		cond.AccessOrgs:       anys(orgs),
	}
	sp := bson.D{}
	if len(names) > 0 {
		sp = append(sp, bson.E{Key: "name", Value: bson.D{{Key: "n", Value: names}}})
		fields["sp.name"] = []any{}
		fields["sp.name.n"] = anys(names)
	}
	if r.IntN(3) > 0 {
		v := float64(r.IntN(10)) / 2
		sp = append(sp, bson.E{Key: "q", Value: bson.D{{Key: "v", Value: v}}})
		fields["sp.q"] = []any{}
		fields["sp.q.v"] = []any{v}
	}
	compartment := []string{}
	if pat != "" {
		compartment = append(compartment, pat)
		fields[cond.Compartment] = []any{pat}
	}
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "lu", Value: bson.NewDateTimeFromTime(lu)},
		{Key: "pat", Value: compartment},
		{Key: "acl", Value: bson.D{{Key: "pat", Value: pat}, {Key: "cat", Value: cats}, {Key: "sec", Value: labels}, {Key: "org", Value: orgs}}},
		{Key: "sp", Value: sp},
	}, fields
}

// randomNode is a condition of every form the emitter writes.
func randomNode(r *rand.Rand, depth int) *cond.Node {
	pick := func(opts ...string) string { return opts[r.IntN(len(opts))] }
	if depth > 0 && r.IntN(3) == 0 {
		kids := make([]*cond.Node, 1+r.IntN(3))
		for i := range kids {
			kids[i] = randomNode(r, depth-1)
		}
		switch r.IntN(3) {
		case 0:
			return cond.AllOf(kids...)
		case 1:
			return cond.AnyOf(kids...)
		}
		return cond.NoneOf(kids...)
	}
	lu := time.Date(2026, 1, 1+r.IntN(5), 0, 0, 0, 0, time.UTC)
	switch r.IntN(12) {
	case 0:
		return cond.Is(cond.AccessPatient, pick("", "Patient/a", "Patient/b"))
	case 1:
		return cond.OneOf(cond.AccessPatient, []string{pick("Patient/a", "Patient/c"), pick("", "Patient/b")})
	case 2:
		return cond.Is(pick(cond.AccessCategories, cond.AccessLabels, cond.AccessOrgs), pick("visit", "R", "LA001", "x"))
	case 3:
		return cond.OneOf(pick(cond.AccessCategories, cond.AccessOrgs), []string{pick("visit", "CP001"), pick("financial", "LA001")})
	case 4:
		return cond.Present(pick(cond.AccessOrgs, "sp.name", "sp.q", "sp.name.n", "sp.none"))
	case 5:
		return cond.Compare(cond.LastUpdated, []cond.Op{cond.Lt, cond.Le, cond.Gt, cond.Ge}[r.IntN(4)], lu)
	case 6:
		return cond.Is(cond.LastUpdated, lu)
	case 7:
		return cond.Compare("sp.q.v", []cond.Op{cond.Lt, cond.Le, cond.Gt, cond.Ge}[r.IntN(4)], float64(r.IntN(10))/2)
	case 8:
		return cond.NoneOf(cond.Is(cond.AccessPatient, pick("", "Patient/a")))
	case 9:
		return cond.Compare("sp.name.n", []cond.Op{cond.Prefix, cond.Contains}[r.IntN(2)], pick("sio", "o'b", "bri", "a.b", ".", "*"))
	case 10:
		return cond.OneOf(cond.Compartment, []string{pick("Patient/a", "Patient/b")})
	}
	return cond.OneOf(cond.ID, []string{fmt.Sprintf("r%03d", r.IntN(40)), fmt.Sprintf("r%03d", r.IntN(40))})
}

// The MongoDB filter of a condition matches exactly the documents whose
// fields the condition holds for in Go (cond.Node.Eval), on the embedded
// server: the emitter means what package cond says.
func TestFilterAgreesWithEval(t *testing.T) {
	ctx := t.Context()
	coll := storetest.Database(t, "where").Collection("Observation")
	r := rand.New(rand.NewPCG(3, 4))
	var records []cond.Record
	var ids []string
	var docs []any
	for i := range 40 {
		d, fields := randomDoc(r, i)
		docs = append(docs, d)
		ids = append(ids, d[0].Value.(string))
		records = append(records, func(f string) ([]any, bool) {
			vs, ok := fields[f]
			return vs, ok
		})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	mixed := 0 // conditions that hold for some records and not others
	for range 300 {
		n := randomNode(r, 3)
		f, err := filter(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		cur, err := coll.Find(ctx, f)
		if err != nil {
			t.Fatalf("%s: find %v: %v", n, f, err)
		}
		var got []struct {
			ID string `bson:"_id"`
		}
		if err := cur.All(ctx, &got); err != nil {
			t.Fatal(err)
		}
		var found, want []string
		for _, g := range got {
			found = append(found, g.ID)
		}
		for i, rec := range records {
			if n.Eval(rec) {
				want = append(want, ids[i])
			}
		}
		slices.Sort(found)
		if !slices.Equal(found, want) {
			t.Errorf("%s\nas %v\nmatched %v\nholds   %v", n, f, found, want)
		}
		if len(want) > 0 && len(want) < len(records) {
			mixed++
		}
	}
	if mixed < 150 {
		t.Errorf("only %d of 300 conditions separate the records", mixed)
	}
}

// The emitter refuses what the engine does not store or cannot mean.
func TestFilterRefuses(t *testing.T) {
	for _, n := range []*cond.Node{
		cond.Is("acl.cat", "visit"),
		cond.Is("del", false),
		cond.Compare(cond.AccessCategories, cond.Prefix, "vis"),
		cond.Compare(cond.AccessLabels, cond.Gt, "a"),
		cond.Is(cond.AccessPatient, []string{"Patient/a"}),
		cond.Is(cond.AccessPatient, bson.D{{Key: "$ne", Value: nil}}),
		cond.Compare("sp.name.n", cond.Prefix, int64(1)),
		cond.NoneOf(cond.Is("nonsense", "x")),
		{Op: cond.Op(200), Field: cond.AccessPatient, Value: "x"},
	} {
		if f, err := filter(n); err == nil {
			t.Errorf("%s emitted as %v", n, f)
		}
	}
}

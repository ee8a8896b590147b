package cond

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestFromBSON(t *testing.T) {
	day := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		note   string
		filter bson.D
		want   string
	}{
		{"empty", bson.D{}, "true"},
		{"equality", bson.D{{Key: "sp.status.c", Value: "final"}}, "sp.status.c = final"},
		{"null means absent", bson.D{{Key: "sp.x", Value: nil}}, "not(exists sp.x)"},
		{"two fields", bson.D{{Key: "a", Value: "1"}, {Key: "b", Value: int32(2)}}, "and(a = 1, b = 2)"},
		{"range on one field stays two leaves", bson.D{{Key: "v", Value: bson.D{{Key: "$gte", Value: 1.5}, {Key: "$lt", Value: 2.5}}}}, "and(v >= 1.5, v < 2.5)"},
		{"dates are milliseconds", bson.D{{Key: "lu", Value: bson.D{{Key: "$gt", Value: bson.NewDateTimeFromTime(day)}}}}, "lu > 1767312000000"},
		{"membership", bson.D{{Key: "pat", Value: bson.D{{Key: "$in", Value: bson.A{"Patient/a", "Patient/b"}}}}}, "pat in [Patient/a Patient/b]"},
		{"membership of one", bson.D{{Key: "pat", Value: bson.D{{Key: "$in", Value: []string{"Patient/a"}}}}}, "pat = Patient/a"},
		{"membership of none", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}, "false"},
		{"ne", bson.D{{Key: "acl.pat", Value: bson.D{{Key: "$ne", Value: "x"}}}}, "not(acl.pat = x)"},
		{"nor", bson.D{{Key: "$nor", Value: bson.A{bson.D{{Key: "a", Value: "1"}}, bson.D{{Key: "b", Value: "2"}}}}}, "not(or(a = 1, b = 2))"},
		{"or folds true", bson.D{{Key: "$or", Value: bson.A{bson.D{}, bson.D{{Key: "b", Value: "2"}}}}}, "true"},
		{"exists false", bson.D{{Key: "sp.x", Value: bson.D{{Key: "$exists", Value: false}}}}, "not(exists sp.x)"},
		{"quoted prefix", bson.D{{Key: "sp.name.n", Value: bson.D{{Key: "$regex", Value: `^o\.bri`}}}}, "sp.name.n prefix o.bri"},
		{"quoted containment", bson.D{{Key: "sp.name.n", Value: bson.D{{Key: "$regex", Value: `ths`}}}}, "sp.name.n contains ths"},
		{"other pattern", bson.D{{Key: "sp.name.n", Value: bson.D{{Key: "$regex", Value: `^a.*b$`}}}}, "sp.name.n regex ^a.*b$"},
		{"case-insensitive", bson.D{{Key: "sp.name.n", Value: bson.D{{Key: "$regex", Value: `abc`}, {Key: "$options", Value: "i"}}}}, "sp.name.n regex (?i)abc"},
		{"all", bson.D{{Key: "acl.cat", Value: bson.D{{Key: "$all", Value: bson.A{"x", "y"}}}}}, "and(acl.cat = x, acl.cat = y)"},
		{"not", bson.D{{Key: "v", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$gt", Value: int64(3)}}}}}}, "not(v > 3)"},
	} {
		n, err := FromBSON(tc.filter)
		if err != nil {
			t.Errorf("%s: %v", tc.note, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.note, got, tc.want)
		}
	}
}

func TestFromBSONRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, f := range []bson.D{
		{{Key: "$where", Value: "1"}},
		{{Key: "a", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "b", Value: 1}}}}}},
		{{Key: "a", Value: bson.A{"x"}}},
		{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{bson.D{{Key: "$ne", Value: nil}}}}}}},
		{{Key: "a", Value: bson.D{{Key: "$regex", Value: "("}}}},
		{{Key: "a", Value: bson.D{{Key: "$regex", Value: "x"}, {Key: "$options", Value: "s"}}}},
		{{Key: "a", Value: bson.D{{Key: "$exists", Value: 1}}}},
		{{Key: "$and", Value: "x"}},
	} {
		if n, err := FromBSON(f); err == nil {
			t.Errorf("%v accepted as %s", f, n)
		}
	}
}

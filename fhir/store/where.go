package store

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// accessFields are the document fields of the access attributes (see the
// acl type). The collection is per resource type, so the type needs no
// field.
var accessFields = map[string]string{
	cond.AccessPatient:    "acl.pat",
	cond.AccessCategories: "acl.cat",
	cond.AccessLabels:     "acl.sec",
	cond.AccessOrgs:       "acl.org",
}

// listAttribute are the access attributes holding lists; as on every
// engine, only equality, membership and existence are tested on them.
var listAttribute = map[string]bool{cond.AccessCategories: true, cond.AccessLabels: true, cond.AccessOrgs: true}

// field is the document path of a condition's field: the access
// attributes under acl, the search index under the names the search
// package gives it.
func field(f string) (string, error) {
	if d, ok := accessFields[f]; ok {
		return d, nil
	}
	if f == cond.ID || f == cond.LastUpdated || f == cond.Compartment || strings.HasPrefix(f, "sp.") {
		return f, nil
	}
	return "", fmt.Errorf("store: no stored field %q", f)
}

// filter emits n as a MongoDB filter on the engine's documents; nil is
// true. It refuses a field the engine does not store or a value that is
// not a scalar, so a search never runs a condition it does not mean.
func filter(n *cond.Node) (bson.D, error) {
	if n == nil {
		return bson.D{}, nil
	}
	switch n.Op {
	case cond.True:
		return bson.D{}, nil
	case cond.False:
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}, nil
	case cond.And, cond.Or:
		kids, err := filters(n.Kids)
		if err != nil {
			return nil, err
		}
		op := "$and"
		if n.Op == cond.Or {
			op = "$or"
		}
		return bson.D{{Key: op, Value: kids}}, nil
	case cond.Not:
		return negation(n.Kids[0])
	}
	f, err := field(n.Field)
	if err != nil {
		return nil, err
	}
	if listAttribute[n.Field] && n.Op != cond.Eq && n.Op != cond.In && n.Op != cond.Exists {
		return nil, fmt.Errorf("store: only equality, membership and existence are supported on %s", n.Field)
	}
	var test any
	switch n.Op {
	case cond.Eq:
		test, err = scalar(n.Value)
	case cond.In:
		test, err = operator("$in", n.Values)
	case cond.Lt, cond.Le, cond.Gt, cond.Ge:
		op := map[cond.Op]string{cond.Lt: "$lt", cond.Le: "$lte", cond.Gt: "$gt", cond.Ge: "$gte"}[n.Op]
		var v any
		if v, err = scalar(n.Value); err == nil {
			test = bson.D{{Key: op, Value: v}}
		}
	case cond.Exists:
		test = bson.D{{Key: "$exists", Value: true}}
	case cond.Prefix, cond.Contains:
		s, ok := n.Value.(string)
		if !ok {
			return nil, fmt.Errorf("store: a prefix or containment test on %s takes a string", n.Field)
		}
		pattern := regexp.QuoteMeta(s)
		if n.Op == cond.Prefix {
			pattern = "^" + pattern
		}
		test = bson.D{{Key: "$regex", Value: pattern}}
	default:
		return nil, fmt.Errorf("store: condition %d on %s is not supported", n.Op, n.Field)
	}
	if err != nil {
		return nil, err
	}
	return bson.D{{Key: f, Value: test}}, nil
}

// negation emits not(k), as a field operator where MongoDB has one.
func negation(k *cond.Node) (bson.D, error) {
	op := ""
	switch k.Op {
	case cond.Or:
		kids, err := filters(k.Kids)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$nor", Value: kids}}, nil
	case cond.Eq:
		op = "$ne"
	case cond.In:
		op = "$nin"
	case cond.Exists:
		f, err := field(k.Field)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: f, Value: bson.D{{Key: "$exists", Value: false}}}}, nil
	}
	if op == "" {
		d, err := filter(k)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "$nor", Value: bson.A{d}}}, nil
	}
	f, err := field(k.Field)
	if err != nil {
		return nil, err
	}
	var test bson.D
	if op == "$ne" {
		v, err := scalar(k.Value)
		if err != nil {
			return nil, err
		}
		test = bson.D{{Key: op, Value: v}}
	} else if test, err = operator(op, k.Values); err != nil {
		return nil, err
	}
	return bson.D{{Key: f, Value: test}}, nil
}

func filters(ns []*cond.Node) (bson.A, error) {
	out := make(bson.A, len(ns))
	for i, k := range ns {
		d, err := filter(k)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// operator is {op: [values]}.
func operator(op string, values []any) (bson.D, error) {
	list := make(bson.A, len(values))
	for i, v := range values {
		s, err := scalar(v)
		if err != nil {
			return nil, err
		}
		list[i] = s
	}
	return bson.D{{Key: op, Value: list}}, nil
}

// scalar is a condition's value as the documents store it: times as BSON
// dates.
func scalar(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, int64, float64:
		return x, nil
	case time.Time:
		return bson.NewDateTimeFromTime(x), nil
	}
	return nil, fmt.Errorf("store: a %T is not a condition value", v)
}

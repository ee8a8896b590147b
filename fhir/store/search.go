package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// Page is one page of search results.
type Page struct {
	Matches  []*Version
	Included []*Version
	// Total is set when the query asked for an accurate total.
	Total *int64
	// Next and Prev are cursors for the neighbouring pages, empty at the ends.
	Next, Prev string
}

// Restrict returns an extra condition on the resources of resourceType
// that a search may return, for example the access policy's filter, over
// the fields package cond names. A nil condition restricts nothing; an
// error fails the search, and so does a condition the engine cannot run.
type Restrict func(ctx context.Context, resourceType string) (*cond.Node, error)

// Search runs q, restricted further by restrict (nil for no restriction). Paging is by keyset: the cursor holds the
// sort values of the page's boundary, so pages stay correct while other
// clients write. The page costs one query, the total one count (only when
// asked), and each _include / _revinclude one query per resource type.
func (s *Store) Search(ctx context.Context, q *search.Query, restrict Restrict) (*Page, error) {
	sort := SortFields(q)
	cur, err := decodeCursor(q.Cursor, len(sort))
	if err != nil {
		return nil, err
	}
	base := bson.A{bson.D{{Key: "del", Value: false}}}
	f, err := filter(q.Filter)
	if err != nil {
		return nil, fmt.Errorf("store: search filter: %w", err)
	}
	if len(f) > 0 {
		base = append(base, f)
	}
	r, err := s.restrictFor(ctx, restrict, q.Type)
	if err != nil {
		return nil, err
	}
	if r != nil {
		base = append(base, r)
	}
	page := &Page{}
	coll := s.heads(q.Type)
	if q.Total == "accurate" || q.Summary == "count" {
		n, err := coll.CountDocuments(ctx, bson.D{{Key: "$and", Value: base}})
		if err != nil {
			return nil, wrap(err)
		}
		page.Total = &n
	}
	if q.Summary == "count" || q.Count == 0 {
		return page, nil
	}
	backward := cur != nil && cur.Backward
	find := base
	if cur != nil {
		find = append(slices.Clone(base), keyset(sort, cur.Values, backward))
	}
	order := bson.D{}
	for _, f := range sort {
		dir := 1
		if f.Desc != backward {
			dir = -1
		}
		order = append(order, bson.E{Key: f.Field, Value: dir})
	}
	c, err := coll.Find(ctx, bson.D{{Key: "$and", Value: find}}, options.Find().SetSort(order).SetLimit(int64(q.Count+1)))
	if err != nil {
		return nil, wrap(err)
	}
	var raws []bson.Raw
	if err := c.All(ctx, &raws); err != nil {
		return nil, wrap(err)
	}
	more := len(raws) > q.Count
	if more {
		raws = raws[:q.Count]
	}
	if backward {
		slices.Reverse(raws)
	}
	for _, r := range raws {
		var h head
		if err := bson.Unmarshal(r, &h); err != nil {
			return nil, fmt.Errorf("decode %s document: %w", q.Type, err)
		}
		page.Matches = append(page.Matches, h.version(q.Type))
	}
	if len(raws) > 0 {
		// Forward: a next page exists if we saw one more; a previous one if
		// we came from a cursor. Backward: the mirror image.
		hasNext, hasPrev := more, cur != nil
		if backward {
			hasNext, hasPrev = true, more
		}
		if hasNext {
			page.Next = encodeCursor(sort, raws[len(raws)-1], false)
		}
		if hasPrev {
			page.Prev = encodeCursor(sort, raws[0], true)
		}
	}
	if err := s.includes(ctx, q, raws, restrict, page); err != nil {
		return nil, err
	}
	return page, nil
}

// SortFields is the query's order with _id appended as the tie-breaker,
// the order every engine pages in.
func SortFields(q *search.Query) []search.SortField {
	sort := slices.Clone(q.Sort)
	if !slices.ContainsFunc(sort, func(f search.SortField) bool { return f.Field == "_id" }) {
		sort = append(sort, search.SortField{Param: "_id", Field: "_id"})
	}
	return sort
}

// keyset matches documents strictly after (or, backward, before) the
// boundary values in the sort order.
func keyset(sort []search.SortField, values []bson.RawValue, backward bool) bson.D {
	var or bson.A
	for i, f := range sort {
		cond := bson.D{}
		for j := range i {
			cond = append(cond, bson.E{Key: sort[j].Field, Value: values[j]})
		}
		op := "$gt"
		if f.Desc != backward {
			op = "$lt"
		}
		cond = append(cond, bson.E{Key: f.Field, Value: bson.D{{Key: op, Value: values[i]}}})
		or = append(or, cond)
	}
	return bson.D{{Key: "$or", Value: or}}
}

type cursor struct {
	Backward bool
	Values   []bson.RawValue
}

type cursorDoc struct {
	B bool            `bson:"b"`
	V []bson.RawValue `bson:"v"`
}

func encodeCursor(sort []search.SortField, doc bson.Raw, backward bool) string {
	cd := cursorDoc{B: backward}
	for _, f := range sort {
		cd.V = append(cd.V, doc.Lookup(strings.Split(f.Field, ".")...))
	}
	b, err := bson.Marshal(cd)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, n int) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := fhir.Errorf(400, "invalid", "the _cursor value is not one this server issued for this search; start the search again from its first page").At("_cursor")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var cd cursorDoc
	if err := bson.Unmarshal(b, &cd); err != nil || len(cd.V) != n {
		return nil, bad
	}
	for _, v := range cd.V {
		switch v.Type {
		case bson.TypeString, bson.TypeDateTime, bson.TypeDouble, bson.TypeInt32, bson.TypeInt64, bson.TypeNull, bson.TypeBoolean:
		default: // only scalar values: a cursor can never carry a query document
			return nil, bad
		}
	}
	return &cursor{Backward: cd.B, Values: cd.V}, nil
}

// includes adds the _include and _revinclude resources of a page: one
// query per included resource type, never one per resource.
func (s *Store) includes(ctx context.Context, q *search.Query, raws []bson.Raw, restrict Restrict, page *Page) error {
	if len(raws) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, v := range page.Matches {
		seen[v.Type+"/"+v.ID] = true
	}
	add := func(coll *mongo.Collection, typ string, find bson.D) error {
		r, err := s.restrictFor(ctx, restrict, typ)
		if err != nil {
			return err
		}
		if r != nil {
			find = bson.D{{Key: "$and", Value: bson.A{find, r}}}
		}
		c, err := coll.Find(ctx, find)
		if err != nil {
			return wrap(err)
		}
		var hs []head
		if err := c.All(ctx, &hs); err != nil {
			return wrap(err)
		}
		for i := range hs {
			if k := typ + "/" + hs[i].ID; !seen[k] {
				seen[k] = true
				page.Included = append(page.Included, hs[i].version(typ))
			}
		}
		return nil
	}
	for _, inc := range q.Include {
		byType := map[string][]string{}
		for _, r := range raws {
			for _, ref := range stringValues(r.Lookup(strings.Split(inc.Field, ".")...)) {
				typ, id, ok := strings.Cut(ref, "/")
				if !ok || (inc.Target != "" && typ != inc.Target) || !fhir.Supported(typ) {
					continue
				}
				byType[typ] = append(byType[typ], id)
			}
		}
		for _, typ := range slices.Sorted(maps.Keys(byType)) {
			f := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: byType[typ]}}}, {Key: "del", Value: false}}
			if err := add(s.heads(typ), typ, f); err != nil {
				return err
			}
		}
	}
	if len(q.RevInclude) > 0 {
		refs := make([]string, 0, len(page.Matches))
		for _, v := range page.Matches {
			refs = append(refs, v.Type+"/"+v.ID)
		}
		for _, inc := range q.RevInclude {
			f := bson.D{{Key: inc.Field, Value: bson.D{{Key: "$in", Value: refs}}}, {Key: "del", Value: false}}
			if err := add(s.heads(inc.Source), inc.Source, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// restrictFor is the restriction of resourceType as a filter, nil for
// none. A fact set in it is looked up first (one query of the facts each)
// and tested as the list of its patients.
func (s *Store) restrictFor(ctx context.Context, restrict Restrict, resourceType string) (bson.D, error) {
	if restrict == nil {
		return nil, nil
	}
	n, err := restrict(ctx, resourceType)
	if err != nil || n == nil {
		return nil, err
	}
	if n, err = n.ResolveFacts(func(set *cond.FactSet) ([]string, error) {
		fs, err := s.Facts(ctx, facts.SetQuery(set))
		return facts.Members(set, fs), err
	}); err != nil {
		return nil, err
	}
	d, err := filter(n)
	if err != nil {
		return nil, fmt.Errorf("store: restriction: %w", err)
	}
	return d, nil
}

func stringValues(v bson.RawValue) []string {
	switch v.Type {
	case bson.TypeString:
		return []string{v.StringValue()}
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil
		}
		var out []string
		for _, e := range vals {
			if s, ok := e.StringValueOK(); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Patients returns the distinct patient compartments ("Patient/<id>") of
// the current resources that q matches: one query, projected to the
// compartment. With among, only resources in those patients' compartments
// are read and only those patients returned. The gateway uses it to work
// out care relationships.
func (s *Store) Patients(ctx context.Context, q *search.Query, among ...string) ([]string, error) {
	find := bson.A{bson.D{{Key: "del", Value: false}}}
	f, err := filter(q.Filter)
	if err != nil {
		return nil, fmt.Errorf("store: search filter: %w", err)
	}
	if len(f) > 0 {
		find = append(find, f)
	}
	if len(among) > 0 {
		find = append(find, bson.D{{Key: "pat", Value: bson.D{{Key: "$in", Value: among}}}})
	}
	c, err := s.heads(q.Type).Find(ctx, bson.D{{Key: "$and", Value: find}}, options.Find().SetProjection(bson.D{{Key: "pat", Value: 1}}))
	if err != nil {
		return nil, wrap(err)
	}
	var docs []struct {
		Patients []string `bson:"pat"`
	}
	if err := c.All(ctx, &docs); err != nil {
		return nil, wrap(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range docs {
		for _, p := range d.Patients {
			if len(among) > 0 && !slices.Contains(among, p) {
				continue
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

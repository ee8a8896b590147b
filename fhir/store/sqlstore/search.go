package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// driveCap is how many matches a candidate driving condition may have for
// the query to start from its index range rather than walk the sort order.
const driveCap = 2000

// Search runs q, restricted further by restrict (nil for no restriction),
// with the MongoDB engine's semantics: keyset paging by the sort values of
// the page's boundary, totals only when asked, one query per included
// resource type.
func (s *Store) Search(ctx context.Context, q *search.Query, restrict store.Restrict) (*store.Page, error) {
	if !fhir.Supported(q.Type) {
		return nil, fmt.Errorf("sqlstore: unsupported type %s", q.Type)
	}
	sort := store.SortFields(q)
	cols := make([]string, len(sort))
	for i, f := range sort {
		c, ok := (&sqlWriter{s: s, t: q.Type}).column(f.Field)
		if !ok {
			return nil, fmt.Errorf("sqlstore: cannot sort %s by %s", q.Type, f.Field)
		}
		cols[i] = c
	}
	cur, err := decodeCursor(q.Cursor, len(sort))
	if err != nil {
		return nil, err
	}
	base, err := s.conditions(ctx, q.Type, q.Filter, restrict)
	if err != nil {
		return nil, err
	}
	page := &store.Page{}
	if q.Total == "accurate" || q.Summary == "count" {
		n, err := s.count(ctx, q.Type, base)
		if err != nil {
			return nil, err
		}
		page.Total = &n
	}
	if q.Summary == "count" || q.Count == 0 {
		return page, nil
	}
	backward := cur != nil && cur.Backward
	where := base
	var keysetSQL string
	var keysetArgs []any
	if cur != nil {
		keysetSQL, keysetArgs = keyset(cols, sort, cur.Values, backward)
	}
	var order []string
	for i, f := range sort {
		dir := "ASC"
		if f.Desc != backward {
			dir = "DESC"
		}
		order = append(order, cols[i]+" "+dir)
	}
	from, whereSQL, args, err := s.plan(ctx, q.Type, where, q.Count+1)
	if err != nil {
		return nil, err
	}
	if keysetSQL != "" {
		whereSQL += " AND " + keysetSQL
		args = append(args, keysetArgs...)
	}
	query := `SELECT h.rid, h.id, h.vid, h.lu, h.json, h.a_pat, h.a_cat, h.a_sec, h.a_org` + prefixed(", ", cols) + ` FROM ` + from + ` WHERE ` + whereSQL +
		` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ?`
	args = append(args, q.Count+1)
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, s.db.Check(err)
	}
	var found []match
	for rows.Next() {
		m := match{v: &store.Version{Type: q.Type}, keys: make([]any, len(cols))}
		var lu int64
		var a [4]string
		dest := []any{&m.rid, &m.v.ID, &m.v.VersionID, &lu, &m.v.JSON, &a[0], &a[1], &a[2], &a[3]}
		for i := range cols {
			dest = append(dest, &m.keys[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, s.db.Check(err)
		}
		m.v.LastUpdated = time.UnixMilli(lu).UTC()
		m.v.Attrs = attrs(a[0], a[1], a[2], a[3])
		found = append(found, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.db.Check(err)
	}
	more := len(found) > q.Count
	if more {
		found = found[:q.Count]
	}
	if backward {
		slices.Reverse(found)
	}
	for _, m := range found {
		page.Matches = append(page.Matches, m.v)
	}
	if len(found) > 0 {
		hasNext, hasPrev := more, cur != nil
		if backward {
			hasNext, hasPrev = true, more
		}
		if hasNext {
			page.Next = encodeCursor(found[len(found)-1].keys, false)
		}
		if hasPrev {
			page.Prev = encodeCursor(found[0].keys, true)
		}
	}
	if err := s.includes(ctx, q, found, restrict, page); err != nil {
		return nil, err
	}
	return page, nil
}

type match struct {
	rid  int64
	v    *store.Version
	keys []any
}

// conditions is the search's whole condition: live resources, the query's
// filter and the restriction.
// A nil filter or restriction is true.
func (s *Store) conditions(ctx context.Context, t string, filter *cond.Node, restrict store.Restrict) (*cond.Node, error) {
	parts := []*cond.Node{live}
	if filter != nil {
		parts = append(parts, filter)
	}
	if restrict != nil {
		r, err := restrict(ctx, t)
		if err != nil {
			return nil, err
		}
		if r != nil {
			parts = append(parts, r)
		}
	}
	return cond.AllOf(parts...), nil
}

// live is the condition of a head that is not a deletion, on the engine's
// own column.
var live = cond.Is(deleted, int64(0))

// plan chooses where a query over t's heads starts: from the index range
// of its most selective top-level equality or membership (when one has at
// most driveCap matches, or limit is 0: a count), or from the heads
// themselves. It returns the FROM clause, the WHERE clause and its
// arguments, FROM's first.
func (s *Store) plan(ctx context.Context, t string, n *cond.Node, limit int) (string, string, []any, error) {
	n, err := s.impliedByCode(ctx, t, n)
	if err != nil {
		return "", "", nil, err
	}
	conj := []*cond.Node{n}
	if n.Op == cond.And {
		conj = n.Kids
	}
	best, bestN := -1, int64(-1)
	var bestLeaves []*cond.Node
	for i, c := range conj {
		if (c.Op == cond.Eq || c.Op == cond.In) && c.Field == cond.ID {
			best, bestN, bestLeaves = i, 0, nil // read by id
			break
		}
		leaves := s.drivable(t, c)
		if leaves == nil {
			continue
		}
		var k int64
		for _, l := range leaves {
			if err := checkValues(l); err != nil {
				return "", "", nil, err
			}
			n, err := s.estimate(ctx, t, l)
			if err != nil {
				return "", "", nil, err
			}
			k += n
		}
		if bestN < 0 || k < bestN {
			best, bestN, bestLeaves = i, k, leaves
		}
	}
	w := &sqlWriter{s: s, t: t}
	from := heads(t) + " h"
	if best >= 0 && (bestN < driveCap || limit == 0) && bestLeaves != nil {
		dw := &sqlWriter{s: s, t: t}
		for i, d := range bestLeaves {
			if i > 0 {
				dw.b.WriteString(" OR ")
			}
			dw.b.WriteString("(")
			dw.indexRange("x.", d)
			dw.b.WriteString(")")
		}
		from = fmt.Sprintf("(SELECT DISTINCT x.r FROM %s x WHERE %s) d CROSS JOIN %s h ON h.rid = d.r", index(t), dw.b.String(), heads(t))
		w.args = append(w.args, dw.args...)
		conj = slices.Delete(slices.Clone(conj), best, best+1)
	}
	if err := w.node(cond.AllOf(conj...)); err != nil {
		return "", "", nil, err
	}
	return from, w.b.String(), w.args, nil
}

// drivable lists the index ranges whose rows are c's candidates: c itself
// when it is an equality or membership on a field of the index rows, the
// disjuncts of an Or of such (a code with any system, see impliedByCode);
// nil when c cannot start a query.
func (s *Store) drivable(t string, c *cond.Node) []*cond.Node {
	leaf := func(n *cond.Node) bool {
		// Not the sort columns (the patient is also a column).
		return (n.Op == cond.Eq || n.Op == cond.In) && inIndex(n.Field) && s.sorts[t][n.Field] == ""
	}
	if leaf(c) {
		return []*cond.Node{c}
	}
	if c.Op != cond.Or || len(c.Kids) == 0 {
		return nil
	}
	for _, k := range c.Kids {
		if !leaf(k) {
			return nil
		}
	}
	return c.Kids
}

// indexRange writes the index rows (columns prefixed by alias) an equality
// or membership c matches.
func (w *sqlWriter) indexRange(alias string, c *cond.Node) {
	w.fieldIn(alias+"f", indexField(c.Field))
	w.b.WriteString(" AND ")
	if c.Op == cond.Eq {
		w.b.WriteString(alias + "v = ?")
		w.args = append(w.args, sqlValue(c.Value))
	} else {
		w.in(alias+"v", c.Values)
	}
}

// estimate counts c's index matches, up to driveCap.
func (s *Store) estimate(ctx context.Context, t string, c *cond.Node) (int64, error) {
	w := &sqlWriter{s: s, t: t}
	w.indexRange("", c)
	var n int64
	err := s.row(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s LIMIT %d)", index(t), w.b.String(), driveCap),
		w.args...).Scan(&n)
	return n, s.db.Check(err)
}

func (s *Store) count(ctx context.Context, t string, n *cond.Node) (int64, error) {
	from, where, args, err := s.plan(ctx, t, n, 0)
	if err != nil {
		return 0, err
	}
	var c int64
	err = s.row(ctx, `SELECT count(*) FROM `+from+` WHERE `+where, args...).Scan(&c)
	return c, s.db.Check(err)
}

// keyset matches rows strictly after (or, backward, before) the boundary
// values in the sort order.
func keyset(cols []string, sort []search.SortField, values []any, backward bool) (string, []any) {
	var ors []string
	var args []any
	for i, f := range sort {
		var parts []string
		for j := range i {
			parts = append(parts, cols[j]+" = ?")
			args = append(args, values[j])
		}
		op := ">"
		if f.Desc != backward {
			op = "<"
		}
		parts = append(parts, cols[i]+" "+op+" ?")
		args = append(args, values[i])
		ors = append(ors, "("+strings.Join(parts, " AND ")+")")
	}
	// The first key's bound, implied by the alternatives, lets the sort
	// index start at the boundary.
	op := ">="
	if sort[0].Desc != backward {
		op = "<="
	}
	args = append([]any{values[0]}, args...)
	return "(" + cols[0] + " " + op + " ? AND (" + strings.Join(ors, " OR ") + "))", args
}

type cursorDoc struct {
	B bool  `json:"b"`
	V []any `json:"v"`
}

func encodeCursor(keys []any, backward bool) string {
	b, err := json.Marshal(cursorDoc{B: backward, V: keys})
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

type cursor struct {
	Backward bool
	Values   []any
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
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var cd cursorDoc
	if err := dec.Decode(&cd); err != nil || len(cd.V) != n {
		return nil, bad
	}
	for i, v := range cd.V {
		switch x := v.(type) {
		case string:
		case json.Number: // only scalar values: a cursor can never carry a query
			k, err := x.Int64()
			if err != nil {
				return nil, bad
			}
			cd.V[i] = k
		default:
			return nil, bad
		}
	}
	return &cursor{Backward: cd.B, Values: cd.V}, nil
}

// includes adds the _include and _revinclude resources of a page: one
// query per included resource type, never one per resource.
func (s *Store) includes(ctx context.Context, q *search.Query, found []match, restrict store.Restrict, page *store.Page) error {
	if len(found) == 0 {
		return nil
	}
	seen := map[string]bool{}
	rids := make([]any, len(found))
	for i, m := range found {
		seen[m.v.Type+"/"+m.v.ID] = true
		rids[i] = m.rid
	}
	add := func(typ string, n *cond.Node) error {
		c, err := s.conditions(ctx, typ, nil, restrict)
		if err != nil {
			return err
		}
		vs, err := s.find(ctx, typ, cond.AllOf(c, n))
		if err != nil {
			return err
		}
		for _, v := range vs {
			if k := typ + "/" + v.ID; !seen[k] {
				seen[k] = true
				page.Included = append(page.Included, v)
			}
		}
		return nil
	}
	for _, inc := range q.Include {
		w := &sqlWriter{s: s, t: q.Type}
		w.fieldIn("f", inc.Field)
		w.b.WriteString(" AND ")
		w.in("r", rids)
		rows, err := s.query(ctx, `SELECT v FROM `+index(q.Type)+` WHERE `+w.b.String()+` ORDER BY r`, w.args...)
		if err != nil {
			return s.db.Check(err)
		}
		byType := map[string][]any{}
		for rows.Next() {
			var ref any
			if err := rows.Scan(&ref); err != nil {
				rows.Close()
				return s.db.Check(err)
			}
			r, _ := ref.(string)
			typ, id, ok := strings.Cut(r, "/")
			if !ok || (inc.Target != "" && typ != inc.Target) || !fhir.Supported(typ) {
				continue
			}
			byType[typ] = append(byType[typ], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.db.Check(err)
		}
		for _, typ := range slices.Sorted(maps.Keys(byType)) {
			if err := add(typ, cond.OneOf(cond.ID, byType[typ])); err != nil {
				return err
			}
		}
	}
	if len(q.RevInclude) > 0 {
		refs := make([]any, 0, len(found))
		for _, m := range found {
			refs = append(refs, m.v.Type+"/"+m.v.ID)
		}
		for _, inc := range q.RevInclude {
			if err := add(inc.Source, cond.OneOf(inc.Field, refs)); err != nil {
				return err
			}
		}
	}
	return nil
}

// find returns the current versions of t matching n, in id order.
func (s *Store) find(ctx context.Context, t string, n *cond.Node) ([]*store.Version, error) {
	from, where, args, err := s.plan(ctx, t, n, 0)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT h.id, h.vid, h.lu, h.json, h.a_pat, h.a_cat, h.a_sec, h.a_org FROM `+from+` WHERE `+where+` ORDER BY h.id`, args...)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []*store.Version
	for rows.Next() {
		v := &store.Version{Type: t}
		var lu int64
		var a [4]string
		if err := rows.Scan(&v.ID, &v.VersionID, &lu, &v.JSON, &a[0], &a[1], &a[2], &a[3]); err != nil {
			return nil, s.db.Check(err)
		}
		v.LastUpdated = time.UnixMilli(lu).UTC()
		v.Attrs = attrs(a[0], a[1], a[2], a[3])
		out = append(out, v)
	}
	return out, s.db.Check(rows.Err())
}

// Patients returns the distinct patient compartments ("Patient/<id>") of
// the current resources that q matches, sorted. With among, only those
// patients are considered.
func (s *Store) Patients(ctx context.Context, q *search.Query, among ...string) ([]string, error) {
	n, err := s.conditions(ctx, q.Type, q.Filter, nil)
	if err != nil {
		return nil, err
	}
	if len(among) > 0 {
		n = cond.AllOf(n, cond.OneOf(cond.Compartment, among))
	}
	from, where, args, err := s.plan(ctx, q.Type, n, 0)
	if err != nil {
		return nil, err
	}
	query := `SELECT DISTINCT p.v FROM ` + from + ` JOIN ` + index(q.Type) + ` p ON p.r = h.rid AND p.f IN (` + s.shared[q.Type].literals(cond.Compartment) + `) WHERE ` + where
	if len(among) > 0 {
		w := &sqlWriter{s: s, t: q.Type}
		vs := make([]any, len(among))
		for i, p := range among {
			vs[i] = p
		}
		w.in("p.v", vs)
		query += " AND " + w.b.String()
		args = append(args, w.args...)
	}
	rows, err := s.query(ctx, query+" ORDER BY p.v", args...)
	if err != nil {
		return nil, s.db.Check(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, s.db.Check(err)
		}
		out = append(out, p)
	}
	return out, s.db.Check(rows.Err())
}

func jsonArray(values []any) string {
	b, _ := json.Marshal(values)
	return string(b)
}

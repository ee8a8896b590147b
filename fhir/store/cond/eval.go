package cond

import (
	"strings"
	"time"
)

// Record gives the values a record holds in a field; ok is false when the
// record has no such field. A list field that is present but empty gives
// no values and ok true.
type Record func(field string) (values []any, ok bool)

// Eval decides n over one record with the semantics every engine keeps
// (see the package doc): the in-memory emitter, for tests that check an
// engine's query against it and for deciding records one by one. A fact
// set needs the facts: resolve it first (ResolveFacts); unresolved, it
// never holds.
func (n *Node) Eval(rec Record) bool {
	switch n.Op {
	case True:
		return true
	case False:
		return false
	case And:
		for _, k := range n.Kids {
			if !k.Eval(rec) {
				return false
			}
		}
		return true
	case Or:
		for _, k := range n.Kids {
			if k.Eval(rec) {
				return true
			}
		}
		return false
	case Not:
		return !n.Kids[0].Eval(rec)
	}
	vs, ok := rec(n.Field)
	if n.Op == Exists {
		return ok
	}
	for _, v := range vs {
		if n.holds(v) {
			return true
		}
	}
	return false
}

// holds decides a leaf on one value.
func (n *Node) holds(v any) bool {
	switch n.Op {
	case Eq:
		c, ok := compare(v, n.Value)
		return ok && c == 0
	case In:
		for _, w := range n.Values {
			if c, ok := compare(v, w); ok && c == 0 {
				return true
			}
		}
		return false
	case Lt, Le, Gt, Ge:
		c, ok := compare(v, n.Value)
		if !ok {
			return false
		}
		switch n.Op {
		case Lt:
			return c < 0
		case Le:
			return c <= 0
		case Gt:
			return c > 0
		}
		return c >= 0
	case Prefix, Contains:
		s, ok := v.(string)
		p, pok := n.Value.(string)
		if !ok || !pok {
			return false
		}
		if n.Op == Prefix {
			return strings.HasPrefix(s, p)
		}
		return strings.Contains(s, p)
	}
	return false
}

// compare orders two values of one kind; ok is false between kinds.
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case time.Time:
		y, ok := b.(time.Time)
		return x.Compare(y), ok
	}
	x, ok := number(a)
	if !ok {
		return 0, false
	}
	y, ok := number(b)
	if !ok {
		return 0, false
	}
	switch {
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

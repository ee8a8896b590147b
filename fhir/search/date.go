package search

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// Bounds for open-ended ranges: a Period without start begins at minTime, one
// without end ends at maxTime. Both are representable as BSON DateTime.
var (
	minTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, time.December, 31, 23, 59, 59, 999e6, time.UTC)
)

// datePattern accepts the FHIR date, dateTime and instant forms, and the
// search form with minutes precision (2013-01-14T10:00).
var datePattern = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// dateRange parses a date, dateTime or instant into the half-open range
// [lo, hi) its precision covers, in UTC. A time without a timezone is taken
// as UTC, and so is a date without time.
func dateRange(s string) (lo, hi time.Time, ok bool) {
	m := datePattern.FindStringSubmatch(s)
	if m == nil {
		return lo, hi, false
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	year, month, day := num(1, 0), num(2, 1), num(3, 1)
	hour, minute, sec := num(4, 0), num(5, 0), num(6, 0)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return lo, hi, false
	}
	loc := time.UTC
	if tz := m[8]; tz != "" && tz != "Z" {
		h, _ := strconv.Atoi(tz[1:3])
		mm, _ := strconv.Atoi(tz[4:6])
		if h > 14 || mm > 59 {
			return lo, hi, false
		}
		off := h*3600 + mm*60
		if tz[0] == '-' {
			off = -off
		}
		loc = time.FixedZone(tz, off)
	}
	var nanos int
	if f := m[7]; f != "" {
		f = (f + "000")[:3] // milliseconds: BSON DateTime precision
		ms, _ := strconv.Atoi(f)
		nanos = ms * int(time.Millisecond)
	}
	lo = time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc)
	if lo.Day() != day || lo.Month() != time.Month(month) {
		return time.Time{}, time.Time{}, false // e.g. 2023-02-30
	}
	switch {
	case m[2] == "":
		hi = lo.AddDate(1, 0, 0)
	case m[3] == "":
		hi = lo.AddDate(0, 1, 0)
	case m[4] == "":
		hi = lo.AddDate(0, 0, 1)
	case m[6] == "":
		hi = lo.Add(time.Minute)
	case m[7] == "":
		hi = lo.Add(time.Second)
	default:
		hi = lo.Add(time.Millisecond)
	}
	return lo.UTC(), hi.UTC(), true
}

// indexDate extracts the overall range of date, dateTime, instant, Period
// and Timing (events only) values. Several values give the smallest lo and
// the largest hi.
func indexDate(nodes []any) (lo, hi time.Time, ok bool) {
	merge := func(l, h time.Time) {
		if !ok || l.Before(lo) {
			lo = l
		}
		if !ok || h.After(hi) {
			hi = h
		}
		ok = true
	}
	for _, n := range nodes {
		switch v := n.(type) {
		case string:
			if l, h, good := dateRange(v); good {
				merge(l, h)
			}
		case map[string]any:
			if events, has := v["event"]; has {
				for _, e := range appendFlat(nil, events) {
					if s, isStr := e.(string); isStr {
						if l, h, good := dateRange(s); good {
							merge(l, h)
						}
					}
				}
				continue
			}
			start, _ := v["start"].(string)
			end, _ := v["end"].(string)
			l, _, okStart := dateRange(start)
			_, h, okEnd := dateRange(end)
			if !okStart && !okEnd {
				continue
			}
			if !okStart {
				l = minTime
			}
			if !okEnd {
				h = maxTime
			}
			merge(l, h)
		}
	}
	return lo, hi, ok
}

// prefixes are the R4 search comparison prefixes this package implements;
// "ap" is recognised and rejected.
var prefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// splitPrefix separates a comparison prefix from a date or number value.
func splitPrefix(raw string) (prefix, rest string, p *problem) {
	if len(raw) >= 2 && isLetter(raw[0]) && isLetter(raw[1]) {
		pre := raw[:2]
		for _, known := range prefixes {
			if pre == known {
				if pre == "ap" {
					return "", "", notSupported("the prefix 'ap' (approximately) is not supported; use ge and le")
				}
				return pre, raw[2:], nil
			}
		}
		return "", "", invalid("unknown comparison prefix %q: use one of eq, ne, gt, lt, ge, le, sa, eb", truncate(pre))
	}
	return "eq", raw, nil
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// dateCondition matches one date search value. loField and hiField hold
// the stored half-open range; when point is true the value is an instant
// stored in loField alone (hi = lo + 1ms), as for _lastUpdated.
func dateCondition(loField, hiField string, point bool, raw string) (*cond.Node, *problem) {
	prefix, value, p := splitPrefix(raw)
	if p != nil {
		return nil, p
	}
	// A '+' before a timezone arrives as a space when the client did not
	// percent-encode it.
	value = strings.ReplaceAll(value, " ", "+")
	plo, phi, ok := dateRange(value)
	if !ok {
		return nil, invalid("%q is not a valid date: use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.sss]][Z|+hh:mm], optionally after a prefix such as ge", truncate(raw))
	}
	lo := func(op cond.Op, t time.Time) *cond.Node {
		return cond.Compare(loField, op, t)
	}
	hi := func(op cond.Op, t time.Time) *cond.Node {
		if point {
			// lu+1ms > t  <=>  lu >= t;  lu+1ms <= t  <=>  lu < t.
			op = map[cond.Op]cond.Op{cond.Gt: cond.Ge, cond.Le: cond.Lt}[op]
			return lo(op, t)
		}
		return cond.Compare(hiField, op, t)
	}
	switch prefix {
	case "ne":
		return cond.AnyOf(lo(cond.Lt, plo), hi(cond.Gt, phi)), nil
	case "gt":
		return hi(cond.Gt, phi), nil
	case "lt":
		return lo(cond.Lt, plo), nil
	case "ge":
		return hi(cond.Gt, plo), nil
	case "le":
		return lo(cond.Lt, phi), nil
	case "sa":
		return lo(cond.Ge, phi), nil
	case "eb":
		return hi(cond.Le, plo), nil
	}
	return cond.AllOf(lo(cond.Ge, plo), hi(cond.Le, phi)), nil
}

// DateRange parses a FHIR date, dateTime or instant into the half-open
// range [lo, hi) its precision covers, in UTC (a date or a time without a
// zone is taken as UTC); ok is false for anything else.
func DateRange(s string) (lo, hi time.Time, ok bool) { return dateRange(s) }

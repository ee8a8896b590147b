package search

import (
	"slices"
	"strconv"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// result handles key if it is a result parameter and reports whether it was
// one.
func (p *parser) result(key string, vals []string) bool {
	name, modifier, _ := strings.Cut(key, ":")
	switch name {
	case "_format", "_pretty":
		return true // handled by the HTTP edge
	case "_count", "_sort", "_total", "_summary", "_elements", "_cursor":
	case "_include", "_revinclude":
		if modifier != "" {
			p.fail(key, notSupported("%s:%s is not supported; only direct includes are", name, truncate(modifier)))
			return true
		}
		for _, v := range vals {
			p.include(key, v)
		}
		return true
	case "_contained", "_containedType", "_text", "_content", "_list", "_query", "_filter", "_type", "_graph":
		p.fail(key, notSupported("%s is not supported", name))
		return true
	default:
		return false
	}
	if modifier != "" {
		p.fail(key, notSupported("%s takes no modifier", name))
		return true
	}
	if len(vals) > 1 {
		p.fail(key, invalid("%s may be given only once", name))
		return true
	}
	v := vals[0]
	switch name {
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.fail(key, invalid("_count must be a whole number of 0 or more, not %q", truncate(v)))
			return true
		}
		p.q.Count = n
		p.countSet = true
	case "_sort":
		p.sort(key, v)
	case "_total":
		switch v {
		case "none", "accurate":
			p.q.Total = v
		case "estimate":
			p.q.Total = "accurate"
		default:
			p.fail(key, invalid("_total must be none, estimate or accurate"))
			return true
		}
		p.q.Self.Set(key, v)
	case "_summary":
		switch v {
		case "count":
			p.q.Summary = "count"
		case "false":
		case "true", "text", "data":
			p.fail(key, notSupported("_summary=%s is not supported; use _summary=count or _elements", v))
			return true
		default:
			p.fail(key, invalid("_summary must be true, text, data, count or false"))
			return true
		}
		p.q.Self.Set(key, v)
	case "_elements":
		var elems []string
		for e := range strings.SplitSeq(v, ",") {
			e = strings.TrimSpace(e)
			if !elementPattern.MatchString(e) {
				p.fail(key, invalid("%q is not an element name: _elements takes top-level element names such as name,birthDate", truncate(e)))
				return true
			}
			elems = uniq(elems, e)
		}
		p.q.Elements = elems
		p.q.Self.Set(key, strings.Join(elems, ","))
	case "_cursor":
		p.q.Cursor = v
	}
	return true
}

// counts settles Count from _count and the options' defaults and cap.
func (p *parser) counts() {
	maxCount := p.opt.MaxCount
	if maxCount <= 0 {
		maxCount = MaxCount
	}
	if !p.countSet {
		p.q.Count = p.opt.DefaultCount
		if p.q.Count <= 0 {
			p.q.Count = DefaultCount
		}
	}
	p.q.Count = min(p.q.Count, maxCount)
	if p.countSet {
		p.q.Self.Set("_count", strconv.Itoa(p.q.Count))
	}
}

// sort parses _sort: a comma list of sortable parameters, '-' for
// descending.
func (p *parser) sort(key, v string) {
	var fields []SortField
	var canon []string
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		name, desc := strings.CutPrefix(item, "-")
		d, ok := lookupDef(p.rt, name)
		switch {
		case !ok:
			p.fail(key, invalid("cannot sort by %q: it is not a search parameter of %s", truncate(name), p.rt))
			return
		case !d.Sortable:
			p.fail(key, invalid("cannot sort by %s: only _id, _lastUpdated and date parameters are sortable", name))
			return
		case slices.ContainsFunc(fields, func(f SortField) bool { return f.Param == name }):
			p.fail(key, invalid("%s appears twice in _sort", name))
			return
		}
		fields = append(fields, SortField{Param: name, Field: sortField(d, desc), Desc: desc})
		canon = append(canon, item)
	}
	p.q.Sort = fields
	p.q.Self.Set(key, strings.Join(canon, ","))
}

// sortField is the stored path that orders d in the given direction.
func sortField(d def, desc bool) string {
	switch d.Name {
	case "_id":
		return "_id"
	case "_lastUpdated":
		return "lu"
	}
	if desc {
		return "sp._sort." + d.Name + ".d"
	}
	return "sp._sort." + d.Name + ".a"
}

// include parses one _include or _revinclude value: Source:param[:Target].
func (p *parser) include(key, v string) {
	rev := key == "_revinclude"
	if v == "*" || strings.HasSuffix(v, ":*") {
		p.fail(key, notSupported("wildcard includes are not supported; name the parameter, e.g. Encounter:patient"))
		return
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		p.fail(key, invalid("%q is not of the form Source:parameter[:Target]", truncate(v)))
		return
	}
	src, name := parts[0], parts[1]
	if !fhir.Supported(src) {
		p.fail(key, invalid("%q is not a resource type this server serves", truncate(src)))
		return
	}
	if !rev && src != p.rt {
		p.fail(key, invalid("_include must start with the searched type %s, not %s", p.rt, src))
		return
	}
	d, ok := lookupDef(src, name)
	if !ok || d.Type != TypeReference {
		p.fail(key, invalid("%s has no reference search parameter %q", src, truncate(name)))
		return
	}
	inc := Include{Source: src, Param: name, Field: d.field()}
	if len(parts) == 3 {
		if !slices.Contains(d.Targets, parts[2]) {
			p.fail(key, invalid("%s:%s cannot refer to %q; its targets are %s", src, name, truncate(parts[2]), strings.Join(d.Targets, ", ")))
			return
		}
		inc.Target = parts[2]
	}
	if rev {
		if !slices.Contains(d.Targets, p.rt) || (inc.Target != "" && inc.Target != p.rt) {
			p.fail(key, invalid("%s:%s does not refer to %s", src, name, p.rt))
			return
		}
		p.q.RevInclude = append(p.q.RevInclude, inc)
	} else {
		p.q.Include = append(p.q.Include, inc)
	}
	p.q.Self.Add(key, v)
}

package search

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// problem is one thing wrong with a parameter, before it is tied to the
// parameter's name.
type problem struct {
	code string // fhir issue type: "invalid" or "not-supported"
	msg  string
}

func invalid(format string, args ...any) *problem {
	return &problem{code: "invalid", msg: fmt.Sprintf(format, args...)}
}

func notSupported(format string, args ...any) *problem {
	return &problem{code: "not-supported", msg: fmt.Sprintf(format, args...)}
}

func unsupportedModifier(modifier, typ string) *problem {
	return notSupported("the modifier :%s is not supported on %s parameters", truncate(modifier), typ)
}

// parser accumulates a Query and every problem found on the way.
type parser struct {
	rt     string
	opt    Options
	q      *Query
	conds  []*cond.Node
	issues []fhir.Issue
	// countSet is true when _count was given.
	countSet bool
}

// Parse turns query parameters into a Query. Errors are *fhir.Error with
// Status 400, one Issue per bad parameter (Code "invalid" or
// "not-supported", Diagnostics a message a person can act on, Expression =
// [param name]). All problems are reported at once. In lenient mode unknown
// parameters, unsupported modifiers and unsupported features (chains, _has,
// _include:iterate) are left out of the query and of Self; malformed values
// of known parameters are still errors.
func Parse(resourceType string, params url.Values, opt Options) (*Query, error) {
	if !fhir.Supported(resourceType) {
		return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{
			Severity: "error", Code: "not-supported",
			Diagnostics: fmt.Sprintf("resource type %q is not served", truncate(resourceType)),
		}}}
	}
	p := &parser{rt: resourceType, opt: opt, q: &Query{Type: resourceType, Self: url.Values{}}}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var vals []string
		for _, v := range params[k] {
			if v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue // an empty parameter is ignored
		}
		if strings.HasPrefix(k, "_") && p.result(k, vals) {
			continue
		}
		p.search(k, vals)
	}
	p.counts()
	if len(p.issues) > 0 {
		return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: p.issues}
	}
	p.q.Filter = cond.AllOf(p.conds...)
	return p.q, nil
}

// fail records a problem with parameter key. In lenient mode a
// not-supported problem is dropped instead.
func (p *parser) fail(key string, pr *problem) {
	if pr.code == "not-supported" && p.opt.Lenient {
		return
	}
	p.issues = append(p.issues, fhir.Issue{Severity: "error", Code: pr.code, Diagnostics: pr.msg, Expression: []string{key}})
}

// search handles one search parameter (name[:modifier]) with its repeated
// values: repeats are ANDed, comma-separated values within one are ORed.
func (p *parser) search(key string, vals []string) {
	if strings.HasPrefix(key, "_has") {
		p.fail(key, notSupported("reverse chaining (_has) is not supported"))
		return
	}
	name, modifier, _ := strings.Cut(key, ":")
	if strings.Contains(name, ".") || strings.Contains(modifier, ".") {
		p.fail(key, notSupported("chained parameters are not supported; search the referenced type first, then by its id"))
		return
	}
	d, ok := lookupDef(p.rt, name)
	if !ok {
		p.fail(key, notSupported("unknown search parameter %q for %s; see the CapabilityStatement for the supported ones", truncate(name), p.rt))
		return
	}
	if pr := checkModifier(d, modifier); pr != nil {
		p.fail(key, pr)
		return
	}
	var conds []*cond.Node
	for _, v := range vals {
		c, pr := p.value(d, modifier, v)
		if pr != nil {
			p.fail(key, pr)
			return
		}
		conds = append(conds, c)
	}
	p.conds = append(p.conds, conds...)
	p.q.Self[key] = vals
}

// checkModifier accepts the modifiers this package implements for d.
func checkModifier(d def, modifier string) *problem {
	if modifier == "" {
		return nil
	}
	if d.Name == "_id" || d.Name == "_lastUpdated" {
		return notSupported("%s takes no modifier", d.Name)
	}
	if modifier == "missing" {
		return nil
	}
	switch d.Type {
	case TypeToken:
		if modifier == "not" || modifier == "text" {
			return nil
		}
	case TypeString:
		if modifier == "exact" || modifier == "contains" {
			return nil
		}
	case TypeReference:
		if typeName(modifier) {
			if slices.Contains(d.Targets, modifier) {
				return nil
			}
			return invalid("%s cannot refer to %s; its targets are %s", d.Name, truncate(modifier), strings.Join(d.Targets, ", "))
		}
	}
	return unsupportedModifier(modifier, d.Type)
}

// value builds the condition for one occurrence of a parameter.
func (p *parser) value(d def, modifier, raw string) (*cond.Node, *problem) {
	if modifier == "missing" {
		switch raw {
		case "true":
			return cond.NoneOf(cond.Present(d.field())), nil
		case "false":
			return cond.Present(d.field()), nil
		}
		return nil, invalid(":missing takes true or false")
	}
	parts := splitEscaped(raw, ',')
	conds := make([]*cond.Node, 0, len(parts))
	for _, part := range parts {
		if part == "" {
			return nil, invalid("empty value in the comma-separated list %q", truncate(raw))
		}
		c, pr := condition(d, modifier, part)
		if pr != nil {
			return nil, pr
		}
		conds = append(conds, c)
	}
	if modifier == "not" {
		return cond.NoneOf(conds...), nil
	}
	return cond.AnyOf(conds...), nil
}

// condition builds the condition for one (comma-separated) value.
func condition(d def, modifier, raw string) (*cond.Node, *problem) {
	field := d.field()
	switch d.Name {
	case "_id":
		return idCondition(raw)
	case "_lastUpdated":
		return dateCondition(field, "", true, raw)
	}
	switch d.Type {
	case TypeToken:
		if modifier == "not" {
			modifier = ""
		}
		return tokenCondition(field, modifier, raw)
	case TypeString:
		return stringCondition(field, modifier, unescape(raw))
	case TypeDate:
		return dateCondition(field+".lo", field+".hi", false, raw)
	case TypeReference:
		return referenceCondition(d, modifier, raw)
	case TypeQuantity:
		return quantityCondition(field, raw)
	case TypeURI:
		return cond.Is(field, unescape(raw)), nil
	}
	return nil, notSupported("%s parameters are not supported", d.Type)
}

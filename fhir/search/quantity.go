package search

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// numberPattern is a FHIR decimal as a search value (no exponent).
var numberPattern = regexp.MustCompile(`^[+-]?\d+(\.\d+)?$`)

// number converts a decoded JSON number (json.Number or float64).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	}
	return 0, false
}

// indexQuantity extracts the first Quantity with a value as {v, sc, c}.
// Observation has one value, so pairing a number with its unit needs no
// $elemMatch.
func indexQuantity(nodes []any) bson.M {
	for _, n := range nodes {
		m, ok := n.(map[string]any)
		if !ok {
			continue
		}
		v, ok := number(m["value"])
		if !ok {
			continue
		}
		out := bson.M{"v": v}
		system, _ := m["system"].(string)
		code, _ := m["code"].(string)
		unit, _ := m["unit"].(string)
		if code != "" {
			out["sc"] = []string{system + "|" + code}
		}
		if c := uniq(uniq(nil, code), unit); len(c) > 0 {
			out["c"] = c
		}
		return out
	}
	return nil
}

// quantityCondition matches [prefix]number[|system|code] or
// [prefix]number||code. eq and ne use the implicit precision of the number:
// 5.4 means [5.35, 5.45).
func quantityCondition(field, raw string) (*cond.Node, *problem) {
	parts := splitEscaped(raw, '|')
	if len(parts) != 1 && len(parts) != 3 {
		return nil, invalid("a quantity is [prefix]number, [prefix]number|system|code or [prefix]number||code")
	}
	prefix, num, p := splitPrefix(parts[0])
	if p != nil {
		return nil, p
	}
	if !numberPattern.MatchString(num) {
		return nil, invalid("%q is not a decimal number", truncate(num))
	}
	val, _ := new(big.Rat).SetString(strings.TrimPrefix(num, "+"))
	exact, _ := val.Float64()
	decimals := 0
	if _, frac, ok := strings.Cut(num, "."); ok {
		decimals = len(frac)
	}
	half := new(big.Rat).SetFrac(big.NewInt(5), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals+1)), nil))
	lo, _ := new(big.Rat).Sub(val, half).Float64()
	hi, _ := new(big.Rat).Add(val, half).Float64()
	vf := field + ".v"
	cmp := func(op cond.Op, f float64) *cond.Node { return cond.Compare(vf, op, f) }
	var c *cond.Node
	switch prefix {
	case "eq":
		c = cond.AllOf(cmp(cond.Ge, lo), cmp(cond.Lt, hi))
	case "ne":
		c = cond.AnyOf(cmp(cond.Lt, lo), cmp(cond.Ge, hi))
	case "gt", "sa":
		c = cmp(cond.Gt, exact)
	case "lt", "eb":
		c = cmp(cond.Lt, exact)
	case "ge":
		c = cmp(cond.Ge, exact)
	case "le":
		c = cmp(cond.Le, exact)
	}
	if len(parts) == 1 {
		return c, nil
	}
	system, code := unescape(parts[1]), unescape(parts[2])
	switch {
	case code == "":
		return nil, invalid("a quantity unit needs a code: number|system|code or number||code")
	case system == "":
		return cond.AllOf(c, cond.Is(field+".c", code)), nil
	}
	return cond.AllOf(c, cond.Is(field+".sc", system+"|"+code)), nil
}

package search

import (
	"strings"
	"unicode"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/text/unicode/norm"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// normalize folds s for case- and accent-insensitive matching: canonical
// decomposition, combining marks removed, lower case.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// stringParts are the string elements of HumanName and Address searched by
// a string parameter on the whole datatype.
var stringParts = []string{"text", "family", "given", "prefix", "suffix", "line", "city", "district", "state", "postalCode", "country"}

// indexString extracts the strings of nodes (string primitives, HumanName,
// Address) into {n: normalized, e: exact}.
func indexString(nodes []any) bson.M {
	var exact []string
	for _, n := range nodes {
		switch v := n.(type) {
		case string:
			exact = uniq(exact, v)
		case map[string]any:
			for _, k := range stringParts {
				for _, p := range appendFlat(nil, v[k]) {
					if s, ok := p.(string); ok {
						exact = uniq(exact, s)
					}
				}
			}
		}
	}
	if len(exact) == 0 {
		return nil
	}
	var folded []string
	for _, s := range exact {
		folded = uniq(folded, normalize(s))
	}
	return bson.M{"n": folded, "e": exact}
}

// stringCondition matches one string search value.
func stringCondition(field, modifier, value string) (*cond.Node, *problem) {
	if value == "" {
		return nil, invalid("an empty string value cannot be searched")
	}
	switch modifier {
	case "":
		return cond.Compare(field+".n", cond.Prefix, normalize(value)), nil
	case "contains":
		return cond.Compare(field+".n", cond.Contains, normalize(value)), nil
	case "exact":
		return cond.Is(field+".e", value), nil
	}
	return nil, unsupportedModifier(modifier, TypeString)
}

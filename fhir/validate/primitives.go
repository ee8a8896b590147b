package validate

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// primitive is a FHIR R4 primitive data type.
type primitive uint8

const (
	pString primitive = iota
	pCode
	pID
	pURI
	pURL
	pCanonical
	pOID
	pUUID
	pMarkdown
	pBase64Binary
	pDate
	pDateTime
	pInstant
	pTime
	pXHTML
	pReference // Reference.reference: a string with the literal reference rules
	pBoolean
	pInteger
	pPositiveInt
	pUnsignedInt
	pDecimal
)

var primitiveNames = [...]string{
	pString: "string", pCode: "code", pID: "id", pURI: "uri", pURL: "url",
	pCanonical: "canonical", pOID: "oid", pUUID: "uuid", pMarkdown: "markdown",
	pBase64Binary: "base64Binary", pDate: "date", pDateTime: "dateTime",
	pInstant: "instant", pTime: "time", pXHTML: "xhtml", pReference: "reference",
	pBoolean: "boolean", pInteger: "integer", pPositiveInt: "positiveInt",
	pUnsignedInt: "unsignedInt", pDecimal: "decimal",
}

func (p primitive) String() string { return primitiveNames[p] }

// primitiveFor returns the FHIR primitive type of field f of ti, whose Go
// type (pointer and slice removed) is t.
func primitiveFor(ti *typeInfo, f *field, t reflect.Type) primitive {
	switch {
	case t.Kind() == reflect.Bool:
		return pBoolean
	case t == jsonNumberType:
		return pDecimal
	}
	if p, ok := elementTypes[ti.name+"."+f.name]; ok {
		return p
	}
	if f.choice != nil {
		if _, typ, ok := splitChoice(f.name); ok {
			return choiceTypes[typ]
		}
	}
	switch {
	case t.Kind() == reflect.Int:
		return pInteger
	case f.name == "id" && ti.resource:
		return pID
	case f.name == "language":
		return pCode
	case f.name == "implicitRules":
		return pURI
	}
	return pString
}

// Formats from the R4 data types page (datatypes.html), anchored.
var (
	reOID      = regexp.MustCompile(`^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`)
	reUUID     = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reDate     = regexp.MustCompile(`^` + dateRE + `(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`)
	reDateTime = regexp.MustCompile(`^` + dateRE + `(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T` + timeRE + zoneRE + `)?)?)?$`)
	reInstant  = regexp.MustCompile(`^` + dateRE + `-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T` + timeRE + zoneRE + `$`)
	reTime     = regexp.MustCompile(`^` + timeRE + `$`)
)

const (
	dateRE = `([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)`
	timeRE = `([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?`
	zoneRE = `(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))`
)

// checkString checks a JSON string value s of primitive type p and returns
// the problem, or "" when s is valid. Messages never include s.
func checkString(p primitive, s string) string {
	switch p {
	case pID:
		if !fhir.ValidID(s) {
			return "is not a valid id (1 to 64 letters, digits, '-' or '.')"
		}
	case pCode:
		if !fhir.ValidCode(s) {
			return "is not a valid code (no leading, trailing or repeated whitespace)"
		}
	case pURI, pURL, pCanonical:
		if strings.ContainsFunc(s, isSpace) {
			return "is not a valid " + p.String() + " (no whitespace allowed)"
		}
		if p == pURL && !strings.Contains(s, ":") {
			return "is not a valid url (must be absolute)"
		}
	case pOID:
		if !reOID.MatchString(s) {
			return "is not a valid oid (urn:oid:...)"
		}
	case pUUID:
		if !reUUID.MatchString(s) {
			return "is not a valid uuid (urn:uuid: and lower-case hex)"
		}
	case pBase64Binary:
		if _, err := base64.StdEncoding.DecodeString(strings.Map(dropSpace, s)); err != nil {
			return "is not valid base64"
		}
	case pDate:
		if !reDate.MatchString(s) || !realDate(s) {
			return "is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)"
		}
	case pDateTime:
		if !reDateTime.MatchString(s) || !realDate(s) {
			return "is not a valid dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a timezone)"
		}
	case pInstant:
		if !reInstant.MatchString(s) || !realDate(s) {
			return "is not a valid instant (YYYY-MM-DDThh:mm:ss with a timezone)"
		}
	case pTime:
		if !reTime.MatchString(s) {
			return "is not a valid time (hh:mm:ss)"
		}
	case pXHTML:
		if !strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "<div") {
			return "is not valid narrative XHTML (must be a <div> element)"
		}
	case pReference:
		return checkReference(s)
	}
	return ""
}

// realDate reports whether the year-month-day prefix of s, if it has a day,
// is a day that exists (so 2023-02-29 fails).
func realDate(s string) bool {
	if len(s) < 10 {
		return true
	}
	_, err := time.Parse(time.DateOnly, s[:10])
	return err == nil
}

// checkNumber checks a JSON number n for primitive type p.
func checkNumber(p primitive, n json.Number) string {
	if p == pDecimal {
		return ""
	}
	s := string(n)
	if strings.ContainsAny(s, ".eE") || s == "-0" {
		return "must be a whole number"
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return "is out of range for a 32-bit integer"
	}
	switch {
	case p == pPositiveInt && v < 1:
		return "must be a positiveInt (1 or more)"
	case p == pUnsignedInt && v < 0:
		return "must be an unsignedInt (0 or more)"
	}
	return ""
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

func dropSpace(r rune) rune {
	if isSpace(r) {
		return -1
	}
	return r
}

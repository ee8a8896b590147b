package fhir

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of v to dst: exactly the bytes
// json.Marshal gives (object keys sorted, <, > and & escaped as \u003c and
// so on, invalid UTF-8 as \ufffd), but written directly for the values a
// decoded resource holds (map[string]any, []any, string, bool, nil,
// json.Number, int and int64), which is several times cheaper than
// reflection on every write and every hash. Any other value is handed to
// json.Marshal.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, x, nil)
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendJSON(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case json.Number:
		n := string(x)
		if n == "" {
			n = "0" // as encoding/json has done since Go 1.5
		}
		if !ValidNumber(n) {
			break // json.Marshal reports it
		}
		return append(dst, n...), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	}
	b, err := json.Marshal(v) // floats, structs, other maps and slices, ...
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// appendObject appends obj with its keys in sorted order, leaving out
// those skip reports (nil keeps all).
func appendObject(dst []byte, obj map[string]any, skip func(string) bool) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	var small [24]string
	keys := small[:0]
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if skip != nil && skip(k) {
			continue
		}
		var err error
		if dst, err = appendMember(dst, !first, k, obj[k]); err != nil {
			return dst, err
		}
		first = false
	}
	return append(dst, '}'), nil
}

// AppendMember appends "k":v as a member of an object, after a comma when
// comma is set: the bytes AppendJSON and MarshalResource write for it.
func AppendMember(dst []byte, comma bool, k string, v any) ([]byte, error) {
	return appendMember(dst, comma, k, v)
}

// appendMember appends "k":v to an object, after a comma unless it is the
// object's first member.
func appendMember(dst []byte, comma bool, k string, v any) ([]byte, error) {
	if comma {
		dst = append(dst, ',')
	}
	dst = appendString(dst, k)
	dst = append(dst, ':')
	return AppendJSON(dst, v)
}

// ValidNumber reports whether n is a JSON number literal, exactly as
// json.Marshal accepts a json.Number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func ValidNumber(n string) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(n) && n[i] == '-' {
		i++
	}
	switch {
	case i < len(n) && n[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(n) && n[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(n)
}

const hexDigits = "0123456789abcdef"

// plain marks the ASCII bytes a JSON string holds as they are.
var plain = func() (p [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		p[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return p
}()

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping on (its default).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if plain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/socialcare-fhir/gateway/fhir"
)

// HashAndTemplate sets obj's id and returns what ContentHash and
// NewTemplate would, encoding each element of obj once rather than twice:
// the content hash is taken over the canonical form (every member in key
// order, meta without its version and time) and the template is the
// stored form (resourceType, id and meta first), and both are made of the
// same members' bytes, meta apart.
func HashAndTemplate(obj map[string]any, id string) (string, Template, error) {
	obj["id"] = id
	meta, isMap := obj["meta"].(map[string]any)
	if _, has := obj["meta"]; has && !isMap {
		return slowHashAndTemplate(obj, id)
	}
	keys := slices.Sorted(maps.Keys(obj))
	// Every member but meta, once, each without a comma.
	body := make([]byte, 0, 1024)
	spans := make(map[string][2]int, len(keys))
	for _, k := range keys {
		if k == "meta" {
			continue
		}
		start := len(body)
		var err error
		if body, err = fhir.AppendMember(body, false, k, obj[k]); err != nil {
			return "", Template{}, fmt.Errorf("encode %s: %w", k, err)
		}
		spans[k] = [2]int{start, len(body)}
	}
	member := func(k string) []byte { sp := spans[k]; return body[sp[0]:sp[1]] }

	// The canonical meta: without versionId and lastUpdated, left out when
	// nothing else is in it.
	var canonMeta []byte
	if len(meta) > 0 {
		m := maps.Clone(meta)
		delete(m, "versionId")
		delete(m, "lastUpdated")
		if len(m) > 0 {
			var err error
			if canonMeta, err = fhir.AppendMember(nil, false, "meta", m); err != nil {
				return "", Template{}, fmt.Errorf("encode meta: %w", err)
			}
		}
	}
	h := sha256.New()
	h.Write([]byte{'{'})
	first := true
	for _, k := range keys {
		b := canonMeta
		if k != "meta" {
			b = member(k)
		} else if b == nil {
			continue
		}
		if !first {
			h.Write([]byte{','})
		}
		h.Write(b)
		first = false
	}
	h.Write([]byte{'}'})
	hash := hex.EncodeToString(h.Sum(nil))

	// The stored meta, with the placeholders where Fill puts the version
	// and time.
	m := maps.Clone(meta)
	if m == nil {
		m = map[string]any{}
	}
	m["versionId"], m["lastUpdated"] = placeholderVID, placeholderLU
	storedMeta, err := fhir.AppendMember(nil, false, "meta", m)
	if err != nil {
		return "", Template{}, fmt.Errorf("encode meta: %w", err)
	}
	qv, _ := json.Marshal(placeholderVID)
	ql, _ := json.Marshal(placeholderLU)
	iv, il := bytes.Index(storedMeta, qv), bytes.Index(storedMeta, ql)
	if iv < 0 || il < 0 || bytes.Count(storedMeta, qv) != 1 || bytes.Count(storedMeta, ql) != 1 {
		return slowHashAndTemplate(obj, id)
	}
	js := make([]byte, 0, len(body)+len(storedMeta)+len(keys)+2)
	js = append(js, '{')
	var vid, lu int
	add := func(b []byte) {
		if len(js) > 1 {
			js = append(js, ',')
		}
		js = append(js, b...)
	}
	for _, k := range []string{"resourceType", "id", "meta"} {
		switch {
		case k == "meta":
			add(storedMeta)
			base := len(js) - len(storedMeta)
			vid, lu = base+iv, base+il
		case hasKey(obj, k):
			add(member(k))
		}
	}
	for _, k := range keys {
		if k == "resourceType" || k == "id" || k == "meta" {
			continue
		}
		add(member(k))
	}
	js = append(js, '}')
	return hash, Template{json: js, vid: vid, lu: lu}, nil
}

func hasKey(obj map[string]any, k string) bool { _, ok := obj[k]; return ok }

// slowHashAndTemplate is HashAndTemplate the long way, for a resource whose
// meta is not an object or whose meta holds the placeholders' text.
func slowHashAndTemplate(obj map[string]any, id string) (string, Template, error) {
	obj["id"] = id
	hash, err := ContentHash(obj)
	if err != nil {
		return "", Template{}, err
	}
	t, err := NewTemplate(obj, id)
	if err != nil {
		return "", Template{}, err
	}
	return hash, t, nil
}

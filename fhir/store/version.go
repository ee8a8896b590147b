package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
)

// Version is one stored version of a resource.
type Version struct {
	Type        string
	ID          string
	VersionID   int64
	LastUpdated time.Time
	Deleted     bool
	// JSON is the resource with meta.versionId and meta.lastUpdated set;
	// empty for a deletion.
	JSON []byte
	// Attrs are the resource's access attributes (policy.Attributes of
	// JSON) when the engine keeps them beside it; nil means work them out
	// from JSON.
	Attrs *policy.ResourceAttributes
}

// ETag is the weak entity tag of the version, W/"<versionId>".
func (v *Version) ETag() string { return `W/"` + strconv.FormatInt(v.VersionID, 10) + `"` }

// head is the stored form of a current version.
type head struct {
	ID          string    `bson:"_id"`
	VersionID   int64     `bson:"vid"`
	LastUpdated time.Time `bson:"lu"`
	Deleted     bool      `bson:"del"`
	Hash        string    `bson:"h"`
	JSON        string    `bson:"json"`
	Patients    []string  `bson:"pat"`
	Search      bson.M    `bson:"sp"`
	ACL         acl       `bson:"acl"`
}

// acl holds the attributes the access policy decides on (see
// policy.Attributes), so that its search filter can run in the database.
type acl struct {
	Patient    string   `bson:"pat"`
	Categories []string `bson:"cat"`
	Labels     []string `bson:"sec"`
	AuthorOrgs []string `bson:"org"`
}

// old is the stored form of a version in "<Type>_history". It carries
// everything a head needs, so a claimed version can become the head.
type old struct {
	Key         string    `bson:"_id"` // "<id>/<vid>"
	ID          string    `bson:"rid"`
	VersionID   int64     `bson:"vid"`
	LastUpdated time.Time `bson:"lu"`
	Deleted     bool      `bson:"del"`
	Hash        string    `bson:"h"`
	JSON        string    `bson:"json"`
	Patients    []string  `bson:"pat"`
	Search      bson.M    `bson:"sp"`
	ACL         acl       `bson:"acl"`
}

func (h *head) version(resourceType string) *Version {
	return &Version{Type: resourceType, ID: h.ID, VersionID: h.VersionID, LastUpdated: h.LastUpdated, Deleted: h.Deleted, JSON: []byte(h.JSON)}
}

func (h *head) toOld() old {
	return old{Key: historyKey(h.ID, h.VersionID), ID: h.ID, VersionID: h.VersionID, LastUpdated: h.LastUpdated,
		Deleted: h.Deleted, Hash: h.Hash, JSON: h.JSON, Patients: h.Patients, Search: h.Search, ACL: h.ACL}
}

func (o *old) toHead() *head {
	return &head{ID: o.ID, VersionID: o.VersionID, LastUpdated: o.LastUpdated, Deleted: o.Deleted,
		Hash: o.Hash, JSON: o.JSON, Patients: o.Patients, Search: o.Search, ACL: o.ACL}
}

func (o *old) version(resourceType string) *Version {
	return &Version{Type: resourceType, ID: o.ID, VersionID: o.VersionID, LastUpdated: o.LastUpdated, Deleted: o.Deleted, JSON: []byte(o.JSON)}
}

func historyKey(id string, vid int64) string { return id + "/" + strconv.FormatInt(vid, 10) }

// contentHash identifies a resource's content regardless of its version
// metadata, so that re-sending an unchanged resource creates no version.
func contentHash(obj map[string]any) (string, error) {
	c := maps.Clone(obj)
	if m, ok := c["meta"].(map[string]any); ok {
		m = maps.Clone(m)
		delete(m, "versionId")
		delete(m, "lastUpdated")
		if len(m) == 0 {
			delete(c, "meta")
		} else {
			c["meta"] = m
		}
	}
	b, err := fhir.AppendJSON(make([]byte, 0, 1024), c) // json.Marshal's bytes, keys sorted: a canonical form
	if err != nil {
		return "", fmt.Errorf("hash resource: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// luFormat is meta.lastUpdated's form: milliseconds, UTC.
const luFormat = "2006-01-02T15:04:05.000Z07:00"

// stamp sets id, meta.versionId and meta.lastUpdated on obj and returns
// its JSON with resourceType, id and meta first, as FHIR examples do.
func stamp(obj map[string]any, id string, vid int64, lu time.Time) ([]byte, error) {
	obj["id"] = id
	meta, _ := obj["meta"].(map[string]any)
	meta = maps.Clone(meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = strconv.FormatInt(vid, 10)
	meta["lastUpdated"] = lu.UTC().Format(luFormat)
	obj["meta"] = meta
	return fhir.MarshalResource(obj)
}

// ContentHash identifies a resource's content regardless of its version
// metadata (meta.versionId, meta.lastUpdated); engines compare it to make
// no new version for an unchanged resource.
func ContentHash(obj map[string]any) (string, error) { return contentHash(obj) }

// Stamp sets id, meta.versionId and meta.lastUpdated on obj and returns
// the JSON every engine stores.
func Stamp(obj map[string]any, id string, vid int64, lu time.Time) ([]byte, error) {
	return stamp(obj, id, vid, lu)
}

// A Template is a resource's stored JSON with its version and time still
// to be filled in: an engine marshals the resource before it takes its
// write lock, and fills in the version it claims under the lock, which
// costs a copy instead of a marshal.
type Template struct {
	json     []byte
	vid, lu  int // offsets of the placeholders in json
	fallback map[string]any
	id       string
}

// Placeholders for meta.versionId and meta.lastUpdated: random per
// process, and made of characters a FHIR string may not hold, so they
// cannot be in a resource already.
var placeholderVID, placeholderLU = func() (string, string) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	tag := hex.EncodeToString(b[:])
	return "\x01v" + tag + "\x01", "\x01t" + tag + "\x01"
}()

// NewTemplate marshals obj as Stamp does, with id set and the version and
// time left open.
func NewTemplate(obj map[string]any, id string) (Template, error) {
	meta, _ := obj["meta"].(map[string]any)
	had := meta != nil
	if !had {
		meta = map[string]any{}
	}
	oldV, hadV := meta["versionId"]
	oldL, hadL := meta["lastUpdated"]
	meta["versionId"], meta["lastUpdated"] = placeholderVID, placeholderLU
	obj["meta"] = meta
	obj["id"] = id
	js, err := fhir.MarshalResource(obj)
	// obj is left as it was, id apart.
	if hadV {
		meta["versionId"] = oldV
	} else {
		delete(meta, "versionId")
	}
	if hadL {
		meta["lastUpdated"] = oldL
	} else {
		delete(meta, "lastUpdated")
	}
	if !had {
		delete(obj, "meta")
	}
	if err != nil {
		return Template{}, err
	}
	qv, _ := json.Marshal(placeholderVID)
	ql, _ := json.Marshal(placeholderLU)
	t := Template{json: js, vid: bytes.Index(js, qv), lu: bytes.Index(js, ql)}
	if t.vid < 0 || t.lu < 0 || bytes.Count(js, qv) != 1 || bytes.Count(js, ql) != 1 {
		return Template{fallback: obj, id: id}, nil
	}
	return t, nil
}

// Fill returns the stored JSON of version vid, last updated at lu: the
// same bytes Stamp gives.
// Len is the length of the stored JSON, placeholders included (about the
// length it will have once filled in).
func (t Template) Len() int { return len(t.json) }

func (t Template) Fill(vid int64, lu time.Time) ([]byte, error) {
	if t.fallback != nil {
		return stamp(t.fallback, t.id, vid, lu)
	}
	qv, _ := json.Marshal(strconv.FormatInt(vid, 10))
	ql, _ := json.Marshal(lu.UTC().Format(luFormat))
	pv, _ := json.Marshal(placeholderVID)
	pl, _ := json.Marshal(placeholderLU)
	type part struct {
		at, n int
		with  []byte
	}
	parts := []part{{t.vid, len(pv), qv}, {t.lu, len(pl), ql}}
	if t.lu < t.vid {
		parts[0], parts[1] = parts[1], parts[0]
	}
	out := make([]byte, 0, len(t.json)+len(qv)+len(ql)-len(pv)-len(pl))
	last := 0
	for _, p := range parts {
		out = append(out, t.json[last:p.at]...)
		out = append(out, p.with...)
		last = p.at + p.n
	}
	return append(out, t.json[last:]...), nil
}

package store

import (
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
	b, err := json.Marshal(c) // map keys are sorted: a canonical form
	if err != nil {
		return "", fmt.Errorf("hash resource: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

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
	meta["lastUpdated"] = lu.UTC().Format("2006-01-02T15:04:05.000Z07:00")
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

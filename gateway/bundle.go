package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store"
)

type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int64        `json:"total,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}

func newBundle(typ string) *bundle {
	return &bundle{ResourceType: "Bundle", Type: typ, Timestamp: time.Now().UTC().Format(time.RFC3339)}
}

func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// historyEntry is a history Bundle entry for one version.
func historyEntry(base string, v *store.Version) bundleEntry {
	e := bundleEntry{FullURL: base + "/" + v.Type + "/" + v.ID}
	method, status := http.MethodPut, "200 OK"
	switch {
	case v.Deleted:
		method, status = http.MethodDelete, "204 No Content"
	case v.VersionID == 1:
		method, status = http.MethodPost, "201 Created"
	}
	if !v.Deleted {
		e.Resource = v.JSON
	}
	url := v.Type
	if method != http.MethodPost {
		url += "/" + v.ID
	}
	e.Request = &entryRequest{Method: method, URL: url}
	e.Response = &entryResponse{Status: status, Etag: v.ETag(), LastModified: instant(v.LastUpdated)}
	return e
}

func statusLine(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }

// addLink adds the link rel to b: path with params and, when set, the
// paging cursor (no link for an empty cursor unless rel is self).
func (b *bundle) addLink(rel, path string, params url.Values, cursor string) {
	if cursor == "" && rel != "self" {
		return
	}
	v := url.Values{}
	for k, vs := range params {
		v[k] = vs
	}
	if cursor != "" {
		v.Set("_cursor", cursor)
	}
	if enc := v.Encode(); enc != "" {
		path += "?" + enc
	}
	b.Link = append(b.Link, bundleLink{Relation: rel, URL: path})
}

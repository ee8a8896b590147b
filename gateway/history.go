package gateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// history answers GET /{type}/_history and GET /{type}/{id}/_history with
// _count, _since and paging.
func (s *Server) history(c *gin.Context) error {
	typ := routeOf(c).Type
	id := ""
	if routeOf(c).ID != "" {
		var err error
		if id, err = pathID(c); err != nil {
			return err
		}
	}
	opt, self, err := s.historyOptions(c)
	if err != nil {
		return err
	}
	versions, more, err := s.store.History(c.Request.Context(), typ, id, opt)
	if err != nil {
		return err
	}
	if versions, err = accessOf(c).decideHistory(c.Request.Context(), versions); err != nil {
		return err
	}
	base := s.base(c)
	path := base + "/" + typ
	if id != "" {
		path += "/" + id
	}
	path += "/_history"
	b := newBundle("history")
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: withQuery(path, self)})
	if more && len(versions) > 0 {
		last := versions[len(versions)-1]
		next := url.Values{}
		for k, v := range self {
			next[k] = v
		}
		next.Set("_cursor", encodeHistoryKey(store.HistoryKey{LastUpdated: last.LastUpdated, ID: last.ID, VersionID: last.VersionID}))
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: withQuery(path, next)})
	}
	for _, v := range versions {
		b.Entry = append(b.Entry, historyEntry(base, v))
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

func withQuery(u string, v url.Values) string {
	if enc := v.Encode(); enc != "" {
		return u + "?" + enc
	}
	return u
}

func (s *Server) historyOptions(c *gin.Context) (store.HistoryOptions, url.Values, error) {
	opt := store.HistoryOptions{Count: s.cfg.DefaultCount}
	self := url.Values{}
	var issues []fhir.Issue
	bad := func(param, msg string) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: msg, Expression: []string{param}})
	}
	for k, vs := range c.Request.URL.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				bad(k, "_count must be a positive integer")
				continue
			}
			opt.Count = min(n, s.cfg.MaxCount)
			self.Set(k, strconv.Itoa(opt.Count))
		case "_since":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				bad(k, "_since must be an instant with a time zone, such as 2024-01-31T09:00:00Z")
				continue
			}
			opt.Since = t
			self.Set(k, v)
		case "_cursor":
			key, ok := decodeHistoryKey(v)
			if !ok {
				bad(k, "the _cursor value is not one this server issued; start again from the first page")
				continue
			}
			opt.Before = key
		case "_format", "_pretty":
		default:
			if prefer(c, "handling") != "lenient" {
				issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Diagnostics: "history supports _count, _since and paging only", Expression: []string{k}})
			}
		}
	}
	if len(issues) > 0 {
		return opt, nil, &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	return opt, self, nil
}

type historyCursor struct {
	T int64  `json:"t"`
	I string `json:"i"`
	V int64  `json:"v"`
}

func encodeHistoryKey(k store.HistoryKey) string {
	b, _ := json.Marshal(historyCursor{T: k.LastUpdated.UnixMilli(), I: k.ID, V: k.VersionID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeHistoryKey(s string) (*store.HistoryKey, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var hc historyCursor
	if err := json.Unmarshal(b, &hc); err != nil || !fhir.ValidID(hc.I) || hc.V < 1 {
		return nil, false
	}
	return &store.HistoryKey{LastUpdated: time.UnixMilli(hc.T).UTC(), ID: hc.I, VersionID: hc.V}, true
}

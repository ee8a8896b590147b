package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/policy"
)

// everythingParams are the parameters of Patient/{id}/$everything this
// server understands.
var everythingParams = []string{"_count", "_since", "_type", "_cursor", "_format"}

// everythingTypes are the types $everything returns, in the order it
// returns them: the Patient, then every type of the patient compartment.
// AuditEvents are not records about the person's care: who has seen the
// record is $who-accessed.
func everythingTypes() []string {
	return append([]string{"Patient"}, slices.DeleteFunc(search.CompartmentTypes(), func(t string) bool { return t == "AuditEvent" })...)
}

// everything answers GET /Patient/{id}/$everything: the Patient and the
// resources of its compartment the caller may read, type by type (the
// Patient first, then the types in alphabetical order), _count to a page,
// each type searched with the policy's restriction and every resource
// decided and redacted as a search would be. _since keeps resources
// changed since an instant, _type keeps the listed types; paging is by
// the next link's _cursor.
func (s *Server) everything(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	params, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "the query string is not well formed: %s", queryError(err))
	}
	req, err := s.everythingRequest(c, params)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	patient := "Patient/" + id
	// The person's record must be readable as a whole first: a caller
	// refused the Patient learns nothing from an empty page.
	v, err := s.store.Read(ctx, "Patient", id)
	if err != nil {
		return err
	}
	if _, _, err := a.decide(ctx, policy.ActionRead, v); err != nil {
		return err
	}
	matches, next, err := s.compartmentPage(ctx, a, patient, req)
	if err != nil {
		return err
	}
	b := newBundle("searchset")
	base := s.base(c)
	for _, m := range matches {
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/" + m.Type + "/" + m.ID, Resource: m.JSON, Search: &entrySearch{Mode: "match"}})
	}
	self := base + "/Patient/" + id + "/$everything"
	b.addLink("self", self, req.self, params.Get("_cursor"))
	b.addLink("next", self, req.self, next)
	writeJSON(c, http.StatusOK, b)
	return nil
}

// compartmentPage is one page of the patient's compartment ("Patient/<id>")
// the caller may read, type by type from req's cursor, each type searched
// with the policy's restriction and every resource decided and redacted
// as a search would be; next is the cursor of the page after ("" after the
// last).
func (s *Server) compartmentPage(ctx context.Context, a *access, patient string, req *everythingReq) (matches []*store.Version, next string, err error) {
	remaining := req.count
	start := slices.Index(req.types, req.cursorType)
	for i := max(start, 0); i < len(req.types) && remaining > 0; i++ {
		typ := req.types[i]
		sp := url.Values{"_count": {strconv.Itoa(remaining)}}
		if req.since != "" {
			sp.Set("_lastUpdated", "ge"+req.since)
		}
		q, err := search.Parse(typ, sp, search.Options{DefaultCount: remaining, MaxCount: remaining})
		if err != nil {
			return nil, "", err
		}
		q.Filter = cond.AllOf(q.Filter, cond.Is(cond.Compartment, patient))
		if i == start {
			q.Cursor = req.cursor
		}
		page, err := s.store.Search(ctx, q, a.restrictTo(policy.ActionSearch, typ, []string{patient}))
		if err != nil {
			return nil, "", err
		}
		remaining -= len(page.Matches)
		allowed, err := a.decidePage(ctx, policy.ActionSearch, page.Matches)
		if err != nil {
			return nil, "", err
		}
		matches = append(matches, allowed...)
		if page.Next != "" {
			return matches, typ + ":" + page.Next, nil
		}
		if remaining <= 0 && i+1 < len(req.types) {
			return matches, req.types[i+1] + ":", nil
		}
	}
	return matches, "", nil
}

// everythingReq is a parsed $everything request.
type everythingReq struct {
	count              int
	since              string   // an instant, or ""
	types              []string // in order
	cursorType, cursor string   // where the page starts: a type and its store cursor
	self               url.Values
}

// everythingRequest checks and parses the parameters: unknown ones are
// refused unless the client prefers lenient handling; start and end (care
// dates) are not supported.
func (s *Server) everythingRequest(c *gin.Context, params url.Values) (*everythingReq, error) {
	lenient := strings.EqualFold(prefer(c, "handling"), "lenient")
	var issues []fhir.Issue
	bad := func(param, format string, args ...any) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: param + ": " + fmt.Sprintf(format, args...), Expression: []string{param}})
	}
	for k := range params {
		switch {
		case slices.Contains(everythingParams, k):
		case k == "start" || k == "end":
			issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Expression: []string{k},
				Diagnostics: k + ": care-date ranges are not supported by $everything here; use _since (when records changed) or search each type by its date"})
		case !lenient:
			issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Expression: []string{k},
				Diagnostics: k + ": not a parameter of $everything (supported: _count, _since, _type, _cursor); send Prefer: handling=lenient to have unknown parameters ignored"})
		}
	}
	req := &everythingReq{count: s.cfg.DefaultCount, types: everythingTypes(), self: url.Values{}}
	if v := params.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			bad("_count", "must be a whole number of at least 1")
		case n > s.cfg.MaxCount:
			bad("_count", "at most %d resources come in one page", s.cfg.MaxCount)
		default:
			req.count = n
			req.self.Set("_count", v)
		}
	}
	if v := params.Get("_since"); v != "" {
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			bad("_since", "must be a FHIR instant with a time zone, e.g. 2026-01-01T00:00:00Z")
		} else {
			req.since = v
			req.self.Set("_since", v)
		}
	}
	if v := params.Get("_type"); v != "" {
		var keep []string
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(req.types, t) {
				bad("_type", "%q is not a type of the patient compartment this server returns (see /metadata)", t)
				continue
			}
			keep = append(keep, t)
		}
		req.types = slices.DeleteFunc(slices.Clone(req.types), func(t string) bool { return !slices.Contains(keep, t) })
		req.self.Set("_type", strings.Join(req.types, ","))
	}
	if v := params.Get("_cursor"); v != "" {
		t, cur, ok := strings.Cut(v, ":")
		if !ok || !slices.Contains(req.types, t) {
			bad("_cursor", "is not a cursor this server gave in a next link for these parameters")
		}
		req.cursorType, req.cursor = t, cur
	}
	if len(issues) > 0 {
		return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	return req, nil
}

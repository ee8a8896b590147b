package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/policy"
)

func pathID(c *gin.Context) (string, error) {
	id := routeOf(c).ID
	if !fhir.ValidID(id) {
		return "", fhir.Errorf(http.StatusBadRequest, "invalid", "%q is not a valid FHIR id (1-64 letters, digits, '-' or '.')", id)
	}
	return id, nil
}

func (s *Server) read(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := s.store.Read(c.Request.Context(), routeOf(c).Type, id)
	return s.answerRead(c, v, err)
}

func (s *Server) vread(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	vid, err := strconv.ParseInt(routeOf(c).Version, 10, 64)
	if err != nil || vid < 1 {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "version id %q is not a positive integer", routeOf(c).Version)
	}
	v, err := s.store.VRead(c.Request.Context(), routeOf(c).Type, id, vid)
	return s.answerRead(c, v, err)
}

// answerRead answers a read or vread of v (or its error): the policy
// decides, redactions are applied, and the version goes out with its ETag.
func (s *Server) answerRead(c *gin.Context, v *store.Version, err error) error {
	if err != nil {
		return goneWithHeaders(c, v, err)
	}
	body, _, err := accessOf(c).decide(c.Request.Context(), policy.ActionRead, v)
	if err != nil {
		return err
	}
	s.writeVersion(c, http.StatusOK, v, body)
	return nil
}

// goneWithHeaders adds the deletion's ETag to a 410 answer.
func goneWithHeaders(c *gin.Context, v *store.Version, err error) error {
	if errors.Is(err, fhir.ErrGone) && v != nil {
		c.Header("ETag", v.ETag())
		c.Header("Last-Modified", v.LastUpdated.UTC().Format(http.TimeFormat))
	}
	return err
}

func (s *Server) create(c *gin.Context) error {
	if err := accessOf(c).mayWriteAtAll(c.Request.Context(), routeOf(c).Type); err != nil {
		return err
	}
	res, err := s.readResource(c, routeOf(c).Type, "")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.mayWrite(ctx, res, nil); err != nil {
		return err
	}
	if cond := c.GetHeader("If-None-Exist"); cond != "" {
		existing, err := s.conditionalMatch(c, res.Type, cond)
		if err != nil {
			return err
		}
		if existing != nil {
			body, _, err := a.decide(ctx, policy.ActionRead, existing)
			if err != nil {
				return err
			}
			existing.JSON = body
			s.writeWrite(c, http.StatusOK, existing)
			return nil
		}
	}
	res.ID = ""
	v, err := s.store.Create(ctx, res)
	if err != nil {
		return err
	}
	c.Header("Location", s.base(c)+"/"+v.Type+"/"+v.ID+"/_history/"+strconv.FormatInt(v.VersionID, 10))
	s.writeWrite(c, http.StatusCreated, v)
	return nil
}

// conditionalMatch runs an If-None-Exist search: nil when nothing matches,
// the match when one does, 412 when several do.
func (s *Server) conditionalMatch(c *gin.Context, resourceType, cond string) (*store.Version, error) {
	params, err := url.ParseQuery(strings.TrimPrefix(cond, "?"))
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "If-None-Exist must be a search query such as identifier=system|value").At("If-None-Exist")
	}
	q, err := search.Parse(resourceType, params, search.Options{DefaultCount: 2, MaxCount: 2})
	if err != nil {
		return nil, err
	}
	q.Count, q.Total, q.Summary, q.Include, q.RevInclude = 2, "", "", nil, nil
	page, err := s.store.Search(c.Request.Context(), q, accessOf(c).restrict(policy.ActionSearch, q))
	if err != nil {
		return nil, err
	}
	switch len(page.Matches) {
	case 0:
		// A match the caller may not see is still a match: creating
		// another would duplicate it.
		q.Count, q.Cursor = 1, ""
		hidden, err := s.store.Search(c.Request.Context(), q, nil)
		if err != nil {
			return nil, err
		}
		if len(hidden.Matches) > 0 {
			return nil, fhir.Errorf(http.StatusConflict, "conflict",
				"a %s matching the If-None-Exist criteria is already held, and the data sharing policy does not let you see it; nothing was created (ask its owning organisation)", resourceType).At("If-None-Exist")
		}
		return nil, nil
	case 1:
		return page.Matches[0], nil
	}
	return nil, fhir.Errorf(http.StatusPreconditionFailed, "duplicate", "the If-None-Exist criteria match more than one %s; make them more specific", resourceType).At("If-None-Exist")
}

func (s *Server) update(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ifMatch, err := parseIfMatch(c.GetHeader("If-Match"))
	if err != nil {
		return err
	}
	if err := accessOf(c).mayWriteAtAll(c.Request.Context(), routeOf(c).Type); err != nil {
		return err
	}
	res, err := s.readResource(c, routeOf(c).Type, id)
	if err != nil {
		return err
	}
	a := accessOf(c)
	expect := ifMatch
	cur, err := s.store.Read(c.Request.Context(), res.Type, id)
	var changing *store.Version // the version the update replaces; nil: it creates
	switch {
	case err == nil:
		changing = cur
		// Changing a resource needs the right to read and write what is
		// there now, and what is there must still be that when the update
		// lands.
		if err := a.mayChange(c.Request.Context(), cur); err != nil {
			return err
		}
		if expect == 0 {
			expect = cur.VersionID
		}
	case errors.Is(err, fhir.ErrNotFound), errors.Is(err, fhir.ErrGone):
		if expect == 0 {
			expect = store.Absent // a create: nobody else may create it meanwhile
		}
	default:
		return err
	}
	if err := a.mayWrite(c.Request.Context(), res, changing); err != nil {
		return err
	}
	r, err := s.store.Update(c.Request.Context(), res, expect)
	if err != nil {
		return changedMeanwhile(err, ifMatch)
	}
	status := http.StatusOK
	if r.Created {
		status = http.StatusCreated
		c.Header("Location", s.base(c)+"/"+r.Version.Type+"/"+r.Version.ID+"/_history/"+strconv.FormatInt(r.Version.VersionID, 10))
	}
	s.writeWrite(c, status, r.Version)
	return nil
}

func (s *Server) delete(c *gin.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ifMatch, err := parseIfMatch(c.GetHeader("If-Match"))
	if err != nil {
		return err
	}
	cur, err := s.store.Read(c.Request.Context(), routeOf(c).Type, id)
	if err != nil && !errors.Is(err, fhir.ErrGone) {
		return err
	}
	expect := ifMatch
	if err == nil {
		if err := accessOf(c).mayChange(c.Request.Context(), cur); err != nil {
			return err
		}
		if expect == 0 {
			expect = cur.VersionID // what was decided on must be what is deleted
		}
	}
	v, err := s.store.Delete(c.Request.Context(), routeOf(c).Type, id, expect)
	if err != nil {
		return changedMeanwhile(err, ifMatch)
	}
	c.Header("ETag", v.ETag())
	c.Status(http.StatusNoContent)
	c.Writer.WriteHeaderNow()
	return nil
}

// changedMeanwhile turns a version conflict the client did not ask about
// (no If-Match: the gateway pinned the version it checked the policy on)
// into a 409 that says to retry; a conflict with the client's own If-Match
// stays a 412.
func changedMeanwhile(err error, ifMatch int64) error {
	if ifMatch == 0 && errors.Is(err, fhir.ErrVersionConflict) {
		return fhir.Errorf(http.StatusConflict, "conflict", "the resource was changed by another client while this request was being checked; retry")
	}
	return err
}

// parseIfMatch accepts W/"3" or "3"; empty means no precondition.
func parseIfMatch(h string) (int64, error) {
	if h == "" {
		return 0, nil
	}
	t := strings.TrimPrefix(strings.TrimSpace(h), "W/")
	t = strings.Trim(t, `"`)
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 1 {
		return 0, fhir.Errorf(http.StatusBadRequest, "invalid", `If-Match must be a version ETag such as W/"3"`).At("If-Match")
	}
	return v, nil
}

// readResource reads and validates a request body as a resource of
// resourceType; id, when set, must equal the body's id.
func (s *Server) readResource(c *gin.Context, resourceType, id string) (*fhir.Resource, error) {
	if err := requireJSONBody(c); err != nil {
		return nil, err
	}
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	return checkResource(body, resourceType, id)
}

func checkResource(body []byte, resourceType, id string) (*fhir.Resource, error) {
	res, err := validate.Resource(body)
	if err != nil {
		return nil, withShareProblems(err, body)
	}
	if issues := facts.CheckShare(res.Type, res.Object); len(issues) > 0 {
		return nil, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: issues}
	}
	if res.Type != resourceType {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "the body is a %s but the URL is for %s", res.Type, resourceType).At("resourceType")
	}
	if id != "" && res.ID == "" {
		return nil, fhir.Errorf(http.StatusBadRequest, "required", "an update must carry the resource id %q in the body", id).At(resourceType + ".id")
	}
	if id != "" && res.ID != id {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "the body's id %q does not match the id %q in the URL", res.ID, id).At(resourceType + ".id")
	}
	return res, nil
}

// withShareProblems adds to a 422 from the R4 validator the problems
// facts.CheckShare finds in the same body, so that a consent to share
// with both kinds of problem is refused once, naming all of them.
func withShareProblems(err error, body []byte) error {
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity {
		return err
	}
	obj, derr := fhir.DecodeObject(body)
	if derr != nil {
		return err
	}
	typ, _ := obj["resourceType"].(string)
	more := facts.CheckShare(typ, obj)
	if len(more) == 0 {
		return err
	}
	return &fhir.Error{Status: fe.Status, Issues: append(slices.Clone(fe.Issues), more...)}
}

func (s *Server) writeVersion(c *gin.Context, status int, v *store.Version, body []byte) {
	c.Header("ETag", v.ETag())
	c.Header("Last-Modified", v.LastUpdated.UTC().Format(http.TimeFormat))
	if elems := c.Query("_elements"); elems != "" {
		body = fhir.Elements(body, strings.Split(elems, ","))
	}
	writeBody(c, status, body)
}

// writeWrite answers a create or update according to Prefer: return=.
func (s *Server) writeWrite(c *gin.Context, status int, v *store.Version) {
	c.Header("ETag", v.ETag())
	c.Header("Last-Modified", v.LastUpdated.UTC().Format(http.TimeFormat))
	switch preferReturn(c) {
	case "minimal":
		c.Status(status)
		c.Writer.WriteHeaderNow()
	case "OperationOutcome":
		writeJSON(c, status, fhir.Outcome(fhir.Issue{Severity: "information", Code: "informational",
			Diagnostics: "stored " + v.Type + "/" + v.ID + " version " + strconv.FormatInt(v.VersionID, 10)}))
	default:
		writeBody(c, status, v.JSON)
	}
}

// prefer returns the value of one Prefer token (return, handling).
func prefer(c *gin.Context, key string) string {
	for _, h := range c.Request.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ";") {
			for _, p := range strings.Split(part, ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(k, key) {
					return strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
		}
	}
	return ""
}

func preferReturn(c *gin.Context) string { return prefer(c, "return") }

// base is the public base URL of the FHIR API.
func (s *Server) base(c *gin.Context) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// search answers GET /{type}?... and POST /{type}/_search (form body).
func (s *Server) search(c *gin.Context) error {
	typ := routeOf(c).Type
	params, err := searchParams(c)
	if err != nil {
		return err
	}
	lenient := strings.EqualFold(prefer(c, "handling"), "lenient")
	q, err := search.Parse(typ, params, search.Options{Lenient: lenient, DefaultCount: s.cfg.DefaultCount, MaxCount: s.cfg.MaxCount})
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := includeRefusal(a.id, q); err != nil {
		a.refuseByScope(c, err)
		return nil
	}
	page, err := s.store.Search(ctx, q, a.restrict(policy.ActionSearch, q))
	if err != nil {
		return err
	}
	// Defence in depth: the filter already ran in the database; each
	// resource is still decided, and redacted, one by one.
	if page.Matches, err = a.decidePage(ctx, policy.ActionSearch, page.Matches); err != nil {
		return err
	}
	if page.Included, err = a.decidePage(ctx, policy.ActionSearch, page.Included); err != nil {
		return err
	}
	base := s.base(c)
	b := newBundle("searchset")
	b.Total = page.Total
	self := base + "/" + typ
	b.addLink("self", self, q.Self, q.Cursor)
	b.addLink("next", self, q.Self, page.Next)
	b.addLink("previous", self, q.Self, page.Prev)
	for _, v := range page.Matches {
		body := v.JSON
		if len(q.Elements) > 0 {
			body = fhir.Elements(body, q.Elements)
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/" + v.Type + "/" + v.ID, Resource: body, Search: &entrySearch{Mode: "match"}})
	}
	for _, v := range page.Included {
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/" + v.Type + "/" + v.ID, Resource: v.JSON, Search: &entrySearch{Mode: "include"}})
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

// searchParams are the query parameters, plus for POST _search the
// form-encoded body.
func searchParams(c *gin.Context) (url.Values, error) {
	params, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "the query string is not well formed: %s", queryError(err))
	}
	if c.Request.Method != http.MethodPost {
		return params, nil
	}
	ct := c.GetHeader("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "POST _search takes its parameters as application/x-www-form-urlencoded")
	}
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "the form body is not well formed: %s", queryError(err))
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	trailOf(c).query = params.Encode() // the audit record holds what was asked, body included
	return params, nil
}

// queryError describes a url parse error without echoing the value.
func queryError(err error) string {
	var esc url.EscapeError
	if errors.As(err, &esc) {
		return "a percent-escape is invalid"
	}
	return "it could not be decoded"
}

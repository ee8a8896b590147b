package gateway

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
)

func (s *Server) routes() {
	e := s.engine
	e.HandleMethodNotAllowed = false
	e.Use(withRequestID(), logRequests(s.logger), renderErrors(s.logger), recoverPanics(s.logger))
	e.GET("/healthz", func(c *gin.Context) { writeJSON(c, http.StatusOK, map[string]string{"status": "alive"}) })
	e.GET("/readyz", s.readyz)

	api := []gin.HandlerFunc{withTimeout(s.cfg.RequestTimeout), limitBody(s.cfg.MaxBodyBytes), negotiate()}
	e.GET("/metadata", append(api, s.capabilities)...)
	s.smartRoutes(e)
	s.socialCareRoutes(e, api)
	e.NoRoute(slices.Concat([]gin.HandlerFunc{s.auditResponses}, api, []gin.HandlerFunc{s.authenticate, s.dispatch})...)
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		_ = c.Error(err)
		return
	}
	writeJSON(c, http.StatusOK, map[string]string{"status": "ready"})
}

// dispatch routes the FHIR REST paths:
//
//	/                         POST batch
//	/{type}                   GET search, POST create
//	/{type}/_search           POST search
//	/{type}/_history          GET type history
//	/{type}/{id}              GET read, PUT update, DELETE delete
//	/{type}/{id}/_history     GET instance history
//	/{type}/{id}/_history/{v} GET vread
//	/Patient/$summary, /Patient/{id}/$summary, /Patient/{id}/$who-accessed  GET operations
func (s *Server) dispatch(c *gin.Context) {
	path := strings.Trim(c.Request.URL.Path, "/")
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	m := c.Request.Method
	if len(segs) == 0 {
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodPost: s.batch})
		return
	}
	trailOf(c).resourceType = segs[0]
	typ := segs[0]
	if typ == "AuditEvent" {
		s.auditDispatch(c, segs)
		return
	}
	if typ == "policy" {
		s.policyDispatch(c, segs)
		return
	}
	if typ == "Patient" && len(segs) == 3 && segs[2] == "$who-accessed" {
		s.routeOp(c, m, http.MethodGet, "operation", "$who-accessed", s.whoAccessed)
		return
	}
	if typ == "$data-quality" && len(segs) == 1 || typ == "Patient" && len(segs) == 3 && segs[2] == "$data-quality" {
		s.routeOp(c, m, http.MethodGet, "operation", "$data-quality", s.dataQuality)
		return
	}
	if typ == "Patient" && len(segs) == 3 && segs[2] == "$everything" {
		s.routeOp(c, m, http.MethodGet, "operation", "$everything", s.everything)
		return
	}
	if typ == "Patient" && (len(segs) == 2 && segs[1] == "$summary" || len(segs) == 3 && segs[2] == "$summary") {
		s.routeOp(c, m, http.MethodGet, "operation", "$summary", s.patientSummary)
		return
	}
	if !fhir.Supported(typ) {
		_ = c.Error(fhir.Errorf(http.StatusNotFound, "not-supported", "%q is not a resource type this server supports; see /metadata for the list", typ))
		return
	}
	switch {
	case len(segs) == 1:
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodGet: s.search, http.MethodPost: s.create})
	case len(segs) == 2 && segs[1] == "_search":
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodPost: s.search})
	case len(segs) == 2 && segs[1] == "_history":
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodGet: s.history})
	case len(segs) == 2:
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodGet: s.read, http.MethodPut: s.update, http.MethodDelete: s.delete})
	case len(segs) == 3 && segs[2] == "_history":
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodGet: s.history})
	case len(segs) == 4 && segs[2] == "_history":
		s.route(c, m, map[string]gin.HandlerFunc{http.MethodGet: s.vread})
	default:
		_ = c.Error(fhir.Errorf(http.StatusNotFound, "not-found", "no FHIR interaction is served at this path"))
	}
}

func (s *Server) route(c *gin.Context, method string, handlers map[string]gin.HandlerFunc) {
	if h, ok := handlers[method]; ok {
		trailOf(c).interaction = interactionOf(c, method)
		h(c)
		return
	}
	allowed := make([]string, 0, len(handlers))
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := handlers[m]; ok {
			allowed = append(allowed, m)
		}
	}
	c.Header("Allow", strings.Join(allowed, ", "))
	_ = c.Error(fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "%s is not allowed here; allowed: %s", method, strings.Join(allowed, ", ")))
}

// segment returns the i-th path segment.
func segment(c *gin.Context, i int) string {
	segs := strings.Split(strings.Trim(c.Request.URL.Path, "/"), "/")
	if i < len(segs) {
		return segs[i]
	}
	return ""
}

// interactionOf names the FHIR restful interaction of a routed request,
// for the audit record.
func interactionOf(c *gin.Context, method string) string {
	path := strings.Trim(c.Request.URL.Path, "/")
	n := 0
	if path != "" {
		n = strings.Count(path, "/") + 1
	}
	switch {
	case n == 0:
		return "batch"
	case n == 1 && method == http.MethodGet, n == 2 && segment(c, 1) == "_search":
		return "search-type"
	case n == 1:
		return "create"
	case n == 2 && segment(c, 1) == "_history":
		return "history-type"
	case n == 2 && method == http.MethodGet:
		return "read"
	case n == 2 && method == http.MethodPut:
		return "update"
	case n == 2:
		return "delete"
	case n == 3:
		return "history-instance"
	}
	return "vread"
}

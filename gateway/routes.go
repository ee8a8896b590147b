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
	e.GET("/readyz", endpoint(s.readyz))

	api := []gin.HandlerFunc{withTimeout(s.cfg.RequestTimeout), limitBody(s.cfg.MaxBodyBytes), negotiate()}
	e.GET("/metadata", append(api, s.capabilities)...)
	e.GET("/rights", append(api, endpoint(s.rightsPage))...) // public, like /metadata (agreement.go)
	s.smartRoutes(e)
	s.socialCareRoutes(e, api)
	s.workbenchRoutes(e)
	e.NoRoute(slices.Concat([]gin.HandlerFunc{s.auditResponses}, api, []gin.HandlerFunc{s.authenticate, s.dispatch})...)
}

func (s *Server) readyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// dispatch runs the handler of the request's route:
//
//	/                            POST batch
//	/{type}                      GET search, POST create
//	/{type}/_search              POST search
//	/{type}/_history             GET type history
//	/{type}/{id}                 GET read, PUT update, DELETE delete
//	/{type}/{id}/_history        GET instance history
//	/{type}/{id}/_history/{v}    GET vread
//	/$data-quality               GET the data-quality report
//	/$data-quality-snapshot, /$data-quality-trend   its counts over time (qualityTrendHandlers)
//	/Patient/$summary, /Patient/{id}/$summary, /Patient/{id}/$everything,
//	/Patient/{id}/$who-accessed, /Patient/{id}/$data-quality   GET operations
//	/Patient/{id}/$subject-access, /Task...  rights requests (rightsHandlers)
//	/AuditEvent...               the audit trail (auditHandlers)
//	/policy/versions...          the access policy's versions (policyHandlers)
//	/AuditEvent/{id}/$explain, /policy/$explain, /policy/agreement
//	                             decisions explained, the agreement (explainHandlers)
//	/$disposal-due, /$disposal..., /$legal-hold..., /$retention-extend
//	                             retention and disposal (retentionHandlers)
//	/$case-file-checklist, /$case-file-sample..., /$case-file-review/{task}
//	                             case-file audit sampling (caseFileHandlers)
//	/$export, /Patient/$export, /$export-status/{job}, /$export-file/{job}/{file}
//	                             Bulk Data export (exportHandlers)
//
// A method the route does not serve is a 405 naming those it does.
func (s *Server) dispatch(c *gin.Context) {
	rt := routeOf(c)
	hs, err := s.handlersFor(rt)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h, ok := hs[c.Request.Method]
	if !ok {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			if _, ok := hs[m]; ok {
				allowed = append(allowed, m)
			}
		}
		c.Header("Allow", strings.Join(allowed, ", "))
		if rt.Type == "AuditEvent" {
			_ = c.Error(fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "the audit trail is append-only: AuditEvents can be read and searched, never written, changed or deleted"))
			return
		}
		_ = c.Error(fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "%s is not allowed here; allowed: %s", c.Request.Method, strings.Join(allowed, ", ")))
		return
	}
	endpoint(h)(c)
}

// handlersFor are the handlers of a route, by method.
func (s *Server) handlersFor(rt *route) (map[string]handler, error) {
	get := func(h handler) map[string]handler { return map[string]handler{http.MethodGet: h} }
	if hs, ok := s.exportHandlers(rt); ok {
		return hs, nil
	}
	if hs, ok := s.rightsHandlers(rt); ok {
		return hs, nil
	}
	if hs, ok := s.explainHandlers(rt); ok {
		return hs, nil
	}
	if hs, ok := s.policyHandlers(rt); ok {
		return hs, nil
	}
	if hs, ok := s.retentionHandlers(rt); ok {
		return hs, nil
	}
	if hs, ok := s.caseFileHandlers(rt); ok {
		return hs, nil
	}
	if hs, ok := s.qualityTrendHandlers(rt); ok {
		return hs, nil
	}
	switch {
	case rt.shape == "/":
		return map[string]handler{http.MethodPost: s.batch}, nil
	case rt.shape == "/$op" && rt.Operation == "$data-quality":
		return get(s.dataQuality), nil
	case rt.Type == "AuditEvent":
		return s.auditHandlers(rt), nil
	case rt.Type == "Patient" && rt.shape == "/{type}/{id}/$op":
		switch rt.Operation {
		case "$who-accessed":
			return get(s.whoAccessed), nil
		case "$everything":
			return get(s.everything), nil
		case "$summary":
			return get(s.patientSummary), nil
		case "$data-quality":
			return get(s.dataQuality), nil
		case "$subject-access":
			return get(s.subjectAccess), nil
		}
	case rt.Type == "Patient" && rt.shape == "/{type}/$op" && rt.Operation == "$summary":
		return get(s.patientSummary), nil
	}
	if rt.shape != "/$op" && rt.Type == "" {
		return nil, fhir.Errorf(http.StatusNotFound, "not-supported", "%q is not a resource type this server supports; see /metadata for the list", rt.name)
	}
	switch rt.shape {
	case "/{type}":
		return map[string]handler{http.MethodGet: s.search, http.MethodPost: s.create}, nil
	case "/{type}/_search":
		return map[string]handler{http.MethodPost: s.search}, nil
	case "/{type}/_history", "/{type}/{id}/_history":
		return get(s.history), nil
	case "/{type}/{id}":
		return map[string]handler{http.MethodGet: s.read, http.MethodPut: s.update, http.MethodDelete: s.delete}, nil
	case "/{type}/{id}/_history/{vid}":
		return get(s.vread), nil
	}
	return nil, fhir.Errorf(http.StatusNotFound, "not-found", "no FHIR interaction is served at this path")
}

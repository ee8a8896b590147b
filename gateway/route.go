package gateway

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir"
)

// A route is what a request's method and path name, parsed once when the
// request reaches the API (auditResponses): the dispatcher picks the
// handler by it, handlers read their type, id and version from it, and the
// request log and the audit record describe the request by it.
type route struct {
	// Type is the resource type the path names when this server serves
	// it ("" at the root, for the whole record, or for a type it does
	// not serve: see name).
	Type    string
	ID      string // the logical id, or a job id for $import-status
	Version string // the version id of a vread
	File    string // the file name of a Bulk Data export download
	// Operation is the "$" operation the path names ("$everything",
	// "$import"...), "" for a RESTful interaction.
	Operation string
	// Interaction is the FHIR interaction (read, vread, update, delete,
	// create, search-type, history-type, history-instance, batch),
	// "operation", "ingest" for a social care record, or "" for a path
	// or method nothing is served at.
	Interaction string
	// shape is the path with its variable parts named, e.g.
	// "/{type}/{id}/_history/{vid}" (logged instead of the path, which
	// holds ids).
	shape string
	// name is the first path segment as sent (the type, when it is one).
	name string
}

const routeKey = "gateway.route"

// routeOf is the request's route, parsed on first use.
func routeOf(c *gin.Context) *route {
	if v, ok := c.Get(routeKey); ok {
		return v.(*route)
	}
	rt := parseRoute(c.Request.Method, c.Request.URL.Path)
	c.Set(routeKey, rt)
	return rt
}

// parseRoute reads the API path of a request.
func parseRoute(method, path string) *route {
	var segs []string
	if p := strings.Trim(path, "/"); p != "" {
		segs = strings.Split(p, "/")
	}
	rt := &route{}
	if len(segs) == 0 {
		rt.shape = "/"
		if method == http.MethodPost {
			rt.Interaction = "batch"
		}
		return rt
	}
	if segs[0] == "social-care" {
		return parseSocialCareRoute(method, segs[1:])
	}
	if segs[0] == "policy" {
		return parsePolicyRoute(method, segs[1:])
	}
	rt.name = segs[0]
	if strings.HasPrefix(segs[0], "$") {
		rt.Operation, rt.Interaction = segs[0], "operation"
		switch len(segs) {
		case 1:
			rt.shape = "/$op"
		case 2:
			rt.shape, rt.ID = "/$op/{id}", segs[1]
		case 3:
			rt.shape, rt.ID, rt.File = "/$op/{id}/{file}", segs[1], segs[2]
		default:
			rt.shape = "/$op/..."
		}
		if rt.Operation == "$export-file" {
			// The audit trail names a download of an export's file so.
			rt.Operation = opExportDownload
		}
		// Retention (retention.go): a disposal's approval and certificate,
		// a hold's lifting, are operations of their own.
		switch {
		case rt.Operation == opDisposal && rt.shape == "/$op/{id}":
			rt.Operation = opDisposalCertificate
		case rt.Operation == opDisposal && rt.File == "$approve":
			rt.Operation = opDisposalApprove
		case rt.Operation == opLegalHold && rt.File == "$lift":
			rt.Operation = opLegalHoldLift
		}
		return rt
	}
	if fhir.Supported(segs[0]) {
		rt.Type = segs[0]
	}
	op := func(shape, name string) *route {
		rt.shape, rt.Operation, rt.Interaction = shape, name, "operation"
		return rt
	}
	switch {
	case len(segs) == 1:
		rt.shape = "/{type}"
		switch method {
		case http.MethodGet:
			rt.Interaction = "search-type"
		case http.MethodPost:
			rt.Interaction = "create"
		}
	case len(segs) == 2 && segs[1] == "_search":
		rt.shape, rt.Interaction = "/{type}/_search", "search-type"
	case len(segs) == 2 && segs[1] == "_history":
		rt.shape, rt.Interaction = "/{type}/_history", "history-type"
	case len(segs) == 2 && strings.HasPrefix(segs[1], "$"):
		return op("/{type}/$op", segs[1])
	case len(segs) == 2:
		rt.shape, rt.ID = "/{type}/{id}", segs[1]
		switch method {
		case http.MethodGet:
			rt.Interaction = "read"
		case http.MethodPut:
			rt.Interaction = "update"
		case http.MethodDelete:
			rt.Interaction = "delete"
		}
	case len(segs) == 3 && segs[2] == "_history":
		rt.shape, rt.ID, rt.Interaction = "/{type}/{id}/_history", segs[1], "history-instance"
	case len(segs) == 3 && segs[0] == "AuditEvent" && segs[2] == "$review":
		// The audit trail names a break-glass review by its own operation.
		rt.ID = segs[1]
		return op("/{type}/{id}/$op", audit.OperationReview)
	case len(segs) == 3 && strings.HasPrefix(segs[2], "$"):
		rt.ID = segs[1]
		return op("/{type}/{id}/$op", segs[2])
	case len(segs) == 4 && segs[2] == "_history":
		rt.shape, rt.ID, rt.Version, rt.Interaction = "/{type}/{id}/_history/{vid}", segs[1], segs[3], "vread"
	default:
		rt.shape = "/{type}/..."
	}
	return rt
}

// parseSocialCareRoute reads the paths under /social-care.
func parseSocialCareRoute(method string, segs []string) *route {
	rt := &route{name: "social-care"}
	switch {
	case len(segs) == 1 && segs[0] == "records":
		rt.shape, rt.Interaction = "/social-care/records", "ingest"
	case len(segs) == 1 && segs[0] == "$import":
		rt.shape, rt.Operation, rt.Interaction = "/social-care/$import", "$import", "operation"
	case len(segs) == 2 && segs[0] == "$import-status":
		rt.shape, rt.Operation, rt.Interaction, rt.ID = "/social-care/$import-status/{job}", "$import-status", "operation", segs[1]
	default:
		rt.shape = "/social-care/..."
	}
	return rt
}

// parsePolicyRoute reads the policy version paths (policyapi.go).
func parsePolicyRoute(method string, segs []string) *route {
	rt := &route{name: "policy", Interaction: "operation"}
	switch {
	case len(segs) == 1 && segs[0] == "versions":
		rt.shape, rt.Operation = "/policy/versions", "$policy-list"
		if method == http.MethodPost {
			rt.Operation = "$policy-propose"
		}
	case len(segs) == 2 && segs[0] == "versions":
		rt.shape, rt.ID, rt.Operation = "/policy/versions/{id}", segs[1], "$policy-read"
	case len(segs) == 3 && segs[0] == "versions" && strings.HasPrefix(segs[2], "$"):
		rt.shape, rt.ID, rt.Operation = "/policy/versions/{id}/$op", segs[1], "$policy-"+segs[2][1:]
	case len(segs) == 1 && segs[0] == "$explain":
		rt.shape, rt.Operation = "/policy/$explain", "$policy-explain"
	case len(segs) == 1 && segs[0] == "agreement":
		rt.shape, rt.Operation = "/policy/agreement", "$policy-agreement"
	default:
		rt.shape, rt.Interaction = "/policy/...", ""
	}
	return rt
}

// A handler serves one routed request. An error it returns is rendered
// as an OperationOutcome after the request's audit record is written
// (auditResponses: panics included); a handler writes only successful
// answers.
type handler func(c *gin.Context) error

// endpoint runs a handler as a gin handler.
func endpoint(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			_ = c.Error(err)
			c.Abort()
		}
	}
}

package gateway

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
)

// Auditor records one audit entry per interaction and returns once it is
// durable.
type Auditor interface {
	Record(ctx context.Context, e audit.Entry) (string, error)
}

// expecter is an Auditor that writes requests' records together better
// when told at the start of each that its record is coming (audit.Log).
type expecter interface {
	Expect(ctx context.Context) (context.Context, func())
}

const trailKey = "gateway.trail"

// trail is what a request did, gathered by the handlers for its audit
// record.
type trail struct {
	// resourceType, when set, is the type the audit record names instead
	// of the route's (an export file's resources).
	resourceType                    string
	patients, resources, categories []string
	// allowed / refused decisions seen; the interaction is refused if any
	// decision that mattered refused it.
	refused     bool
	reasons     []string
	obligations []string
	revision    string
	// query is a search's parameters when they are not all in the URL
	// (POST _search); else the URL's query is recorded.
	query string
	// counts are resources by type handed over without being listed (a
	// bulk export's manifest and files).
	counts map[string]int
	// bulk marks the trail of an export's background run: its decisions
	// are neither listed nor kept (a run decides every resource of the
	// export; its manifest and downloads are audited with counts and
	// patients instead).
	bulk bool
	// decided are the decisions' inputs, for replay (decided.go).
	decided decidedInputs
	// destruction, on an approved disposal, makes the record its
	// destruction record (retention.go).
	destruction *audit.Destruction
}

func trailOf(c *gin.Context) *trail {
	if t, ok := c.Get(trailKey); ok {
		return t.(*trail)
	}
	t := &trail{}
	c.Set(trailKey, t)
	return t
}

// noteResource adds a resource an answer shows (and its patient) to the
// trail, for answers that read more than they show.
func (t *trail) noteResource(typ, id, patient string) {
	t.resources = appendNew(t.resources, typ+"/"+id)
	if patient != "" {
		t.patients = appendNew(t.patients, patient)
	}
}

// noteDecision adds a policy decision about one resource to the trail.
func (t *trail) noteDecision(typ, id string, attrs policy.ResourceAttributes, d policy.Decision) {
	if t.bulk {
		return
	}
	t.revision = d.Revision
	t.reasons = appendNew(t.reasons, d.Reasons...)
	if d.Allow {
		t.obligations = appendNew(t.obligations, d.Obligations...)
	} else {
		t.refused = true // a refused attempt still names what it was after
	}
	if id != "" {
		t.resources = appendNew(t.resources, typ+"/"+id)
	}
	if attrs.Patient != "" {
		t.patients = appendNew(t.patients, attrs.Patient)
	}
	t.categories = appendNew(t.categories, attrs.Categories...)
}

func appendNew(dst []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

// auditResponses holds every API response until its audit record is
// durable: if the record cannot be written, the data is not returned and
// the client gets 503. The handlers' output is buffered for that.
func (s *Server) auditResponses(c *gin.Context) {
	// The route is parsed once, here: a request refused before it is
	// dispatched (401, 413...) is audited by it too.
	routeOf(c)
	if ex, ok := s.cfg.Audit.(expecter); ok {
		ctx, done := ex.Expect(c.Request.Context())
		defer done()
		c.Request = c.Request.WithContext(ctx)
	}
	buf := &bufferedWriter{ResponseWriter: c.Writer, status: http.StatusOK}
	c.Writer = buf
	s.nextRecovering(c, buf)
	renderError(c, s.logger)
	c.Writer = buf.ResponseWriter
	// The request's own deadline has passed by now (or the client left):
	// the record is written regardless, bounded by the audit log's own
	// write timeout.
	ctx := context.WithoutCancel(c.Request.Context())
	if _, err := s.cfg.Audit.Record(ctx, s.entry(c, buf.status)); err != nil {
		s.logger.Error("audit record not written; response withheld", "request_id", requestID(c), "error", err.Error())
		fe := toFHIRError(fmt.Errorf("%w: audit trail: %w", fhir.ErrUnavailable, err), requestID(c))
		fe.Issues[0].Diagnostics = "the access could not be recorded in the audit trail, so nothing is returned; retry after " + retryAfterSeconds + " seconds"
		for k := range c.Writer.Header() {
			if k != "X-Request-Id" {
				c.Writer.Header().Del(k)
			}
		}
		writeOutcome(c, fe)
		return
	}
	buf.flush()
}

// nextRecovering runs the rest of the request's handlers. A panic among
// them becomes a 500 OperationOutcome that reveals nothing (what was
// written before it is dropped), logged with the request id, audited and
// sent like any other error: nothing reaches the client without its audit
// record.
func (s *Server) nextRecovering(c *gin.Context, buf *bufferedWriter) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			panic(r)
		}
		s.logger.Error("panic", "request_id", requestID(c), "panic", fmt.Sprint(r))
		buf.reset()
		c.Errors = c.Errors[:0]
		_ = c.Error(errors.New("panic"))
		c.Abort()
	}()
	c.Next()
}

// entry builds the audit entry of a finished request.
func (s *Server) entry(c *gin.Context, status int) audit.Entry {
	t := trailOf(c)
	rt := routeOf(c)
	e := audit.Entry{
		RequestID:    requestID(c),
		Interaction:  rt.Interaction,
		Operation:    rt.Operation,
		ResourceType: cmp.Or(t.resourceType, rt.Type),
		HTTPStatus:   status,
		Patients:     t.patients,
		Resources:    t.resources,
		Categories:   t.categories,
		Counts:       t.counts,
		Decision: audit.Decision{Allowed: !t.refused && status != http.StatusUnauthorized && status != http.StatusForbidden,
			Reasons: t.reasons, Revision: t.revision, Obligations: t.obligations},
		Decided: t.decided.list, DecidedOmitted: t.decided.omitted,
		Destruction: t.destruction,
	}
	if e.Interaction == "" {
		e.Interaction = "operation"
		e.Operation = "$unknown"
	}
	if strings.HasPrefix(e.Interaction, "search") {
		e.Query = c.Request.URL.RawQuery
	}
	if t.query != "" {
		e.Query = t.query // POST _search and $export: the body's parameters too
	}
	// The connection's peer, never a forwarding header a client could
	// write itself.
	network := ""
	if host, _, err := net.SplitHostPort(c.Request.RemoteAddr); err == nil {
		network = host
	}
	if id, ok := auth.FromContext(c.Request.Context()); ok {
		e.Agent = audit.Agent{Kind: id.Kind, Subject: id.Subject, Org: id.Org, Role: id.Role, Purpose: id.Purpose,
			BreakGlassReason: id.BreakGlassReason}
		if id.Kind == auth.KindSystem {
			e.Agent.ClientID = id.Subject
		}
		if a, ok := c.Get(accessKey); ok && id.Kind == auth.KindPerson {
			e.Agent.Patient = a.(*access).selfPatient()
		}
	}
	e.Agent.Network = network
	return e
}

// bufferedWriter keeps a response in memory until the audit record is
// written.
type bufferedWriter struct {
	gin.ResponseWriter
	status  int
	written bool
	header  http.Header
	body    bytes.Buffer
}

func (w *bufferedWriter) WriteHeader(code int) {
	if !w.written {
		w.status = code
	}
}

func (w *bufferedWriter) WriteHeaderNow() { w.written = true }

func (w *bufferedWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.body.Write(b)
}

func (w *bufferedWriter) WriteString(s string) (int, error) {
	w.written = true
	return w.body.WriteString(s)
}

func (w *bufferedWriter) Status() int   { return w.status }
func (w *bufferedWriter) Size() int     { return w.body.Len() }
func (w *bufferedWriter) Written() bool { return w.written }

func (w *bufferedWriter) Header() http.Header {
	if w.header == nil {
		w.header = w.ResponseWriter.Header()
	}
	return w.header
}

// Unwrap gives http.ResponseController the connection's writer (for read
// deadlines).
func (w *bufferedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// reset drops what was written, and every header but the request id.
func (w *bufferedWriter) reset() {
	w.body.Reset()
	w.written, w.status = false, http.StatusOK
	for k := range w.Header() {
		if k != "X-Request-Id" {
			w.Header().Del(k)
		}
	}
}

func (w *bufferedWriter) flush() {
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.WriteHeaderNow()
	_, _ = w.ResponseWriter.Write(w.body.Bytes())
}

// refuseAudit stands in when the gateway was built without an audit
// trail: every API response is withheld (security by default).
type refuseAudit struct{}

func (refuseAudit) Record(context.Context, audit.Entry) (string, error) {
	return "", errors.New("no audit trail is configured")
}

package gateway

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
)

// Explanations of decisions and the agreement in plain words:
//
//	GET  /AuditEvent/{id}/$explain[?revision=active]  an audited decision explained again (AUDIT-8-ig-review)
//	POST /policy/$explain[?revision=ID]               a hypothetical input explained (POLICY-10-manage)
//	GET  /policy/agreement                            the data sharing agreement in plain words (POLICY-10-manage)
//	GET  /rights                                      the people's rights page, public (agreement.go)
//
// Each answers JSON, or a readable page with _format=html or Accept:
// text/html.
func (s *Server) explainHandlers(rt *route) (map[string]handler, bool) {
	switch {
	case rt.Type == "AuditEvent" && rt.shape == "/{type}/{id}/$op" && rt.Operation == opExplain:
		return map[string]handler{http.MethodGet: s.auditExplain}, true
	case rt.shape == "/policy/$explain":
		return map[string]handler{http.MethodPost: s.policyExplain}, true
	case rt.shape == "/policy/agreement":
		return map[string]handler{http.MethodGet: s.policyAgreement}, true
	}
	return nil, false
}

const opExplain = "$explain"

//go:embed templates/*.html
var templateFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"join":  strings.Join,
	"inc":   func(i int) int { return i + 1 },
	"words": andList,
}).ParseFS(templateFiles, "templates/*.html"))

// writePage answers v as JSON, or as the page named (with v as its data)
// when the caller asked for HTML.
func writePage(c *gin.Context, html bool, page string, v any) error {
	if !html {
		writeJSON(c, http.StatusOK, v)
		return nil
	}
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, page, v); err != nil {
		return err
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
	return nil
}

// decisionRecords reads an audit record's decision inputs (*audit.Log).
type decisionRecords interface {
	DecisionRecord(ctx context.Context, id string) (*audit.DecisionRecord, error)
}

var _ decisionRecords = (*audit.Log)(nil)

// recordExplanation is an audited decision explained, with a note when it
// could not be explained under the revision that made it.
type recordExplanation struct {
	*versions.RecordExplanation
	Note string `json:"note,omitempty"`
}

// auditExplain explains an audited interaction's decisions again, from
// the decision inputs its record carries, under the revision that made
// them (or, with revision=active, the version in force now).
func (s *Server) auditExplain(c *gin.Context) error {
	lg, err := s.auditForIG(c)
	if err != nil {
		return err
	}
	dr, ok := lg.(decisionRecords)
	if !ok {
		return fhir.Errorf(http.StatusNotImplemented, "not-supported", "this gateway's audit trail cannot be replayed")
	}
	ctx, id := c.Request.Context(), routeOf(c).ID
	trailOf(c).resources = appendNew(trailOf(c).resources, "AuditEvent/"+id)
	rec, err := dr.DecisionRecord(ctx, id)
	if err != nil {
		return err
	}
	active := accessOf(c).engine
	out := recordExplanation{}
	var e *policy.Engine
	under := versions.UnderRecorded
	switch rev := c.Query("revision"); rev {
	case "active":
		e, under = active, versions.UnderActive
	case "", "recorded":
		if e, out.Note, err = s.recordedEngine(ctx, rec.Revision, active); err != nil {
			return err
		}
		if e != active || rec.Revision == active.Revision() {
			break
		}
		under = versions.UnderActive
	default:
		return fhir.Errorf(http.StatusBadRequest, "invalid", "revision takes recorded (the default: the revision that made the decision) or active (the version in force now)").At("revision")
	}
	out.RecordExplanation, err = versions.ExplainRecord(ctx, e, under, rec)
	if errors.Is(err, versions.ErrNotReplayable) {
		return fhir.Errorf(http.StatusUnprocessableEntity, "processing",
			"audit record %s cannot be replayed: %v. GET /AuditEvent/%s shows what it recorded (who, what, the decision and its reasons); POST /policy/$explain explains a decision input you give", id, err, id)
	}
	if err != nil {
		return err
	}
	return writePage(c, wantsHTML(c), "explain-record.html", out)
}

// recordedEngine is the engine of revision: the active one when it is
// that revision, else the stored version's (loaded once). Without it, the
// active engine and a note saying why.
func (s *Server) recordedEngine(ctx context.Context, revision string, active *policy.Engine) (*policy.Engine, string, error) {
	if revision == "" || revision == active.Revision() {
		if revision == "" {
			return active, "the audit record names no policy revision; explained under the active version", nil
		}
		return active, "", nil
	}
	if s.cfg.PolicyVersions == nil {
		return active, "this gateway keeps no policy versions, so revision " + revision + " is not available; explained under the active version", nil
	}
	e, err := s.engines.load(ctx, s.cfg.PolicyVersions, versions.IDOf(revision))
	if errors.Is(err, versions.ErrNotFound) {
		return active, "revision " + revision + " is not a stored policy version; explained under the active version", nil
	}
	if err != nil {
		return nil, "", err
	}
	return e, "", nil
}

// engineCache keeps the engines of stored versions loaded for
// explanations (loading runs a version's tests: seconds), a few at most.
type engineCache struct {
	mu sync.Mutex
	m  map[string]*policy.Engine
}

const engineCacheSize = 4

func (c *engineCache) load(ctx context.Context, pv PolicyVersions, id string) (*policy.Engine, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	v, err := pv.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if e, err = policy.LoadFiles(ctx, v.Files()); err != nil {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "processing", "policy version %s does not load, so it cannot explain: %v", id, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= engineCacheSize {
		c.m = map[string]*policy.Engine{}
	}
	c.m[id] = e
	return e, nil
}

// explainInput is the body of POST /policy/$explain: a decision input
// (policy.Input) as gateway policy decide takes it.
func explainInput(c *gin.Context) (policy.Input, error) {
	var in policy.Input
	if err := requireJSONBody(c); err != nil {
		return in, err
	}
	body, err := readBody(c)
	if err != nil {
		return in, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fhir.Errorf(http.StatusBadRequest, "structure",
			`the body must be a decision input: {"action": "read", "subject": {"kind": "user", "org": "...", "role": "...", "purpose": "TREAT"}, "resource": {"type": "CarePlan", "categories": ["care-plan"]}, "context": {"related": true}} (see docs/policy-guide.md)`)
	}
	if in.Action == "" {
		return in, fhir.Errorf(http.StatusBadRequest, "required", "the decision input needs an action (read, search, history, write or operation)").At("action")
	}
	return in, nil
}

// policyExplain explains the decision on a hypothetical input under the
// active version, or with revision=ID a stored version.
func (s *Server) policyExplain(c *gin.Context) error {
	ctx, a := c.Request.Context(), accessOf(c)
	if err := a.decideWholeOperation(ctx, opPolicyManage); err != nil {
		return err
	}
	in, err := explainInput(c)
	if err != nil {
		return err
	}
	e := a.engine
	if id := c.Query("revision"); id != "" && id != "active" && id != versions.IDOf(e.Revision()) {
		if s.cfg.PolicyVersions == nil {
			return fhir.Errorf(http.StatusNotImplemented, "not-supported", "this gateway keeps no policy versions: leave out revision to explain under the active version")
		}
		if e, err = s.engines.load(ctx, s.cfg.PolicyVersions, id); err != nil {
			return versionError(err)
		}
		trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+id)
	}
	x, err := e.Explain(ctx, in, policy.AllFacts)
	if err != nil {
		return err
	}
	return writePage(c, wantsHTML(c), "explain-input.html", x)
}

// andList joins words as a sentence does: "a", "a and b", "a, b and c".
func andList(ws []string) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0]
	}
	return strings.Join(ws[:len(ws)-1], ", ") + " and " + ws[len(ws)-1]
}

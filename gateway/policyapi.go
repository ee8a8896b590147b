package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
)

// PolicyVersions is what the policy version endpoints need: the workflow
// of package policy/versions.
type PolicyVersions interface {
	List(ctx context.Context) ([]*versions.Version, error)
	Get(ctx context.Context, id string) (*versions.Version, error)
	Propose(ctx context.Context, by versions.Person, files policy.Files, note string) (*versions.Version, error)
	Test(ctx context.Context, by versions.Person, id string) (*versions.Version, error)
	Approve(ctx context.Context, active *policy.Engine, by versions.Person, id, note string) (*versions.Version, error)
	Activate(ctx context.Context, by versions.Person, id string) (*versions.Version, error)
	Rollback(ctx context.Context, by versions.Person, id string) (*versions.Version, error)
	Shadow(ctx context.Context, by versions.Person, id string, on bool) (*versions.Version, error)
}

// Shadows is what the shadow report needs of the policy source: the
// version in shadow on this instance (versions.Loader).
type Shadows interface {
	Shadow() *versions.Shadow
}

var _ PolicyVersions = (*versions.Workflow)(nil)

// Operations the policy decides for the policy version endpoints
// (governance.rego).
const (
	opPolicyManage  = "$policy-manage"
	opPolicyApprove = "$policy-approve"
)

// policyDispatch serves the access policy's versions to IG leads and
// approvers (POLICY-10-manage; approving also POLICY-11-approve):
//
//	GET  /policy/versions                      the versions, newest first
//	POST /policy/versions                      a draft: JSON {note, modules, tests, data} or a multipart bundle of files
//	GET  /policy/versions/{id}                 one version: files, state, history, last test report
//	POST /policy/versions/{id}/$test           draft → tested (or the report of why not)
//	POST /policy/versions/{id}/$approve        tested → approved, by someone other than the author; JSON {note}
//	POST /policy/versions/{id}/$activate       approved → active; the active one retires
//	POST /policy/versions/{id}/$rollback       an earlier (retired or approved) version → active
//	GET  /policy/versions/{id}/$diff?against=  unified diff against another version (default: its parent)
//	GET  /policy/versions/{id}/$impact?since=  the audited decisions of the period (default 168h) replayed under it
func (s *Server) policyHandlers(rt *route) (map[string]handler, bool) {
	if rt.name != "policy" {
		return nil, false
	}
	switch rt.shape {
	case "/policy/versions":
		return map[string]handler{http.MethodGet: s.policyList, http.MethodPost: s.policyPropose}, true
	case "/policy/versions/{id}":
		return map[string]handler{http.MethodGet: s.policyRead}, true
	case "/policy/versions/{id}/$op":
		switch rt.Operation {
		case "$policy-diff":
			return map[string]handler{http.MethodGet: s.policyDiff}, true
		case "$policy-impact":
			return map[string]handler{http.MethodGet: s.policyImpact}, true
		case versions.OpTest, versions.OpApprove, versions.OpActivate, versions.OpRollback:
			return map[string]handler{http.MethodPost: s.policyStep}, true
		case versions.OpShadow:
			return map[string]handler{http.MethodGet: s.policyShadowReport, http.MethodPost: s.policyShadow}, true
		case opShadowStop:
			return map[string]handler{http.MethodPost: s.policyShadow}, true
		}
		unknown := func(*gin.Context) error {
			return fhir.Errorf(http.StatusNotFound, "not-found", "policy version operations are $test, $approve, $activate, $rollback, $diff, $impact, $shadow and $shadow-stop")
		}
		return map[string]handler{http.MethodGet: unknown, http.MethodPost: unknown}, true
	}
	notFound := func(*gin.Context) error {
		return fhir.Errorf(http.StatusNotFound, "not-found", "policy versions are served at /policy/versions")
	}
	return map[string]handler{http.MethodGet: notFound, http.MethodPost: notFound, http.MethodPut: notFound, http.MethodDelete: notFound}, true
}

// policyWorkflow returns the workflow if the caller may manage policy
// versions.
func (s *Server) policyWorkflow(c *gin.Context) (PolicyVersions, error) {
	if s.cfg.PolicyVersions == nil {
		return nil, fhir.Errorf(http.StatusNotImplemented, "not-supported", "this gateway keeps no policy versions")
	}
	if err := accessOf(c).decideWholeOperation(c.Request.Context(), opPolicyManage); err != nil {
		return nil, err
	}
	trailOf(c).resourceType = versions.ResourceType
	return s.cfg.PolicyVersions, nil
}

func person(a *access) versions.Person {
	return versions.Person{Subject: a.id.Subject, Org: a.id.Org, Role: a.id.Role}
}

// versionSummary is a version without its files.
type versionSummary struct {
	ID       string           `json:"id"`
	Revision string           `json:"revision"`
	State    string           `json:"state"`
	Author   versions.Person  `json:"author"`
	Created  string           `json:"created"`
	Note     string           `json:"note,omitempty"`
	Parent   string           `json:"parent,omitempty"`
	History  []versions.Event `json:"history"`
}

func (s *Server) policyList(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	vs, err := w.List(c.Request.Context())
	if err != nil {
		return err
	}
	out := make([]versionSummary, len(vs))
	for i, v := range vs {
		out[i] = versionSummary{ID: v.ID, Revision: v.Revision, State: v.State, Author: v.Author,
			Created: v.Created.UTC().Format("2006-01-02T15:04:05.000Z"), Note: v.Note, Parent: v.Parent, History: v.History}
	}
	writeJSON(c, http.StatusOK, map[string]any{"versions": out})
	return nil
}

func (s *Server) policyRead(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	v, err := w.Get(c.Request.Context(), routeOf(c).ID)
	return s.writePolicyVersion(c, http.StatusOK, v, err)
}

func (s *Server) writePolicyVersion(c *gin.Context, status int, v *versions.Version, err error) error {
	if err != nil {
		return versionError(err)
	}
	trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+v.ID)
	writeJSON(c, status, v)
	return nil
}

func (s *Server) policyDiff(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	v, err := w.Get(ctx, routeOf(c).ID)
	if err != nil {
		return versionError(err)
	}
	against := c.Query("against")
	if against == "" {
		against = v.Parent
	}
	if against == "" {
		return fhir.Errorf(http.StatusBadRequest, "required", "version %s has no parent: name the version to compare with in against=", v.ID).At("against")
	}
	base, err := w.Get(ctx, against)
	if err != nil {
		return versionError(err)
	}
	c.Data(http.StatusOK, "text/x-diff; charset=utf-8", []byte(versions.Diff(base, v)))
	return nil
}

// policyImpact replays the audited decisions of a period under a version
// and reports the flips (versions.ImpactReport): audit ids, no record
// contents.
func (s *Server) policyImpact(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	since, err := impactSince(c)
	if err != nil {
		return err
	}
	rep, err := s.impactOf(c, w, routeOf(c).ID, since)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, rep)
	return nil
}

// impactOf replays the audited decisions of the last period under version
// id (the API's $impact and the workbench's impact page).
func (s *Server) impactOf(c *gin.Context, w PolicyVersions, id string, since time.Duration) (*versions.ImpactReport, error) {
	src, ok := s.cfg.AuditReader.(versions.DecisionSource)
	if !ok {
		return nil, fhir.Errorf(http.StatusNotImplemented, "not-supported", "this gateway's audit trail cannot be replayed")
	}
	ctx := c.Request.Context()
	v, err := w.Get(ctx, id)
	if err != nil {
		return nil, versionError(err)
	}
	e, err := policy.LoadFiles(ctx, v.Files())
	if err != nil {
		return nil, versionError(fmt.Errorf("%w: %w", versions.ErrTestFailed, err))
	}
	now := s.cfg.Clock()
	rep, err := versions.Impact(ctx, e, src, now.Add(-since), now)
	if err != nil {
		return nil, err
	}
	trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+v.ID)
	return rep, nil
}

// policyStep runs $test, $approve, $activate or $rollback.
func (s *Server) policyStep(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	note := ""
	if routeOf(c).Operation == versions.OpApprove {
		var body struct {
			Note string `json:"note"`
		}
		if err := readOptionalJSON(c, &body); err != nil {
			return err
		}
		note = body.Note
	}
	v, err := s.runPolicyStep(c, w, routeOf(c).Operation, routeOf(c).ID, note)
	return s.writePolicyVersion(c, http.StatusOK, v, err)
}

// runPolicyStep runs one step of the workflow (versions.OpTest,
// OpApprove, OpActivate, OpRollback) on version id for the caller: the
// API's and the workbench's buttons.
func (s *Server) runPolicyStep(c *gin.Context, w PolicyVersions, op, id, note string) (*versions.Version, error) {
	ctx, a := c.Request.Context(), accessOf(c)
	var (
		v   *versions.Version
		err error
	)
	switch op {
	case versions.OpTest:
		v, err = w.Test(ctx, person(a), id)
	case versions.OpApprove:
		// The policy says who approves; the workflow also refuses the author.
		if err := a.decideWholeOperation(ctx, opPolicyApprove); err != nil {
			return nil, err
		}
		v, err = w.Approve(ctx, a.engine, person(a), id, note)
	case versions.OpActivate:
		v, err = w.Activate(ctx, person(a), id)
	case versions.OpRollback:
		v, err = w.Rollback(ctx, person(a), id)
	case versions.OpShadow, opShadowStop:
		v, err = w.Shadow(ctx, person(a), id, op == versions.OpShadow)
	default:
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "the steps of a policy version are test, approve, activate, rollback, shadow and shadow-stop")
	}
	if err == nil && (v.State == versions.Active || op == versions.OpShadow || op == opShadowStop) {
		s.refreshPolicy(ctx)
	}
	return v, err
}

// refreshPolicy has this instance serve a version it just activated at
// once, not at its next poll (when its policies come from the database).
// The request keeps the engine it pinned.
func (s *Server) refreshPolicy(ctx context.Context) {
	r, ok := s.cfg.Policy.(interface{ Refresh(context.Context) error })
	if !ok {
		return
	}
	if err := r.Refresh(ctx); err != nil {
		s.logger.Error("policy version activated but not loaded here; the next poll retries", "error", err.Error())
	}
}

// readOptionalJSON reads a small JSON body into v; no body is fine.
func readOptionalJSON(c *gin.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fhir.Errorf(http.StatusBadRequest, "structure", "the body must be JSON, e.g. {\"note\": \"...\"}")
	}
	return nil
}

// policyPropose stores a draft from JSON {note, modules, tests, data} (data
// as the agreement object or its text) or from a multipart bundle: one
// part per file (its file name: data.json or *.rego) and a "note" field.
func (s *Server) policyPropose(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	files, note, err := proposal(c)
	if err != nil {
		return err
	}
	v, err := w.Propose(c.Request.Context(), person(accessOf(c)), files, note)
	if err == nil {
		c.Header("Location", s.base(c)+"/policy/versions/"+v.ID)
	}
	return s.writePolicyVersion(c, http.StatusCreated, v, err)
}

func proposal(c *gin.Context) (policy.Files, string, error) {
	mt, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "multipart/form-data" {
		return multipartProposal(multipart.NewReader(c.Request.Body, params["boundary"]))
	}
	if err := requireJSONBody(c); err != nil {
		return nil, "", err
	}
	var body struct {
		Note    string            `json:"note"`
		Modules map[string]string `json:"modules"`
		Tests   map[string]string `json:"tests"`
		Data    json.RawMessage   `json:"data"`
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		return nil, "", fhir.Errorf(http.StatusBadRequest, "structure", `send {"note": "...", "modules": {"x.rego": "..."}, "tests": {"x_test.rego": "..."}, "data": {...}}`)
	}
	files := policy.Files{}
	for n, src := range body.Modules {
		files[n] = []byte(src)
	}
	for n, src := range body.Tests {
		if !strings.HasSuffix(n, "_test.rego") {
			return nil, "", fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "test module %q: test file names end in _test.rego", n).At("tests")
		}
		files[n] = []byte(src)
	}
	var text string
	if json.Unmarshal(body.Data, &text) == nil {
		files[policy.DataFile] = []byte(text) // the file's exact text
	} else if len(body.Data) > 0 {
		files[policy.DataFile] = body.Data
	}
	return files, body.Note, checkNames(files)
}

func multipartProposal(r *multipart.Reader) (policy.Files, string, error) {
	files, note := policy.Files{}, ""
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", fhir.Errorf(http.StatusBadRequest, "structure", "the multipart bundle could not be read")
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, "", fhir.Errorf(http.StatusBadRequest, "structure", "the multipart bundle could not be read")
		}
		if p.FileName() == "" && p.FormName() == "note" {
			note = string(b)
			continue
		}
		files[path.Base(p.FileName())] = b
	}
	return files, note, checkNames(files)
}

// checkNames refuses files a policy cannot hold.
func checkNames(files policy.Files) error {
	for n := range files {
		if n != policy.DataFile && (!strings.HasSuffix(n, ".rego") || strings.ContainsAny(n, `/\`)) {
			return fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "file %q: a policy version holds data.json and *.rego files only", n)
		}
	}
	if _, ok := files[policy.DataFile]; !ok {
		return fhir.Errorf(http.StatusUnprocessableEntity, "required", "a policy version needs data.json (the data sharing agreement)")
	}
	return nil
}

// versionError turns a workflow error into its OperationOutcome.
func versionError(err error) error {
	var fe *fhir.Error
	switch {
	case errors.As(err, &fe):
		return err
	case errors.Is(err, versions.ErrNotFound):
		return fhir.Errorf(http.StatusNotFound, "not-found", "no policy version has this id; GET /policy/versions lists them")
	case errors.Is(err, versions.ErrExists):
		return fhir.Errorf(http.StatusConflict, "duplicate", "%v: it is stored already; find it in GET /policy/versions", err)
	case errors.Is(err, versions.ErrSameAuthor):
		return fhir.Errorf(http.StatusForbidden, "forbidden", "you proposed this version, so you cannot approve it: a policy change needs a second person with the approver role (e.g. the Caldicott Guardian)")
	case errors.Is(err, versions.ErrNotApprover):
		return fhir.Errorf(http.StatusForbidden, "forbidden", "%v", err)
	case errors.Is(err, versions.ErrState):
		return fhir.Errorf(http.StatusConflict, "business-rule", "%v", err)
	case errors.Is(err, versions.ErrTestFailed):
		return fhir.Errorf(http.StatusUnprocessableEntity, "processing", "%v", err)
	}
	return err
}

// opShadowStop stops a version's shadow (policyapi.go, the workbench).
const opShadowStop = versions.OpShadow + "-stop"

// policyShadow starts ($shadow) or stops ($shadow-stop) evaluating a
// version in shadow beside the active one, on every instance.
func (s *Server) policyShadow(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	rt := routeOf(c)
	v, err := s.runPolicyStep(c, w, rt.Operation, rt.ID, "")
	return s.writePolicyVersion(c, http.StatusOK, v, err)
}

// policyShadowReport is what this instance's shadow of the version has
// compared so far.
func (s *Server) policyShadowReport(c *gin.Context) error {
	if _, err := s.policyWorkflow(c); err != nil {
		return err
	}
	id := routeOf(c).ID
	rep, err := s.shadowReport(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if rep == nil {
		return fhir.Errorf(http.StatusNotFound, "not-found", "policy version %s is not in shadow on this instance: start it with POST /policy/versions/%s/$shadow", id, id)
	}
	writeJSON(c, http.StatusOK, rep)
	return nil
}

// shadowReport is this instance's report of version id's shadow, nil when
// the version is not in shadow here.
func (s *Server) shadowReport(ctx context.Context, id string) (*versions.ShadowReport, error) {
	src, ok := s.cfg.Policy.(Shadows)
	if !ok {
		return nil, nil
	}
	sh := src.Shadow()
	if sh == nil || sh.ID() != id {
		return nil, nil
	}
	return sh.Report(ctx)
}

// impactSince is the impact preview's period: ?since= (default
// versions.DefaultImpactPeriod), for the API and the workbench.
func impactSince(c *gin.Context) (time.Duration, error) {
	q := c.Query("since")
	if q == "" {
		return versions.DefaultImpactPeriod, nil
	}
	d, err := time.ParseDuration(q)
	if err != nil || d <= 0 {
		return 0, fhir.Errorf(http.StatusBadRequest, "invalid", "since takes a positive duration such as 168h or 30m").At("since")
	}
	return d, nil
}

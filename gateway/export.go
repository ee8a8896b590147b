package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/export"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

var _ ExportJobs = (*export.SQLiteJobs)(nil)
var _ ExportJobs = (*export.MongoJobs)(nil)

// ExportJobs is where Bulk Data export jobs are kept (package export:
// a SQLite table or a MongoDB collection).
type ExportJobs interface {
	Insert(ctx context.Context, j *export.Job) error
	Save(ctx context.Context, j *export.Job) error
	Get(ctx context.Context, id string) (*export.Job, error)
	Delete(ctx context.Context, id string) error
	InState(ctx context.Context, state string) ([]*export.Job, error)
}

// exportParams are the kick-off parameters this server understands;
// exportRefused those of the specification it refuses by name.
var (
	exportParams  = []string{"_outputFormat", "_since", "_type", "_typeFilter", "patient"}
	exportRefused = map[string]string{
		"_elements":             "_elements is not supported by $export here: every exported resource is whole (as the policy allows it)",
		"includeAssociatedData": "includeAssociatedData is not supported by $export here; export Provenance with _type instead",
	}
	// ndjsonFormats are the _outputFormat values that mean NDJSON.
	ndjsonFormats = []string{"application/fhir+ndjson", "application/ndjson", "ndjson"}
)

// Operation names of the export's interactions in the audit trail.
const (
	opExport         = "$export"
	opExportStatus   = "$export-status"
	opExportDownload = "$export-download"
)

// exportHandlers serve the Bulk Data export paths (ok false for any
// other route): a 501 when exports are not configured.
func (s *Server) exportHandlers(rt *route) (map[string]handler, bool) {
	var hs map[string]handler
	switch {
	case rt.shape == "/$op" && rt.Operation == opExport, rt.Type == "Patient" && rt.shape == "/{type}/$op" && rt.Operation == opExport:
		hs = map[string]handler{http.MethodGet: s.exportKickOff, http.MethodPost: s.exportKickOff}
	case rt.Type == "Group" && rt.shape == "/{type}/{id}/$op" && rt.Operation == opExport:
		hs = map[string]handler{http.MethodGet: s.exportKickOff, http.MethodPost: s.exportKickOff}
	case rt.shape == "/$op/{id}" && rt.Operation == opExportStatus:
		hs = map[string]handler{http.MethodGet: s.exportStatus, http.MethodDelete: s.exportCancel}
	case rt.shape == "/$op/{id}/{file}" && rt.Operation == opExportDownload:
		hs = map[string]handler{http.MethodGet: s.exportDownload}
	default:
		return nil, false
	}
	if s.cfg.Exports == nil {
		off := func(*gin.Context) error {
			return fhir.Errorf(http.StatusNotImplemented, "not-supported", "Bulk Data export is not configured on this gateway")
		}
		for m := range hs {
			hs[m] = off
		}
	}
	return hs, true
}

// exportKickOff starts an export: 202 with the status URL in
// Content-Location, once the job is recorded.
func (s *Server) exportKickOff(c *gin.Context) error {
	t := trailOf(c)
	if err := exportHeaders(c); err != nil {
		return err
	}
	params, err := exportParamsOf(c)
	if err != nil {
		return err
	}
	t.query = params.Encode()
	level := export.LevelSystem
	switch routeOf(c).Type {
	case "Patient":
		level = export.LevelPatient
	case "Group":
		level = export.LevelGroup
	}
	job, err := s.exportJob(c, level, params)
	if err != nil {
		return err
	}
	if level == export.LevelGroup {
		if err := s.groupCohort(c, job); err != nil {
			return err
		}
	}
	t.patients = appendNew(t.patients, job.Patients...)
	ctx := c.Request.Context()
	running, err := s.cfg.Exports.InState(ctx, export.Running)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(running, func(r *export.Job) bool { return r.Owner.Same(job.Owner) }) {
		c.Header("Retry-After", "60")
		return fhir.Errorf(http.StatusTooManyRequests, "throttled",
			"an export you started is still running; wait for it to finish (or DELETE its status URL) before starting another")
	}
	if err := s.cfg.Exports.Insert(ctx, job); err != nil {
		return err
	}
	s.startExport(job)
	c.Header("Content-Location", s.base(c)+"/$export-status/"+job.ID)
	writeJSON(c, http.StatusAccepted, fhir.Outcome(fhir.Issue{Severity: "information", Code: "informational",
		Diagnostics: "export started; poll the Content-Location URL for its status"}))
	return nil
}

// exportHeaders checks the kick-off's Accept and Prefer headers.
func exportHeaders(c *gin.Context) error {
	if !acceptsFHIRJSON(c.Request.Header.Values("Accept")) {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "an $export kick-off needs the header Accept: application/fhir+json")
	}
	if !preferToken(c, "respond-async") {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "$export runs asynchronously: send the header Prefer: respond-async")
	}
	return nil
}

// acceptsFHIRJSON reports whether an Accept header's media ranges name
// application/fhir+json (not with q=0): clients send it alone or in a
// list, e.g. "application/fhir+json, */*; q=0.1".
func acceptsFHIRJSON(accept []string) bool {
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "application/fhir+json" {
				continue
			}
			if q, err := strconv.ParseFloat(params["q"], 64); params["q"] == "" || err == nil && q > 0 {
				return true
			}
		}
	}
	return false
}

// preferToken reports whether a Prefer header carries the bare token.
func preferToken(c *gin.Context, token string) bool {
	for _, h := range c.Request.Header.Values("Prefer") {
		for _, p := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ';' }) {
			if strings.EqualFold(strings.TrimSpace(p), token) {
				return true
			}
		}
	}
	return false
}

// exportParamsOf are the kick-off's parameters: the query, and for a POST
// a FHIR Parameters body (valueString, valueInstant, valueReference).
func exportParamsOf(c *gin.Context) (url.Values, error) {
	params, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "the query string is not well formed: %s", queryError(err))
	}
	if params.Has("patient") {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "patient is taken only in a POST Parameters body (valueReference)").At("patient")
	}
	if c.Request.Method != http.MethodPost || c.Request.ContentLength == 0 {
		return params, nil
	}
	if err := requireJSONBody(c); err != nil {
		return nil, err
	}
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	var p struct {
		ResourceType string
		Parameter    []struct {
			Name           string
			ValueString    *string
			ValueInstant   *string
			ValueReference *struct{ Reference string }
		}
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Parameters" {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "a POST $export takes a FHIR Parameters resource")
	}
	for _, pp := range p.Parameter {
		switch {
		case pp.ValueReference != nil:
			params.Add(pp.Name, pp.ValueReference.Reference)
		case pp.ValueInstant != nil:
			params.Add(pp.Name, *pp.ValueInstant)
		case pp.ValueString != nil:
			params.Add(pp.Name, *pp.ValueString)
		default:
			return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "parameter %q needs a valueString, valueInstant or valueReference", pp.Name).At(pp.Name)
		}
	}
	return params, nil
}

// exportTypes are the types an export of the level may contain: every
// served type (system) or the Patient and its compartment's (patient,
// group: a Group is in no compartment, and is not exported with its
// members); never AuditEvents, which are the audit trail, not records of
// care.
func exportTypes(level string) []string {
	if level == export.LevelPatient || level == export.LevelGroup {
		return everythingTypes()
	}
	return slices.DeleteFunc(slices.Clone(fhir.ResourceTypes), func(t string) bool { return t == "AuditEvent" })
}

// exportJob checks the parameters and builds the job they ask for.
func (s *Server) exportJob(c *gin.Context, level string, params url.Values) (*export.Job, error) {
	lenient := strings.EqualFold(prefer(c, "handling"), "lenient")
	var issues, notes []fhir.Issue
	bad := func(param, format string, args ...any) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: param + ": " + fmt.Sprintf(format, args...), Expression: []string{param}})
	}
	refuse := func(param, why string) {
		if lenient {
			notes = append(notes, fhir.Issue{Severity: "information", Code: "not-supported", Diagnostics: why + " (ignored: Prefer: handling=lenient)", Expression: []string{param}})
			return
		}
		issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Diagnostics: why, Expression: []string{param}})
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		switch {
		case slices.Contains(exportParams, k):
		case exportRefused[k] != "":
			refuse(k, exportRefused[k])
		default:
			refuse(k, k+" is not a parameter of $export (supported: _outputFormat, _since, _type, _typeFilter, and patient in a POST); send Prefer: handling=lenient to have unknown parameters ignored")
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	id, _ := auth.FromContext(c.Request.Context())
	job := &export.Job{ID: store.NewID(), State: export.Running, Level: level, Types: exportTypes(level),
		Owner: export.Owner{Kind: id.Kind, Subject: id.Subject, Org: id.Org, Role: id.Role, Purpose: id.Purpose,
			BreakGlassReason: id.BreakGlassReason, NHSNumber: id.NHSNumber},
		Request: s.base(c) + c.Request.URL.RequestURI(), TransactionTime: now, Created: now, Updated: now}
	// An unencoded '+' in the query reads as a space.
	if v := strings.ReplaceAll(params.Get("_outputFormat"), " ", "+"); v != "" && !slices.Contains(ndjsonFormats, v) {
		bad("_outputFormat", "only NDJSON is written: application/fhir+ndjson, application/ndjson or ndjson")
	}
	if v := params.Get("_since"); v != "" {
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			bad("_since", "must be a FHIR instant with a time zone, e.g. 2026-01-01T00:00:00Z")
		}
		job.Since = v
	}
	if vs := params["_type"]; len(vs) > 0 {
		var keep []string
		for _, t := range strings.Split(strings.Join(vs, ","), ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(job.Types, t) {
				refuse("_type", fmt.Sprintf("%q is not a type a %s-level export of this server contains (see /metadata)", t, level))
				continue
			}
			keep = append(keep, t)
		}
		job.Types = slices.DeleteFunc(job.Types, func(t string) bool { return !slices.Contains(keep, t) })
	}
	if id.Scoped {
		// A scoped token exports only the types its scopes let it search.
		for _, t := range job.Types {
			if !id.Allows(t, true) && len(params["_type"]) > 0 {
				bad("_type", "the token's scopes do not allow searching %s, so it is not exported: request system/%s.rs or leave it out (the token's scopes: %s)", t, t, id.ScopeString())
			}
		}
		job.Types = slices.DeleteFunc(job.Types, func(t string) bool { return !id.Allows(t, true) })
		if len(job.Types) == 0 && len(issues) == 0 {
			return nil, scopeError(id, "the token's scopes allow searching none of the types a "+level+"-level export contains")
		}
	}
	for _, v := range params["_typeFilter"] {
		typ, query, err := typeFilter(v, job.Types)
		if err != nil {
			bad("_typeFilter", "%s", err)
			continue
		}
		if job.TypeFilters == nil {
			job.TypeFilters = map[string][]string{}
		}
		job.TypeFilters[typ] = append(job.TypeFilters[typ], query)
	}
	for _, p := range params["patient"] {
		switch {
		case level == export.LevelSystem:
			bad("patient", "is a parameter of Patient/$export and Group/[id]/$export, not of a system-level export")
		case !strings.HasPrefix(p, "Patient/") || !fhir.ValidID(strings.TrimPrefix(p, "Patient/")):
			bad("patient", "must be a reference Patient/<id>")
		default:
			job.Patients = appendNew(job.Patients, p)
		}
	}
	if len(issues) > 0 {
		return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	job.Notes = notes
	return job, nil
}

// typeFilter checks one _typeFilter value, Type?query, with the search
// parser: it must be a search of one of the export's types, with
// filtering parameters only.
func typeFilter(v string, types []string) (typ, query string, err error) {
	typ, query, ok := strings.Cut(v, "?")
	if !ok || !slices.Contains(types, typ) {
		return "", "", fmt.Errorf("%q is not Type?query for a type the export contains", v)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", "", errors.New("the query is not well formed: " + queryError(err))
	}
	for k := range params {
		if strings.HasPrefix(k, "_") && k != "_id" && k != "_lastUpdated" {
			return "", "", fmt.Errorf("%s is not allowed in a _typeFilter (only filtering parameters are)", k)
		}
	}
	if _, err := search.Parse(typ, params, search.Options{}); err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) && len(fe.Issues) > 0 {
			return "", "", errors.New(fe.Issues[0].Diagnostics)
		}
		return "", "", err
	}
	return typ, query, nil
}

// ownJob is the job id names if the caller started it: anyone else is
// told there is none, as is a caller asking after a deleted job.
func (s *Server) ownJob(c *gin.Context) (*export.Job, error) {
	id := routeOf(c).ID
	notFound := fhir.Errorf(http.StatusNotFound, "not-found", "there is no export %q of yours (it may have been cancelled)", id)
	if !fhir.ValidID(id) {
		return nil, notFound
	}
	job, err := s.cfg.Exports.Get(c.Request.Context(), id)
	if errors.Is(err, export.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	who, _ := auth.FromContext(c.Request.Context())
	if !job.Owner.Same(export.Owner{Kind: who.Kind, Org: who.Org, Subject: who.Subject}) {
		return nil, notFound
	}
	if err := s.expire(c.Request.Context(), job); err != nil {
		return nil, err
	}
	if job.State == export.Expired {
		return nil, fhir.Errorf(http.StatusGone, "not-found", "export %s expired at %s and its files were removed; start a new export", job.ID, job.Expires.Format(time.RFC3339))
	}
	return job, nil
}

// scopesCoverJob refuses a token with SMART scopes that no longer let it
// search every type the job exports: its status and files go only to a
// token of the client that started it whose scopes still cover them, so
// a narrower token of the same client (system/Patient.rs, say) cannot
// collect an export begun with a wider one. Scopes are otherwise applied
// at the kick-off (exportJob); a token without SMART scopes is not
// restricted here, and cancelling needs no scope.
func scopesCoverJob(c *gin.Context, job *export.Job) error {
	id, ok := auth.FromContext(c.Request.Context())
	if !ok || !id.Scoped {
		return nil
	}
	var missing, need []string
	for _, t := range job.Types {
		if !id.Allows(t, true) {
			missing = append(missing, t)
			need = append(need, "system/"+t+".rs")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	t := trailOf(c)
	t.refused = true
	t.reasons = appendNew(t.reasons, scopeReason)
	return scopeError(id, fmt.Sprintf("export %s holds %s, which the token's scopes do not allow searching: poll it and download its files with a token of this client whose scopes cover every type it exports (request %s, or system/*.rs)",
		job.ID, strings.Join(missing, ", "), strings.Join(need, " ")))
}

// exportStatus answers a status poll: 202 with X-Progress while the
// export runs, 500 with the problems if it failed, 200 with the manifest
// when done.
func (s *Server) exportStatus(c *gin.Context) error {
	job, err := s.ownJob(c)
	if err != nil {
		return err
	}
	if err := scopesCoverJob(c, job); err != nil {
		return err
	}
	switch job.State {
	case export.Running:
		c.Header("X-Progress", fmt.Sprintf("%d of %d types done; %d resources", min(job.Position.Type, len(job.Types)), len(job.Types), job.Progress()))
		c.Header("Retry-After", "2")
		c.Status(http.StatusAccepted)
	case export.Failed:
		return &fhir.Error{Status: http.StatusInternalServerError, Issues: job.Problems}
	default:
		trailOf(c).counts = job.Counts()
		c.Header("Expires", job.Expires.UTC().Format(http.TimeFormat))
		b, err := json.Marshal(s.manifest(c, job))
		if err != nil {
			return err
		}
		c.Data(http.StatusOK, "application/json", b)
	}
	return nil
}

type manifestFile struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

// manifest is the completed export's manifest (Bulk Data v2).
func (s *Server) manifest(c *gin.Context, job *export.Job) map[string]any {
	files := func(fs []export.File) []manifestFile {
		out := []manifestFile{}
		for _, f := range fs {
			if f.Count > 0 {
				out = append(out, manifestFile{Type: f.Type, URL: s.base(c) + "/$export-file/" + job.ID + "/" + f.Name, Count: f.Count})
			}
		}
		return out
	}
	return map[string]any{
		"transactionTime":     job.TransactionTime.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"request":             job.Request,
		"requiresAccessToken": true,
		"output":              files(job.Output),
		"error":               files(job.Errors),
	}
}

// exportCancel answers DELETE on a status URL: the export stops, its
// files and its job are removed, 202.
func (s *Server) exportCancel(c *gin.Context) error {
	job, err := s.ownJob(c)
	if err != nil {
		return err
	}
	s.stopExport(job.ID)
	if err := s.cfg.Exports.Delete(c.Request.Context(), job.ID); err != nil {
		return err
	}
	if err := os.RemoveAll(s.exportDir(job.ID)); err != nil {
		return fmt.Errorf("remove export files: %w", err)
	}
	writeJSON(c, http.StatusAccepted, fhir.Outcome(fhir.Issue{Severity: "information", Code: "informational", Diagnostics: "export cancelled and its files removed"}))
	return nil
}

// exportDownload serves one NDJSON file of a finished export, audited
// with its patients and count.
func (s *Server) exportDownload(c *gin.Context) error {
	job, err := s.ownJob(c)
	if err != nil {
		return err
	}
	if err := scopesCoverJob(c, job); err != nil {
		return err
	}
	name := routeOf(c).File
	f := job.File(name)
	if f == nil || job.State != export.Done {
		return fhir.Errorf(http.StatusNotFound, "not-found", "export %s has no file %q (see its manifest)", job.ID, name)
	}
	body, err := os.ReadFile(filepath.Join(s.exportDir(job.ID), f.Name))
	if err != nil {
		return fmt.Errorf("read export file: %w", err)
	}
	t := trailOf(c)
	t.resourceType = f.Type
	t.counts = map[string]int{f.Type: f.Count}
	t.patients = filePatients(f.Type, body)
	c.Data(http.StatusOK, "application/fhir+ndjson", body)
	return nil
}

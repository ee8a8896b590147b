package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/retention"
)

// Retention and disposal (docs/records-retention.md). Every route is
// decided by the policy (policy/retention.rego) as an operation over the
// whole record and audited like any other request:
//
//	GET  /$disposal-due                  the appraisal list (RETAIN-12-appraisal)
//	POST /$disposal                      propose a disposal; dryRun: only show it (RETAIN-12-disposal)
//	POST /$disposal/{id}/$approve        a second records manager approves: purge + destruction record
//	GET  /$disposal/{id}                 the certificate of destruction (JSON, or _format=html)
//	POST /$legal-hold                    place a hold (RETAIN-12-hold)
//	POST /$legal-hold/{id}/$lift         lift it
//	POST /$retention-extend              extend retention to a new date
//
// Nothing is destroyed but by an approved disposal, and the approval
// re-appraises what it names: a record held or no longer due is refused
// with 409.

// RecordKeeper is what disposals need of the store beyond Store: every
// version of a type (the appraisal reads history too) and Purge.
type RecordKeeper interface {
	retention.Source
	Purge(ctx context.Context, resourceType, id string) (int, error)
}

// Operation names the policy decides and the audit trail records.
const (
	opDisposalDue         = "$disposal-due"
	opDisposal            = "$disposal"
	opDisposalApprove     = "$disposal-approve"
	opDisposalCertificate = "$disposal-certificate"
	opLegalHold           = "$legal-hold"
	opRetentionExtend     = "$retention-extend"
	opLegalHoldLift       = "$legal-hold-lift"
)

// retentionHandlers serve the retention routes.
func (s *Server) retentionHandlers(rt *route) (map[string]handler, bool) {
	if !strings.HasPrefix(rt.shape, "/$op") {
		return nil, false
	}
	switch {
	case rt.shape == "/$op" && rt.Operation == opDisposalDue:
		return map[string]handler{http.MethodGet: s.disposalDue}, true
	case rt.shape == "/$op" && rt.Operation == opDisposal:
		return map[string]handler{http.MethodPost: s.disposalPropose}, true
	case rt.shape == "/$op/{id}" && rt.Operation == opDisposalCertificate:
		return map[string]handler{http.MethodGet: s.disposalCertificate}, true
	case rt.shape == "/$op/{id}/{file}" && rt.Operation == opDisposalApprove:
		return map[string]handler{http.MethodPost: s.disposalApprove}, true
	case rt.shape == "/$op" && rt.Operation == opLegalHold:
		return map[string]handler{http.MethodPost: s.legalHold}, true
	case rt.shape == "/$op/{id}/{file}" && rt.Operation == opLegalHoldLift:
		return map[string]handler{http.MethodPost: s.legalHoldLift}, true
	case rt.shape == "/$op" && rt.Operation == opRetentionExtend:
		return map[string]handler{http.MethodPost: s.retentionExtend}, true
	}
	return nil, false
}

// retentionStart decides operation for the caller and returns the
// decision store; 501 when the gateway keeps no decisions.
func (s *Server) retentionStart(c *gin.Context, operation string) (retention.Store, error) {
	if s.cfg.Retention == nil || s.cfg.Records == nil {
		return nil, fhir.Errorf(http.StatusNotImplemented, "not-supported", "records retention is not configured on this server")
	}
	a := accessOf(c)
	if err := a.decideWholeOperation(c.Request.Context(), operation); err != nil {
		return nil, err
	}
	if operation != opDisposalDue && operation != opDisposalCertificate && (a.id.Kind != auth.KindUser || strings.TrimSpace(a.id.Subject) == "") {
		return nil, fhir.Errorf(http.StatusForbidden, "forbidden", "records-management decisions are a named person's: use a user token")
	}
	return s.cfg.Retention, nil
}

func personOf(a *access) retention.Person {
	return retention.Person{Subject: a.id.Subject, Org: a.id.Org, Role: a.id.Role}
}

// appraise is the appraisal of every stored record as of now.
func (s *Server) appraise(ctx context.Context, a *access, rs retention.Store) ([]retention.Item, error) {
	ds, err := rs.List(ctx, "")
	if err != nil {
		return nil, err
	}
	return retention.Appraise(ctx, s.cfg.Records, a.engine.Retention(), ds, s.cfg.Clock().UTC())
}

// dueList is the appraisal list's answer.
type dueList struct {
	ResourceType string           `json:"resourceType"` // "RetentionAppraisal": not a FHIR resource
	Date         time.Time        `json:"date"`
	Schedule     string           `json:"schedule"`
	Items        []retention.Item `json:"items"`
	Approvable   int              `json:"approvable"`
	Held         int              `json:"held"`
}

func (s *Server) disposalDue(c *gin.Context) error {
	rs, err := s.retentionStart(c, opDisposalDue)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	items, err := s.appraise(ctx, a, rs)
	if err != nil {
		return err
	}
	today := s.cfg.Clock().UTC()
	due := retention.Due(items, today)
	if p := c.Query("patient"); p != "" {
		due = slices.DeleteFunc(due, func(it retention.Item) bool { return it.Patient != p })
	}
	out := dueList{ResourceType: "RetentionAppraisal", Date: today, Schedule: a.engine.Revision(), Items: due}
	for _, it := range due {
		if it.Approvable(today) {
			out.Approvable++
		} else {
			out.Held++
		}
		a.trail.patients = appendNew(a.trail.patients, it.Patient)
		a.trail.categories = appendNew(a.trail.categories, it.Category)
	}
	if out.Items == nil {
		out.Items = []retention.Item{}
	}
	writeJSON(c, http.StatusOK, out)
	return nil
}

// disposalRequest is the body of POST /$disposal.
type disposalRequest struct {
	Patient    string   `json:"patient"`
	Categories []string `json:"categories"`
	Reason     string   `json:"reason"`
	DryRun     bool     `json:"dryRun"`
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "the body must be a JSON object of this operation's fields: %v", err)
	}
	return nil
}

func validPatientRef(ref string) error {
	id, ok := strings.CutPrefix(ref, "Patient/")
	if !ok || !fhir.ValidID(id) {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "patient must be a reference Patient/<id>")
	}
	return nil
}

func (s *Server) disposalPropose(c *gin.Context) error {
	rs, err := s.retentionStart(c, opDisposal)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req disposalRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := validPatientRef(req.Patient); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" && !req.DryRun {
		return fhir.Errorf(http.StatusBadRequest, "required", "reason is required: say why these records are to be destroyed (the appraisal's outcome)")
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	items, err := s.appraise(ctx, a, rs)
	if err != nil {
		return err
	}
	today := s.cfg.Clock().UTC()
	var chosen []retention.Item
	held := 0
	for _, it := range retention.Due(items, today) {
		if it.Patient != req.Patient || (len(req.Categories) > 0 && !slices.Contains(req.Categories, it.Category)) {
			continue
		}
		if !it.Approvable(today) {
			held++
			continue
		}
		chosen = append(chosen, it)
	}
	a.trail.patients = appendNew(a.trail.patients, req.Patient)
	if len(chosen) == 0 {
		if held > 0 {
			return fhir.Errorf(http.StatusConflict, "conflict", "the records of %s due for disposal are under a legal hold: nothing can be proposed until it is lifted", req.Patient)
		}
		return fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "nothing of %s is due for disposal (see GET /$disposal-due)", req.Patient)
	}
	d := &retention.Decision{ID: retention.NewID(), Kind: retention.KindDisposal, State: retention.StateProposed, By: personOf(a),
		At: s.cfg.Clock().UTC().Truncate(time.Millisecond), Patient: req.Patient, Reason: req.Reason, Items: chosen, Schedule: a.engine.Revision()}
	for _, it := range chosen {
		a.trail.categories = appendNew(a.trail.categories, it.Category)
	}
	status := http.StatusOK
	if !req.DryRun {
		if err := rs.Insert(ctx, d); err != nil {
			return err
		}
		a.trail.resources = appendNew(a.trail.resources, "Disposal/"+d.ID)
		c.Header("Location", s.base(c)+"/$disposal/"+d.ID)
		status = http.StatusCreated
	} else {
		d.ID, d.State = "", "dry-run"
	}
	writeJSON(c, status, d)
	return nil
}

func (s *Server) disposalApprove(c *gin.Context) error {
	rs, err := s.retentionStart(c, opDisposalApprove)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	d, err := s.disposalOf(c, rs)
	if err != nil {
		return err
	}
	if d.State != retention.StateProposed {
		return fhir.Errorf(http.StatusConflict, "conflict", "disposal %s is %s, not proposed", d.ID, d.State)
	}
	if d.By.Subject == a.id.Subject {
		return fhir.Errorf(http.StatusForbidden, "forbidden", "a disposal is approved by a second records manager, not by the person who proposed it")
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			return err
		}
	}
	// Re-appraise: a hold placed or a retention extended since the
	// proposal, or a new entry moving the date, stops it.
	items, err := s.appraise(ctx, a, rs)
	if err != nil {
		return err
	}
	today := s.cfg.Clock().UTC()
	now := map[string]retention.Item{}
	for _, it := range items {
		for _, r := range it.Resources {
			now[r] = it
		}
	}
	var resources, rules []string
	a.trail.patients = appendNew(a.trail.patients, d.Patient)
	for _, it := range d.Items {
		for _, r := range it.Resources {
			cur, ok := now[r]
			switch {
			case !ok:
				continue // gone already (an interrupted approval): nothing to do
			case len(cur.Held) > 0:
				return fhir.Errorf(http.StatusConflict, "conflict", "%s is under a legal hold (%s): it cannot be disposed of", r, strings.Join(cur.Held, ", "))
			case !cur.Approvable(today):
				return fhir.Errorf(http.StatusConflict, "conflict", "%s is no longer due for disposal (now due %s): propose again", r, dateOrNever(cur.Due))
			}
			resources = append(resources, r)
		}
		rules = appendNew(rules, it.Rule)
		a.trail.categories = appendNew(a.trail.categories, it.Category)
	}
	// Everything else first, the Patient last.
	slices.SortStableFunc(resources, func(x, y string) int {
		return boolInt(strings.HasPrefix(x, "Patient/")) - boolInt(strings.HasPrefix(y, "Patient/"))
	})
	destroyed := 0
	for _, r := range resources {
		typ, id, _ := strings.Cut(r, "/")
		n, err := s.cfg.Records.Purge(ctx, typ, id)
		if err != nil && !errors.Is(err, fhir.ErrNotFound) {
			return fmt.Errorf("dispose of %s: %w", r, err)
		}
		destroyed += n
		a.trail.resources = appendNew(a.trail.resources, r)
	}
	d.State = retention.StateDisposed
	d.Approved = &retention.Step{By: personOf(a), At: s.cfg.Clock().UTC().Truncate(time.Millisecond), Reason: req.Reason}
	d.Destroyed = destroyed
	d.Schedule = a.engine.Revision()
	// The destruction record is this request's audit record (written
	// before the answer leaves, as every record is); the certificate
	// names it by the request id.
	a.trail.resources = appendNew(a.trail.resources, "Disposal/"+d.ID)
	a.trail.destruction = &audit.Destruction{Disposal: d.ID, Rules: rules, Schedule: d.Schedule, ProposedBy: d.By.Subject, Versions: destroyed}
	d.AuditID = requestID(c)
	if err := rs.Replace(ctx, d, retention.StateProposed); err != nil {
		if errors.Is(err, retention.ErrState) {
			return fhir.Errorf(http.StatusConflict, "conflict", "disposal %s was decided by someone else meanwhile", d.ID)
		}
		return err
	}
	writeJSON(c, http.StatusOK, d)
	return nil
}

func dateOrNever(t time.Time) string {
	if t.IsZero() {
		return "not yet: its trigger has not happened"
	}
	return t.Format("2006-01-02")
}

func (s *Server) disposalOf(c *gin.Context, rs retention.Store) (*retention.Decision, error) {
	id := routeOf(c).ID
	if !fhir.ValidID(id) {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "%q is not a valid disposal id", id)
	}
	d, err := rs.Get(c.Request.Context(), id)
	if errors.Is(err, retention.ErrNotFound) || (err == nil && d.Kind != retention.KindDisposal) {
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "there is no disposal %s", id)
	}
	return d, err
}

// certificate is a disposal's certificate of destruction.
type certificate struct {
	ResourceType string              `json:"resourceType"` // "DestructionCertificate": not a FHIR resource
	Disposal     *retention.Decision `json:"disposal"`
	AuditRecord  string              `json:"auditRequestId,omitempty"`
}

func (s *Server) disposalCertificate(c *gin.Context) error {
	rs, err := s.retentionStart(c, opDisposalCertificate)
	if err != nil {
		return err
	}
	d, err := s.disposalOf(c, rs)
	if err != nil {
		return err
	}
	a := accessOf(c)
	a.trail.resources = appendNew(a.trail.resources, "Disposal/"+d.ID)
	a.trail.patients = appendNew(a.trail.patients, d.Patient)
	if d.State != retention.StateDisposed {
		return fhir.Errorf(http.StatusConflict, "conflict", "disposal %s is %s: a certificate exists once it is approved and carried out", d.ID, d.State)
	}
	switch f := c.Query("_format"); f {
	case "html", "text/html":
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Status(http.StatusOK)
		return certificatePage.Execute(c.Writer, d)
	case "", "json", "application/json":
		writeJSON(c, http.StatusOK, certificate{ResourceType: "DestructionCertificate", Disposal: d, AuditRecord: d.AuditID})
		return nil
	default:
		return fhir.Errorf(http.StatusBadRequest, "invalid", "_format: the certificate comes as json or html")
	}
}

var certificatePage = template.Must(template.New("certificate").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 MST") },
	"day":  func(t time.Time) string { return t.UTC().Format("2 January 2006") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Certificate of destruction {{.ID}}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}</style></head>
<body>
<h1>Certificate of destruction</h1>
<p>Records of <strong>{{.Patient}}</strong> were destroyed on <strong>{{date .Approved.At}}</strong> under the retention schedule of policy {{.Schedule}}.
Every version of each record was removed from the store; this certificate and the audit trail's destruction record (request {{.AuditID}}) hold no clinical content.</p>
<table>
<tr><th>Disposal</th><td>{{.ID}}</td></tr>
<tr><th>Proposed by</th><td>{{.By.Subject}} ({{.By.Org}}, role {{.By.Role}}) on {{date .At}}</td></tr>
<tr><th>Reason</th><td>{{.Reason}}</td></tr>
<tr><th>Approved by</th><td>{{.Approved.By.Subject}} ({{.Approved.By.Org}}, role {{.Approved.By.Role}}) on {{date .Approved.At}}</td></tr>
<tr><th>Versions destroyed</th><td>{{.Destroyed}}</td></tr>
</table>
<h2>Records destroyed</h2>
<table><tr><th>Class of record</th><th>Rule</th><th>Period</th><th>Counted from</th><th>Due</th><th>Resources</th></tr>
{{range .Items}}<tr><td>{{.Category}}</td><td>{{.Rule}}</td><td>{{.Years}} years</td><td>{{.From}} ({{day .Trigger}})</td><td>{{day .Due}}</td><td>{{range $i, $r := .Resources}}{{if $i}}, {{end}}{{$r}}{{end}}</td></tr>
{{end}}</table>
</body></html>
`))

// holdRequest is the body of POST /$legal-hold and /$retention-extend.
type holdRequest struct {
	Patient  string `json:"patient"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
	Until    string `json:"until"`
}

func (s *Server) legalHold(c *gin.Context) error {
	return s.placeDecision(c, opLegalHold, retention.KindHold)
}

func (s *Server) retentionExtend(c *gin.Context) error {
	return s.placeDecision(c, opRetentionExtend, retention.KindExtend)
}

func (s *Server) placeDecision(c *gin.Context, operation, kind string) error {
	rs, err := s.retentionStart(c, operation)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req holdRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := validPatientRef(req.Patient); err != nil {
		return err
	}
	a := accessOf(c)
	if req.Category != "" && !slices.Contains(a.engine.Retention().Vocabulary, req.Category) {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "category %q is not a record category of the policy's vocabulary", req.Category)
	}
	if strings.TrimSpace(req.Reason) == "" {
		return fhir.Errorf(http.StatusBadRequest, "required", "reason is required")
	}
	d := &retention.Decision{ID: retention.NewID(), Kind: kind, State: retention.StateActive, By: personOf(a),
		At: s.cfg.Clock().UTC().Truncate(time.Millisecond), Patient: req.Patient, Category: req.Category, Reason: req.Reason}
	switch {
	case kind == retention.KindExtend:
		until, err := time.Parse("2006-01-02", req.Until)
		if err != nil {
			return fhir.Errorf(http.StatusBadRequest, "invalid", "until must be the new earliest disposal date, YYYY-MM-DD")
		}
		if !until.After(s.cfg.Clock()) {
			return fhir.Errorf(http.StatusBadRequest, "invalid", "until must be in the future")
		}
		d.Until = &until
	case req.Until != "":
		return fhir.Errorf(http.StatusBadRequest, "invalid", "a legal hold has no end date: it lasts until lifted")
	}
	if err := rs.Insert(c.Request.Context(), d); err != nil {
		return err
	}
	a.trail.patients = appendNew(a.trail.patients, req.Patient)
	a.trail.categories = appendNew(a.trail.categories, req.Category)
	a.trail.resources = appendNew(a.trail.resources, "RetentionDecision/"+d.ID)
	writeJSON(c, http.StatusCreated, d)
	return nil
}

func (s *Server) legalHoldLift(c *gin.Context) error {
	rs, err := s.retentionStart(c, opLegalHold)
	if err != nil {
		return err
	}
	id := routeOf(c).ID
	d, err := rs.Get(c.Request.Context(), id)
	if errors.Is(err, retention.ErrNotFound) || (err == nil && d.Kind != retention.KindHold) {
		return fhir.Errorf(http.StatusNotFound, "not-found", "there is no legal hold %s", id)
	}
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return fhir.Errorf(http.StatusBadRequest, "required", "reason is required: say why the hold no longer applies")
	}
	a := accessOf(c)
	a.trail.patients = appendNew(a.trail.patients, d.Patient)
	a.trail.resources = appendNew(a.trail.resources, "RetentionDecision/"+d.ID)
	if d.State != retention.StateActive {
		return fhir.Errorf(http.StatusConflict, "conflict", "legal hold %s is %s already", d.ID, d.State)
	}
	d.State = retention.StateLifted
	d.Lifted = &retention.Step{By: personOf(a), At: s.cfg.Clock().UTC().Truncate(time.Millisecond), Reason: req.Reason}
	if err := rs.Replace(c.Request.Context(), d, retention.StateActive); err != nil {
		if errors.Is(err, retention.ErrState) {
			return fhir.Errorf(http.StatusConflict, "conflict", "legal hold %s was changed by someone else meanwhile", d.ID)
		}
		return err
	}
	writeJSON(c, http.StatusOK, d)
	return nil
}

var _ RecordKeeper = (*store.Store)(nil)

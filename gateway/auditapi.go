package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/policy"
)

// AuditReader is what the audit endpoints need from the audit trail.
type AuditReader interface {
	AuditEvent(ctx context.Context, id string) (map[string]any, error)
	Search(ctx context.Context, q audit.Query) ([]map[string]any, string, error)
	WhoAccessed(ctx context.Context, patient string, limit int) ([]audit.Access, error)
	PendingBreakGlass(ctx context.Context, limit int) ([]map[string]any, error)
	RecordReview(ctx context.Context, r audit.Review) error
}

// auditHandlers serve the audit trail: it can be read and searched (and
// break-glass accesses reviewed), never written, changed or deleted.
func (s *Server) auditHandlers(rt *route) map[string]handler {
	get := func(h handler) map[string]handler { return map[string]handler{http.MethodGet: h} }
	switch {
	case rt.shape == "/{type}":
		return get(s.auditSearch)
	case rt.shape == "/{type}/$op" && rt.Operation == "$break-glass-pending":
		return get(s.breakGlassPending)
	case rt.shape == "/{type}/{id}":
		return get(s.auditRead)
	case rt.shape == "/{type}/{id}/$op" && rt.Operation == audit.OperationReview:
		return map[string]handler{http.MethodPost: s.breakGlassReview}
	}
	return map[string]handler{}
}

// mayReadAudit asks the policy whether the caller may read the audit trail
// (the IG and Caldicott roles).
func (a *access) mayReadAudit(ctx context.Context) error {
	_, err := a.decideObject(ctx, policy.ActionRead, "AuditEvent", "", map[string]any{"resourceType": "AuditEvent"})
	return err
}

// decideWholeOperation asks the policy whether the caller may run
// operation over the whole record (about no one person), and notes the
// decision for the audit record.
func (a *access) decideWholeOperation(ctx context.Context, operation string) error {
	d, err := a.engine.DecideOperation(ctx, policy.Input{Action: policy.ActionOperation, Operation: operation, Subject: a.subject()})
	if err != nil {
		return fmt.Errorf("policy decision: %w", err)
	}
	return a.conclude(ctx, "", "", policy.ResourceAttributes{}, d)
}

// decideOperation asks the policy whether the caller may run operation on
// the stored Patient v, and notes the decision for the audit record (with
// the patient, allowed or not); a refusal is a 403 naming the rules the
// policy discloses.
func (a *access) decideOperation(ctx context.Context, operation string, v *store.Version) error {
	attrs, _, err := versionAttrs(v)
	if err != nil {
		return err
	}
	f, err := a.loadFor(ctx, policy.AllFacts, attrs.Patient)
	if err != nil {
		return err
	}
	d, err := a.engine.DecideOperation(ctx, policy.Input{Action: policy.ActionOperation, Operation: operation, Subject: a.subject(),
		Resource: policy.Resource{Type: v.Type, ID: v.ID, ResourceAttributes: attrs}, Context: f.contextFor(attrs.Patient)})
	if err != nil {
		return fmt.Errorf("policy decision: %w", err)
	}
	return a.conclude(ctx, v.Type, v.ID, attrs, d)
}

// auditForIG returns the audit trail if the caller may read it (the IG and
// Caldicott roles).
func (s *Server) auditForIG(c *gin.Context) (AuditReader, error) {
	lg, err := s.auditLog()
	if err != nil {
		return nil, err
	}
	if err := accessOf(c).mayReadAudit(c.Request.Context()); err != nil {
		return nil, err
	}
	return lg, nil
}

func (s *Server) auditLog() (AuditReader, error) {
	if s.cfg.AuditReader == nil {
		return nil, fhir.Errorf(http.StatusNotImplemented, "not-supported", "the audit trail cannot be searched on this gateway")
	}
	return s.cfg.AuditReader, nil
}

func (s *Server) auditRead(c *gin.Context) error {
	lg, err := s.auditForIG(c)
	if err != nil {
		return err
	}
	ev, err := lg.AuditEvent(c.Request.Context(), routeOf(c).ID)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, ev)
	return nil
}

func (s *Server) auditSearch(c *gin.Context) error {
	lg, err := s.auditForIG(c)
	if err != nil {
		return err
	}
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	events, next, err := lg.Search(c.Request.Context(), q)
	if errors.Is(err, audit.ErrBadCursor) {
		err = fhir.Errorf(http.StatusBadRequest, "invalid", "the _cursor value is not one this server issued; start again from the first page").At("_cursor")
	}
	if err != nil {
		return err
	}
	base := s.base(c)
	b := newBundle("searchset")
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: base + "/AuditEvent?" + c.Request.URL.RawQuery})
	if next != "" {
		v := c.Request.URL.Query()
		v.Set("_cursor", next)
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: base + "/AuditEvent?" + v.Encode()})
	}
	for _, ev := range events {
		raw, _ := json.Marshal(ev)
		b.Entry = append(b.Entry, bundleEntry{FullURL: fmt.Sprintf("%s/AuditEvent/%v", base, ev["id"]), Resource: raw, Search: &entrySearch{Mode: "match"}})
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

// auditQuery parses the audit search parameters, reporting every problem.
func auditQuery(c *gin.Context) (audit.Query, error) {
	var q audit.Query
	var issues []fhir.Issue
	bad := func(p, msg string) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: msg, Expression: []string{p}})
	}
	boolean := func(p, v string) *bool {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(p, p+" must be true or false")
			return nil
		}
		return &b
	}
	for k, vs := range c.Request.URL.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "patient":
			if !strings.HasPrefix(v, "Patient/") {
				v = "Patient/" + v
			}
			q.Patient = v
		case "agent":
			q.Subject = v
		case "agent-org":
			q.Org = v
		case "purpose":
			q.Purpose = v
		case "allowed":
			q.Allowed = boolean(k, v)
		case "break-glass":
			q.BreakGlass = boolean(k, v)
		case "date":
			for _, d := range vs {
				prefix, rest := d[:min(2, len(d))], d[min(2, len(d)):]
				t, err := time.Parse(time.RFC3339, rest)
				if err != nil {
					if t, err = time.Parse("2006-01-02", rest); err != nil {
						bad(k, "date takes ge or lt with a date or instant, e.g. date=ge2026-11-01")
						continue
					}
				}
				switch prefix {
				case "ge":
					q.From = t
				case "lt":
					q.To = t
				default:
					bad(k, "date takes the prefixes ge and lt")
				}
			}
		case "entity":
			if !strings.HasPrefix(v, "AuditEvent/") || v == "AuditEvent/" {
				bad(k, "entity takes AuditEvent/<id>, and finds the reviews of that audit record")
			}
			q.Entity = v
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				bad(k, "_count must be a positive integer")
			}
			q.Count = n
		case "_cursor":
			q.Cursor = v
		case "_format", "_pretty":
		default:
			issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Expression: []string{k},
				Diagnostics: "AuditEvent search supports patient, agent, agent-org, purpose, date, allowed, break-glass, entity, _count and _cursor"})
		}
	}
	if len(issues) > 0 {
		return q, &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	return q, nil
}

func (s *Server) breakGlassPending(c *gin.Context) error {
	lg, err := s.auditForIG(c)
	if err != nil {
		return err
	}
	events, err := lg.PendingBreakGlass(c.Request.Context(), 500)
	if err != nil {
		return err
	}
	b := newBundle("collection")
	for _, ev := range events {
		raw, _ := json.Marshal(ev)
		b.Entry = append(b.Entry, bundleEntry{FullURL: fmt.Sprintf("%s/AuditEvent/%v", s.base(c), ev["id"]), Resource: raw})
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

// breakGlassReview records an IG lead's review of one break-glass access,
// as an audit record of its own in the chain (read back with
// AuditEvent?entity=AuditEvent/<id>).
func (s *Server) breakGlassReview(c *gin.Context) error {
	lg, err := s.auditForIG(c)
	if err != nil {
		return err
	}
	a := accessOf(c)
	if err := requireJSONBody(c); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var params struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name         string  `json:"name"`
			ValueBoolean *bool   `json:"valueBoolean"`
			ValueString  *string `json:"valueString"`
		} `json:"parameter"`
	}
	if err := fhir.CheckJSON(body, fhir.DefaultJSONLimits); err != nil {
		return err
	}
	if err := json.Unmarshal(body, &params); err != nil || params.ResourceType != "Parameters" {
		return fhir.Errorf(http.StatusBadRequest, "structure", `send a Parameters resource: {"resourceType":"Parameters","parameter":[{"name":"justified","valueBoolean":true},{"name":"note","valueString":"..."}]}`)
	}
	r := audit.Review{AuditID: routeOf(c).ID, Reviewer: a.id.Subject, Org: a.id.Org, Role: a.id.Role, Purpose: a.id.Purpose}
	var sawJustified bool
	for _, p := range params.Parameter {
		switch {
		case p.Name == "justified" && p.ValueBoolean != nil:
			r.Justified, sawJustified = *p.ValueBoolean, true
		case p.Name == "note" && p.ValueString != nil:
			r.Note = *p.ValueString
		}
	}
	if !sawJustified || strings.TrimSpace(r.Note) == "" {
		return fhir.Errorf(http.StatusUnprocessableEntity, "required", "a review needs justified (valueBoolean) and a note (valueString)").At("Parameters.parameter")
	}
	err = lg.RecordReview(c.Request.Context(), r)
	switch {
	case errors.Is(err, audit.ErrAlreadyReviewed):
		err = fhir.Errorf(http.StatusConflict, "conflict", "this break-glass access has already been reviewed")
	case errors.Is(err, audit.ErrNotBreakGlass):
		err = fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "this audit record is not a break-glass access")
	case errors.Is(err, audit.ErrInvalidReview):
		err = fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "the review is incomplete: %v", err)
	}
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, fhir.Outcome(fhir.Issue{Severity: "information", Code: "informational", Diagnostics: "review recorded"}))
	return nil
}

// whoAccessed answers GET /Patient/{id}/$who-accessed for those the policy
// lets read a person's access report: the person themselves
// (SELF-6-access-report) and council staff who know them
// (AUDIT-8-access-report).
func (s *Server) whoAccessed(c *gin.Context) error {
	lg, err := s.auditLog()
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	v, err := s.store.Read(ctx, "Patient", id)
	if err != nil {
		return err
	}
	if err := accessOf(c).decideOperation(ctx, "$who-accessed", v); err != nil {
		return err
	}
	patient := "Patient/" + id
	accesses, err := lg.WhoAccessed(ctx, patient, 500)
	if err != nil {
		return err
	}
	if c.Query("_format") == "html" || strings.Contains(c.GetHeader("Accept"), "text/html") {
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Status(http.StatusOK)
		_ = whoAccessedPage.Execute(c.Writer, accesses)
		return nil
	}
	writeJSON(c, http.StatusOK, accessParameters(accesses))
	return nil
}

// accessParameters is a person's access report as a FHIR Parameters
// resource: one access parameter per access, newest first.
func accessParameters(accesses []audit.Access) map[string]any {
	out := map[string]any{"resourceType": "Parameters"}
	var parts []any
	for _, x := range accesses {
		p := []any{map[string]any{"name": "time", "valueInstant": x.Time.UTC().Format(time.RFC3339)}}
		if x.Public {
			p = append(p, map[string]any{"name": "who", "valueString": memberOfThePublic})
		} else {
			p = append(p, map[string]any{"name": "organization", "valueIdentifier": map[string]any{"system": odsSystem, "value": x.Org}},
				map[string]any{"name": "role", "valueCode": x.Role})
		}
		p = append(p,
			map[string]any{"name": "purpose", "valueCoding": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": x.Purpose}},
			map[string]any{"name": "interaction", "valueCode": x.Interaction},
			map[string]any{"name": "allowed", "valueBoolean": x.Allowed},
			map[string]any{"name": "breakGlass", "valueBoolean": x.BreakGlass},
		)
		for _, cat := range x.Categories {
			p = append(p, map[string]any{"name": "category", "valueCode": cat})
		}
		parts = append(parts, map[string]any{"name": "access", "part": p})
	}
	if len(parts) > 0 {
		out["parameter"] = parts
	}
	return out
}

// memberOfThePublic stands in an access report for a person (another
// person's token), who is never named.
const memberOfThePublic = "a member of the public"

// accessTable is the access report as an HTML table, of the accesses dot
// names in the template it is part of.
func accessTable(dot string) string {
	return `{{if ` + dot + `}}<table><thead><tr><th>When</th><th>Organisation</th><th>Job role</th><th>Why</th><th>What kind of information</th><th>Outcome</th></tr></thead><tbody>
{{range ` + dot + `}}<tr><td>{{.Time.Format "2 Jan 2006 15:04"}}</td>{{if .Public}}<td colspan="2">` + memberOfThePublic + `</td>{{else}}<td>{{.Org}}</td><td>{{.Role}}</td>{{end}}<td>{{.Purpose}}{{if .BreakGlass}} (emergency access){{end}}</td><td>{{range $i, $c := .Categories}}{{if $i}}, {{end}}{{$c}}{{end}}</td><td>{{if .Allowed}}seen{{else}}refused{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>Nobody else has looked at your record.</p>{{end}}`
}

var whoAccessedPage = template.Must(template.New("who").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Who has looked at your record</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ccc;padding:.4em;text-align:left}</style></head>
<body><h1>Who has looked at your record</h1>
<p>Every time someone from another organisation opens or searches your social care record, it is written down. This list shows those accesses, newest first. If something looks wrong, contact the council's data protection officer.</p>
` + accessTable(".") + `
</body></html>
`))

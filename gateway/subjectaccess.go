package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/quality"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/summary"
	"github.com/socialcare-fhir/gateway/policy"
)

// selfAccessPurpose is the purpose of use a subject access export is
// decided under when staff ask on the person's behalf (v3-ActReason
// PATRQT, patient requested; one of data.dsa.purposes.self_access).
const selfAccessPurpose = "PATRQT"

// subjectAccess answers GET /Patient/{id}/$subject-access: the person's
// whole record as they may see it, as a collection Bundle (the Patient,
// its compartment, the person's rights requests, then the access report
// as a Parameters and the request's Task) or, with _format=html, a
// readable, printable document with the access report.
//
// The person (SELF-6-subject-access) or council staff on their behalf
// (RIGHTS-10-requests) may ask; either way what the export holds is
// decided as the person's own reads would be (SELF-6: everything about
// them less what is labelled third-party confidential,
// SELF-6-third-party), never as the staff member's. Every export is one
// audited interaction naming what it returned, and is recorded against
// a subject-access Task: the person's open one (completed by it) or a new
// one, dated and completed now.
func (s *Server) subjectAccess(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	id, err := pathID(c)
	if err != nil {
		return err
	}
	pv, err := s.store.Read(ctx, "Patient", id)
	if err != nil {
		return err
	}
	if err := a.decideOperation(ctx, "$subject-access", pv); err != nil {
		return err
	}
	obj, err := decodeVersion(pv)
	if err != nil {
		return err
	}
	patient := "Patient/" + id
	view := a.personView(patient, quality.NHSNumber(obj))
	record, err := s.subjectRecord(ctx, view, patient)
	if err != nil {
		return err
	}
	var accesses []audit.Access
	if lg, err := s.auditLog(); err == nil {
		if accesses, err = lg.WhoAccessed(ctx, patient, 500); err != nil {
			return err
		}
	}
	task, err := s.recordExport(ctx, a, view, patient, len(record))
	if err != nil {
		return err
	}
	if wantsHTML(c) {
		return s.subjectAccessPage(c, record, accesses)
	}
	b := newBundle("collection")
	base := s.base(c)
	for _, v := range record {
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/" + v.Type + "/" + v.ID, Resource: v.JSON})
	}
	report, err := json.Marshal(accessParameters(accesses))
	if err != nil {
		return err
	}
	b.Entry = append(b.Entry, bundleEntry{Resource: report},
		bundleEntry{FullURL: base + "/Task/" + task.ID, Resource: task.JSON})
	writeJSON(c, http.StatusOK, b)
	return nil
}

// personView is the access the person's own reads are decided by: the
// caller's when the caller is the person, else the person's (they are
// patient, with NHS number nhs should the policy need their facts looked
// up afresh), with the caller's trail and policy version.
func (a *access) personView(patient, nhs string) *access {
	if a.id.Kind == auth.KindPerson {
		return a
	}
	id := &auth.Identity{Kind: auth.KindPerson, Subject: a.id.Subject, Purpose: selfAccessPurpose, NHSNumber: nhs}
	return &access{server: a.server, id: id, engine: a.engine, trail: a.trail,
		facts: &patientFacts{have: policy.Facts{Self: true}, self: map[string]bool{patient: true}}}
}

// subjectRecord is everything about the person a may read: every page of
// the compartment $everything returns, then the person's rights requests.
func (s *Server) subjectRecord(ctx context.Context, a *access, patient string) ([]*store.Version, error) {
	req := &everythingReq{count: s.cfg.MaxCount, types: everythingTypes()}
	var out []*store.Version
	for {
		page, next, err := s.compartmentPage(ctx, a, patient, req)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		req.cursorType, req.cursor, _ = strings.Cut(next, ":")
	}
	tasks, err := s.searchDecided(ctx, a, "Task", url.Values{"patient": {patient}})
	if err != nil {
		return nil, err
	}
	return append(out, tasks...), nil
}

// recordExport completes the person's oldest open subject-access request
// with this export, or records a new one, received and completed now
// (an export asked for without a request first is still a request with
// its deadline, met); view is the person's (personView). The Task is the
// gateway's own record of the workflow, written once the policy allowed
// the export.
func (s *Server) recordExport(ctx context.Context, a, view *access, patient string, n int) (*store.Version, error) {
	now := s.cfg.Clock().UTC()
	done := func(o map[string]any) {
		o["status"], o["businessStatus"] = "completed", rightsStatus("exported", "Exported")
		o["lastModified"] = instant(now)
		o["output"] = []any{map[string]any{"type": map[string]any{"coding": []any{map[string]any{"system": RightsSystem, "code": "exported-resources"}}}, "valueInteger": n}}
	}
	open, err := s.searchDecided(ctx, view, "Task", url.Values{"patient": {patient},
		"code": {RightsSystem + "|" + codeSubjectAccess}, "status": {"requested,accepted"}, "_sort": {"authored-on"}})
	if err != nil {
		return nil, err
	}
	if len(open) > 0 {
		obj, err := decodeVersion(open[0])
		if err != nil {
			return nil, err
		}
		r := &request{v: open[0], obj: obj, patient: patient}
		next, err := s.advance(ctx, a, r, done)
		if err != nil {
			return nil, err
		}
		a.trail.noteResource("Task", next.v.ID, patient)
		return next.v, nil
	}
	obj := map[string]any{"resourceType": "Task", "intent": "order",
		"code":        map[string]any{"coding": []any{map[string]any{"system": RightsSystem, "code": codeSubjectAccess, "display": "Subject access request"}}},
		"for":         map[string]any{"reference": patient},
		"authoredOn":  instant(now),
		"restriction": map[string]any{"period": map[string]any{"start": instant(now), "end": instant(monthLater(now))}},
	}
	if a.id.Kind == auth.KindPerson {
		obj["requester"] = map[string]any{"reference": patient}
	}
	done(obj)
	stampAuthors(obj, []string{a.id.Org})
	v, err := s.store.Create(ctx, &fhir.Resource{Type: "Task", Object: obj})
	if err != nil {
		return nil, err
	}
	a.trail.noteResource("Task", v.ID, patient)
	return v, nil
}

// subjectAccessPage renders the export as one printable page: the
// person's summary (fhir/summary's sections, over the whole record),
// then every resource held, then the access report.
func (s *Server) subjectAccessPage(c *gin.Context, record []*store.Version, accesses []audit.Access) error {
	rv, err := s.recordView(c, record)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := subjectAccessHTML.Execute(&b, map[string]any{"Person": rv.Person, "Generated": rv.Generated,
		"Sections": rv.Sections, "Resources": rv.Resources, "Accesses": accesses}); err != nil {
		return err
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
	return nil
}

// recordPage is a person's record as a page shows it: who they are, the
// summary's sections (fhir/summary, over the whole record) and every
// resource held.
type recordPage struct {
	Person    summary.Person
	Generated string
	Sections  []template.HTML
	Resources []pageResource
}

// recordView builds the page form of record (the Patient first, as
// subjectRecord returns it).
func (s *Server) recordView(c *gin.Context, record []*store.Version) (*recordPage, error) {
	in := summary.Input{Now: s.cfg.Clock().UTC(), Base: s.base(c), RecentDays: summary.MaxRecentDays}
	rv := &recordPage{Generated: in.Now.Format("2 January 2006 15:04 MST")}
	for _, v := range record {
		if v.Type == "Patient" && in.Patient.ID == "" {
			in.Patient = resourceOf(v)
		} else {
			in.Resources = append(in.Resources, resourceOf(v))
		}
		rv.Resources = append(rv.Resources, describe(v))
	}
	doc, err := summary.Build(in)
	if err != nil {
		return nil, err
	}
	rv.Person = doc.Person
	for _, sec := range doc.Sections {
		// Generated by fhir/summary's narrative, which escaped every value.
		rv.Sections = append(rv.Sections, template.HTML("<section><h3>"+template.HTMLEscapeString(sec.Title)+"</h3>"+sec.Div+"</section>")) //nolint:gosec
	}
	return rv, nil
}

// pageResource is one resource as the document lists it: its elements as
// path: value lines, the statement's text for a supplementary statement,
// and whether a statement is attached to it.
type pageResource struct {
	Ref, Statement string
	HasStatement   bool
	Fields         [][2]string
}

func describe(v *store.Version) pageResource {
	p := pageResource{Ref: v.Type + "/" + v.ID}
	obj, err := fhir.DecodeObject(v.JSON)
	if err != nil {
		return p
	}
	for _, x := range list(obj["extension"]) {
		if m, _ := x.(map[string]any); m["url"] == StatementExtension {
			p.HasStatement = true
		}
	}
	if v.Type == "DocumentReference" {
		for _, ct := range list(obj["content"]) {
			m, _ := ct.(map[string]any)
			att, _ := m["attachment"].(map[string]any)
			if data, _ := att["data"].(string); strings.HasPrefix(fmt.Sprint(att["contentType"]), "text/plain") {
				if b, err := base64.StdEncoding.DecodeString(data); err == nil {
					p.Statement = string(b)
				}
			}
		}
	}
	for _, k := range []string{"meta", "text", "id", "resourceType", "contained"} {
		delete(obj, k)
	}
	flatten("", obj, &p.Fields)
	return p
}

// flatten lists the leaves of a JSON value as path: value, in key order.
func flatten(path string, v any, out *[][2]string) {
	switch n := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(n))
		for k := range n {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(strings.TrimPrefix(path+"."+k, "."), n[k], out)
		}
	case []any:
		for i, e := range n {
			flatten(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	default:
		*out = append(*out, [2]string{path, fmt.Sprint(n)})
	}
}

var subjectAccessHTML = template.Must(template.New("sar").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your social care record</title>
<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border-bottom:1px solid #ccc;padding:.3em;text-align:left;vertical-align:top}em.opinion{color:#6a3d9a}.statement{border-left:4px solid #d4351c;padding-left:.5em}@media print{section,article{page-break-inside:avoid}}</style></head>
<body><h1>Your social care record</h1>
<p>{{with .Person.Name}}{{.}}{{end}}{{with .Person.NHSNumber}} · NHS number {{.}}{{end}}{{with .Person.BirthDate}} · born {{.}}{{end}}</p>
<p>A copy of the information held about you, produced on {{.Generated}} in answer to a subject access request. Information about other people that was given in confidence is not included. Statements marked <em class="opinion">Professional opinion</em> are a worker's opinion, not established fact.</p>
<h2>Summary</h2>
{{range .Sections}}{{.}}
{{end}}
<h2>Everything held about you</h2>
` + recordResources(".Resources") + `
<h2>Who has looked at your record</h2>
` + accessTable(".Accesses") + `
</body></html>
`))

// recordResources is the template text listing the pageResources at dot,
// one article each: the subject access page and the case-file review
// page show a record so.
func recordResources(dot string) string {
	return `{{range ` + dot + `}}<article id="{{.Ref}}"><h3>{{.Ref}}</h3>{{if .HasStatement}}<p class="statement">A supplementary statement is attached to this record.</p>{{end}}{{with .Statement}}<p class="statement">{{.}}</p>{{end}}
<table><tbody>{{range .Fields}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>{{end}}</tbody></table></article>
{{end}}`
}

package gateway

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/quality"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/policy"
)

// The data-quality report: GET /$data-quality over the whole record, GET
// /Patient/{id}/$data-quality over one person's. The policy decides who
// runs it (QUALITY-9-data-quality); the report then reads every resource
// its reader may read, as a search would (restricted in the database,
// decided and redacted one by one), and lists what package quality finds.
// Parameters: days (how long an open care package may go without a visit
// or note, default 28), validate (true: also run the R4 validator over
// every resource; the default for one person, off for the whole record),
// _format json (a FHIR Parameters), csv or html.

// qualityPage is how many resources one store read of the report takes.
const qualityPage = 500

func (s *Server) dataQuality(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	params := c.Request.URL.Query()
	patient := ""
	if routeOf(c).Type == "Patient" {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		v, err := s.store.Read(ctx, "Patient", id)
		if err != nil {
			return err
		}
		if err := a.decideOperation(ctx, "$data-quality", v); err != nil {
			return err
		}
		patient = "Patient/" + id
	} else {
		if err := a.decideWholeOperation(ctx, "$data-quality"); err != nil {
			return err
		}
	}
	opt, format, err := s.qualityOptions(params, patient != "")
	if err != nil {
		return err
	}
	opt.Org = a.id.Org
	rep, err := s.qualityReport(ctx, a, opt, patient)
	if err != nil {
		return err
	}
	// The audit record names what the report shows, not everything read.
	for _, it := range rep.Items {
		typ, id, _ := strings.Cut(it.Resource, "/")
		a.trail.noteResource(typ, id, it.Patient)
	}
	switch format {
	case "csv":
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="data-quality.csv"`)
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"check", "title", "patient", "resource", "detail"})
		titles := qualityTitles()
		for _, it := range rep.Items {
			_ = w.Write([]string{it.Check, titles[it.Check], it.Patient, it.Resource, it.Detail})
		}
		w.Flush()
	case "html":
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Status(http.StatusOK)
		_ = qualityPageHTML.Execute(c.Writer, qualityView(rep, s.base(c), patient))
	default:
		writeJSON(c, http.StatusOK, qualityParameters(rep, s.base(c), patient))
	}
	return nil
}

// qualityOptions parses the report's parameters.
func (s *Server) qualityOptions(params url.Values, onePerson bool) (quality.Options, string, error) {
	opt := quality.Options{Today: s.cfg.Clock().UTC(), Validate: onePerson}
	var issues []fhir.Issue
	bad := func(param, msg string) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: param + ": " + msg, Expression: []string{param}})
	}
	for k := range params {
		if !slices.Contains([]string{"days", "validate", "_format"}, k) {
			issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Expression: []string{k},
				Diagnostics: k + ": not a parameter of $data-quality (supported: days, validate, _format=json|csv|html)"})
		}
	}
	if v := params.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			bad("days", "must be a whole number of days from 1 to 366")
		}
		opt.VisitWindow = time.Duration(n) * 24 * time.Hour
	}
	if v := params.Get("validate"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("validate", "must be true or false")
		}
		opt.Validate = b
	}
	format, ok := reportFormat(params.Get("_format"))
	if !ok {
		bad("_format", "the report comes as json, csv or html")
	}
	if len(issues) > 0 {
		return opt, "", &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	return opt, format, nil
}

// reportFormat reads a report's _format: json (the default), csv or
// html; ok false for anything else.
func reportFormat(f string) (format string, ok bool) {
	switch strings.TrimSpace(f) {
	case "", "json", "application/json", "application/fhir+json", "fhir+json":
		return "json", true
	case "csv", "text/csv":
		return "csv", true
	case "html", "text/html":
		return "html", true
	}
	return "", false
}

// qualityReport reads every resource the caller may read (of one patient
// when patient is set), type by type, and builds the report.
func (s *Server) qualityReport(ctx context.Context, a *access, opt quality.Options, patient string) (*quality.Report, error) {
	b := quality.New(opt)
	var pinned []string
	if patient != "" {
		pinned = []string{patient}
	}
	for _, typ := range fhir.ResourceTypes {
		if typ == "AuditEvent" {
			continue // the audit trail is not part of the care record
		}
		if patient != "" && typ != "Patient" && !slices.Contains(search.CompartmentTypes(), typ) && typ != "Organization" {
			continue // not about the person (Organizations name the providers of the person's packages)
		}
		// One person's records are their compartment; the Organizations
		// are every one the reader may read.
		restrict := a.restrictTo(policy.ActionSearch, typ, pinned)
		inCompartment := patient != "" && typ != "Organization"
		if patient != "" && !inCompartment {
			restrict = a.restrictTo(policy.ActionSearch, typ, nil)
		}
		cursor := ""
		for {
			q, err := search.Parse(typ, url.Values{"_count": {strconv.Itoa(qualityPage)}}, search.Options{DefaultCount: qualityPage, MaxCount: qualityPage})
			if err != nil {
				return nil, err
			}
			if inCompartment {
				q.Filter = cond.AllOf(q.Filter, cond.Is(cond.Compartment, patient))
			}
			q.Cursor = cursor
			page, err := s.store.Search(ctx, q, restrict)
			if err != nil {
				return nil, err
			}
			kept, err := a.decideVersions(ctx, policy.ActionSearch, page.Matches, false)
			if err != nil {
				return nil, err
			}
			for _, v := range kept {
				if err := feed(b, v); err != nil {
					return nil, err
				}
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	if patient == "" {
		return b.Report(s.cfg.Clock().UTC()), nil
	}
	// One person: the other Patients that may be the same person (one
	// NHS number, or one name and birth date) are read too, and only the
	// person's own items are kept.
	if err := s.qualityNamesakes(ctx, a, b, patient); err != nil {
		return nil, err
	}
	rep := b.Report(s.cfg.Clock().UTC())
	rep.Items = slices.DeleteFunc(rep.Items, func(it quality.Item) bool { return it.Patient != patient })
	return rep, nil
}

// qualityNamesakes feeds b the Patients other than patient the caller may
// read that share its NHS number, or its family name and birth date.
func (s *Server) qualityNamesakes(ctx context.Context, a *access, b *quality.Builder, patient string) error {
	v, err := s.store.Read(ctx, "Patient", strings.TrimPrefix(patient, "Patient/"))
	if err != nil {
		return err
	}
	body, _, err := a.decide(ctx, policy.ActionRead, v)
	if err != nil {
		return err
	}
	obj, err := fhir.DecodeObject(body)
	if err != nil {
		return err
	}
	var searches []url.Values
	if nhs := quality.NHSNumber(obj); nhs != "" {
		searches = append(searches, url.Values{"identifier": {nhsNumberSystem + "|" + nhs}})
	}
	if family, birth := quality.FamilyAndBirthDate(obj); family != "" && birth != "" {
		searches = append(searches, url.Values{"family:exact": {family}, "birthdate": {birth}})
	}
	for _, sp := range searches {
		sp.Set("_count", strconv.Itoa(qualityPage))
		q, err := search.Parse("Patient", sp, search.Options{DefaultCount: qualityPage, MaxCount: qualityPage})
		if err != nil {
			return err
		}
		page, err := s.store.Search(ctx, q, a.restrictTo(policy.ActionSearch, "Patient", nil))
		if err != nil {
			return err
		}
		kept, err := a.decideVersions(ctx, policy.ActionSearch, page.Matches, false)
		if err != nil {
			return err
		}
		for _, v := range kept {
			if "Patient/"+v.ID == patient {
				continue
			}
			if err := feed(b, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// feed gives one decided (and redacted) version to the report.
func feed(b *quality.Builder, v *store.Version) error {
	obj, err := fhir.DecodeObject(v.JSON)
	if err != nil {
		return fmt.Errorf("decode %s/%s: %w", v.Type, v.ID, err)
	}
	attrs, _, err := versionAttrs(v)
	if err != nil {
		return err
	}
	b.Add(v.Type, v.ID, attrs.Patient, obj)
	return nil
}

func qualityTitles() map[string]string {
	out := map[string]string{}
	for _, c := range quality.Checks {
		out[c.Code] = c.Title
	}
	return out
}

// qualityParameters is the report as a FHIR Parameters resource: the
// scope, when it was made, how much was read, then one "check" per check
// with its code, title, count and items (patient, resource, detail).
func qualityParameters(rep *quality.Report, base, patient string) map[string]any {
	scope := "the whole record"
	if patient != "" {
		scope = patient
	}
	params := []any{
		map[string]any{"name": "scope", "valueString": scope},
		map[string]any{"name": "generated", "valueInstant": rep.Generated.Format(time.RFC3339)},
		map[string]any{"name": "scanned", "valueInteger": rep.Scanned},
		map[string]any{"name": "visitWindowDays", "valueInteger": int(rep.Options.VisitWindow / (24 * time.Hour))},
		map[string]any{"name": "validated", "valueBoolean": rep.Options.Validate},
	}
	for _, c := range quality.Checks {
		parts := []any{
			map[string]any{"name": "code", "valueCode": c.Code},
			map[string]any{"name": "title", "valueString": c.Title},
			map[string]any{"name": "count", "valueInteger": rep.Count(c.Code)},
		}
		for _, it := range rep.Items {
			if it.Check != c.Code {
				continue
			}
			item := []any{map[string]any{"name": "resource", "valueReference": map[string]any{"reference": it.Resource}}}
			if it.Patient != "" {
				item = append(item, map[string]any{"name": "patient", "valueReference": map[string]any{"reference": it.Patient}})
			}
			item = append(item, map[string]any{"name": "detail", "valueString": it.Detail})
			parts = append(parts, map[string]any{"name": "item", "part": item})
		}
		params = append(params, map[string]any{"name": "check", "part": parts})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}

type qualityCheckView struct {
	Code, Title string
	Items       []quality.Item
}

type qualityReportView struct {
	Scope, Generated string
	Scanned          int
	Base             string
	Checks           []qualityCheckView
}

func qualityView(rep *quality.Report, base, patient string) qualityReportView {
	v := qualityReportView{Scope: "the whole record", Generated: rep.Generated.Format(time.RFC1123), Scanned: rep.Scanned, Base: base}
	if patient != "" {
		v.Scope = patient
	}
	for _, c := range quality.Checks {
		cv := qualityCheckView{Code: c.Code, Title: c.Title}
		for _, it := range rep.Items {
			if it.Check == c.Code {
				cv.Items = append(cv.Items, it)
			}
		}
		v.Checks = append(v.Checks, cv)
	}
	return v
}

var qualityPageHTML = template.Must(template.New("quality").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}h2 .n{font-weight:normal;color:#555}</style>
</head><body>
<h1>Data quality report</h1>
<p>Scope: {{.Scope}}. Made {{.Generated}} from {{.Scanned}} records you may read.</p>
{{range .Checks}}<h2 id="{{.Code}}">{{.Title}} <span class="n">({{len .Items}})</span></h2>
{{if .Items}}<table><thead><tr><th>Person</th><th>Record</th><th>What to check</th></tr></thead><tbody>
{{range .Items}}<tr><td>{{if .Patient}}<a href="{{$.Base}}/{{.Patient}}">{{.Patient}}</a>{{end}}</td><td><a href="{{$.Base}}/{{.Resource}}">{{.Resource}}</a></td><td>{{.Detail}}</td></tr>
{{end}}</tbody></table>{{else}}<p>Nothing found.</p>{{end}}
{{end}}</body></html>
`))

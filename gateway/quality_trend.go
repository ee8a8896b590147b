package gateway

// The data-quality trend: snapshots of the data-quality report's counts
// over the whole record, stored, and read back as counts per check per
// snapshot with the change since the one before.
//
//	POST /$data-quality-snapshot   take a snapshot now (201, the snapshot's Task)
//	GET  /$data-quality-trend      the organisation's snapshots, oldest first (_count, _format=json|csv|html)
//
// The policy decides both as it decides the report (QUALITY-9-data-quality,
// over the whole record only). A daily job (RunQualitySnapshots) takes one
// snapshot a day for every organisation that has taken one; its id is the
// organisation and the day, written only if absent, so instances sharing
// a database take one between them.
//
// What a snapshot counts: what the whole-record report shows the person
// who takes it (every resource decided for them by the policy, as GET
// /$data-quality does), so a council's counts are of its own caseload and
// never of another organisation's people. The daily job counts as the
// role and purpose of the organisation's newest snapshot's taker (kept in
// the snapshot's inputs), decided by the policy as that reader would be;
// if the policy no longer lets that role take snapshots, the job takes
// none for the organisation. It holds counts only, no person and no
// resource. Validation is not run (it would make the daily job slow), so
// the invalid-resource check is not in the trend.
//
// How it is stored, and why: a Task (code data-quality-snapshot, status
// completed, requester the organisation, inputs trigger, scanned and the
// visit window) containing a MeasureReport (status complete, type
// summary, measure qualityMeasure, one group per check coded in
// QualityCheckSystem with its initial-population count: the shape of a
// cohort measure's summary report). MeasureReport is R4's resource for a
// measure's counts over a period; it is not a type the gateway serves, so
// it travels contained in the gateway's Task, as a case-file review does
// (fhir/casefile's doc explains the pattern). The gateway's Tasks are
// never changed or deleted through the REST API.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/quality"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/policy"
)

const (
	opQualitySnapshot = "$data-quality-snapshot"
	opQualityTrend    = "$data-quality-trend"

	// QualitySystem codes the snapshots' Tasks (Task.code) and their
	// inputs and outputs.
	QualitySystem = policy.CodeSystemBase + "data-quality"
	// QualityCheckSystem codes a snapshot's groups: the codes of
	// quality.Checks.
	QualityCheckSystem = policy.CodeSystemBase + "data-quality-check"
	// QualitySnapshotJob is the audit trail's agent of the daily job.
	QualitySnapshotJob = "gateway-data-quality-snapshot"

	codeSnapshot = "data-quality-snapshot"
	// qualityMeasure is the canonical the snapshots' MeasureReports name:
	// the checks of package quality (no Measure resource is published).
	qualityMeasure = "https://socialcare-fhir.example.org/Measure/data-quality|1"
	// measurePopulation is HL7's code system of measure populations.
	measurePopulation = "http://terminology.hl7.org/CodeSystem/measure-population"
	countsID          = "counts"
	// maxTrend is the most snapshots one trend shows.
	maxTrend = 1000
	// defaultTrend is how many it shows without _count.
	defaultTrend = 100
)

// qualityTrendHandlers serve the trend's paths (ok false for others).
func (s *Server) qualityTrendHandlers(rt *route) (map[string]handler, bool) {
	switch {
	case rt.shape == "/$op" && rt.Operation == opQualitySnapshot:
		return map[string]handler{http.MethodPost: s.takeSnapshot}, true
	case rt.shape == "/$op" && rt.Operation == opQualityTrend:
		return map[string]handler{http.MethodGet: s.qualityTrend}, true
	}
	return nil, false
}

// snapshotChecks are the checks a snapshot counts (not validation).
func snapshotChecks() []quality.Check {
	return slices.DeleteFunc(slices.Clone(quality.Checks), func(c quality.Check) bool { return c.Code == quality.InvalidResource })
}

// wholeRecordReport is the data-quality report over the whole record as
// a shows it.
func (s *Server) wholeRecordReport(ctx context.Context, a *access) (*quality.Report, error) {
	return s.qualityReport(ctx, a, quality.Options{Today: s.cfg.Clock().UTC(), Org: a.id.Org}, "")
}

func qualityCode(code, display string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": QualitySystem, "code": code, "display": display}}}
}

// snapshotTask is the Task of a snapshot of rep for org, counted as
// the reader id (its kind, role and purpose are kept: the daily job
// counts as they would).
func snapshotTask(id, org, trigger string, reader *auth.Identity, rep *quality.Report) map[string]any {
	now := instant(rep.Generated.UTC())
	odsOrg := map[string]any{"identifier": map[string]any{"system": odsSystem, "value": org}}
	var groups []any
	for _, c := range snapshotChecks() {
		groups = append(groups, map[string]any{
			"code": map[string]any{"coding": []any{map[string]any{"system": QualityCheckSystem, "code": c.Code, "display": c.Title}}},
			"population": []any{map[string]any{
				"code":  map[string]any{"coding": []any{map[string]any{"system": measurePopulation, "code": "initial-population", "display": "Initial Population"}}},
				"count": rep.Count(c.Code),
			}},
		})
	}
	mr := map[string]any{"resourceType": "MeasureReport", "id": countsID, "status": "complete", "type": "summary",
		"measure": qualityMeasure, "date": now, "period": map[string]any{"start": now, "end": now}, "reporter": odsOrg, "group": groups}
	obj := map[string]any{"resourceType": "Task", "id": id, "status": "completed", "intent": "order",
		"code":       qualityCode(codeSnapshot, "Data-quality snapshot"),
		"authoredOn": now, "lastModified": now, "requester": odsOrg,
		"input": []any{
			map[string]any{"type": qualityCode("trigger", "Taken by"), "valueCode": trigger},
			map[string]any{"type": qualityCode("scanned", "Resources read"), "valueInteger": rep.Scanned},
			map[string]any{"type": qualityCode("visit-window-days", "Days an open package may go without a visit or note"), "valueInteger": int(rep.Options.VisitWindow / (24 * time.Hour))},
			map[string]any{"type": qualityCode(inputKind, "Counted as a reader of kind"), "valueCode": reader.Kind},
			map[string]any{"type": qualityCode(inputRole, "Counted as a reader with role"), "valueCode": reader.Role},
			map[string]any{"type": qualityCode(inputPurpose, "Counted as a reader with purpose"), "valueCode": reader.Purpose},
		},
		"output":    []any{map[string]any{"type": qualityCode("counts", "Counts per check"), "valueReference": map[string]any{"reference": "#" + countsID}}},
		"contained": []any{mr},
	}
	stampAuthors(obj, []string{org})
	return obj
}

// takeSnapshot answers POST /$data-quality-snapshot: a snapshot for the
// caller's organisation now (201, Location, the Task).
func (s *Server) takeSnapshot(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opQualitySnapshot); err != nil {
		return err
	}
	if len(c.Request.URL.Query()) > 0 {
		return fhir.Errorf(http.StatusBadRequest, "not-supported", "$data-quality-snapshot takes no parameters: it counts the whole record now")
	}
	rep, err := s.wholeRecordReport(ctx, a)
	if err != nil {
		return err
	}
	id, err := newResourceID()
	if err != nil {
		return err
	}
	w, err := s.store.Update(ctx, &fhir.Resource{Type: "Task", ID: id, Object: snapshotTask(id, a.id.Org, "on-demand", a.id, rep)}, store.Absent)
	if err != nil {
		return err
	}
	a.trail.noteResource("Task", id, "")
	c.Header("Location", s.base(c)+"/Task/"+id)
	writeJSON(c, http.StatusCreated, json.RawMessage(w.Version.JSON))
	return nil
}

// dailySnapshotID is the id of org's daily snapshot of day.
func dailySnapshotID(org string, day time.Time) string {
	return "data-quality-" + strings.ToLower(org) + "-" + day.UTC().Format("20060102")
}

// snapshotTasks are the stored snapshots' Tasks, newest first, at most
// n; of org only unless org is "".
func (s *Server) snapshotTasks(ctx context.Context, org string, n int) ([]*store.Version, error) {
	params := url.Values{"code": {QualitySystem + "|" + codeSnapshot}, "_sort": {"-authored-on"}, "_count": {strconv.Itoa(n)}}
	if org != "" {
		params.Set("_tag", policy.SourceOrgSystem+"|"+org)
	}
	q, err := search.Parse("Task", params, search.Options{DefaultCount: n, MaxCount: n})
	if err != nil {
		return nil, err
	}
	page, err := s.store.Search(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	var out []*store.Version
	for _, v := range page.Matches {
		obj, err := decodeVersion(v)
		if err != nil {
			return nil, err
		}
		if org == "" || ownerOrg(obj) == org {
			out = append(out, v)
		}
	}
	return out, nil
}

// QualitySnapshotRun is what one run of the daily job did.
type QualitySnapshotRun struct {
	// Taken counts the snapshots this run wrote; Already those another
	// instance (or an earlier run) had written today; Refused the
	// organisations whose snapshots' reader the policy no longer lets
	// take one.
	Taken, Already, Refused int
}

// The inputs of a snapshot's Task that say as whom it counted.
const (
	inputKind    = "reader-kind"
	inputRole    = "reader-role"
	inputPurpose = "reader-purpose"
)

// snapshotReader is the reader a stored snapshot of org counted as, for
// the daily job (the job's own subject, the organisation, and the taker's
// kind, role and purpose), or nil when the snapshot does not say.
func snapshotReader(task map[string]any, org string) *auth.Identity {
	id := &auth.Identity{Subject: QualitySnapshotJob, Org: org}
	for _, in := range list(task["input"]) {
		m, _ := in.(map[string]any)
		code := ""
		if t, _ := m["type"].(map[string]any); t != nil {
			for _, c := range list(t["coding"]) {
				if cm, _ := c.(map[string]any); cm != nil && cm["system"] == QualitySystem {
					code, _ = cm["code"].(string)
				}
			}
		}
		v, _ := m["valueCode"].(string)
		switch code {
		case inputKind:
			id.Kind = v
		case inputRole:
			id.Role = v
		case inputPurpose:
			id.Purpose = v
		}
	}
	if id.Kind == "" || id.Role == "" || id.Purpose == "" {
		return nil
	}
	return id
}

// RunQualitySnapshots takes today's snapshot for every organisation that
// has taken a snapshot before, unless it is taken already (the id is the
// organisation and the day, written only if absent: instances sharing a
// database write one between them), and records one audit record per
// snapshot written (the gateway as a system agent, the Task).
func (s *Server) RunQualitySnapshots(ctx context.Context) (QualitySnapshotRun, error) {
	var run QualitySnapshotRun
	if s.cfg.Policy == nil {
		return run, nil
	}
	vs, err := s.snapshotTasks(ctx, "", maxTrend)
	if err != nil {
		return run, err
	}
	// Each organisation's newest snapshot (vs are newest first) says as
	// whom to count.
	var orgs []string
	readers := map[string]*auth.Identity{}
	for _, v := range vs {
		obj, err := decodeVersion(v)
		if err != nil {
			return run, err
		}
		o := ownerOrg(obj)
		if o == "" || readers[o] != nil {
			continue
		}
		if r := snapshotReader(obj, o); r != nil {
			orgs, readers[o] = append(orgs, o), r
		}
	}
	today := s.cfg.Clock().UTC()
	for _, org := range orgs {
		id := dailySnapshotID(org, today)
		if _, err := s.store.Read(ctx, "Task", id); err == nil {
			run.Already++
			continue
		} else if !errors.Is(err, fhir.ErrNotFound) {
			return run, err
		}
		a := &access{server: s, id: readers[org], engine: s.cfg.Policy.Current(), trail: &trail{bulk: true}}
		if err := a.decideWholeOperation(ctx, opQualitySnapshot); err != nil {
			var fe *fhir.Error
			if errors.As(err, &fe) && fe.Status == http.StatusForbidden {
				run.Refused++
				continue
			}
			return run, err
		}
		rep, err := s.wholeRecordReport(ctx, a)
		if err != nil {
			return run, err
		}
		_, err = s.store.Update(ctx, &fhir.Resource{Type: "Task", ID: id, Object: snapshotTask(id, org, "daily", a.id, rep)}, store.Absent)
		if errors.Is(err, fhir.ErrVersionConflict) {
			run.Already++ // another instance took it meanwhile
			continue
		}
		if err != nil {
			return run, err
		}
		run.Taken++
		if _, err := s.cfg.Audit.Record(ctx, audit.Entry{Interaction: "operation", Operation: opQualitySnapshot, HTTPStatus: http.StatusCreated,
			Agent:     audit.Agent{Kind: audit.KindSystem, Subject: QualitySnapshotJob, ClientID: QualitySnapshotJob},
			Resources: []string{"Task/" + id},
			Decision:  audit.Decision{Allowed: true, Revision: s.cfg.Policy.Current().Revision(), Reasons: []string{"QUALITY-9-data-quality"}}}); err != nil {
			return run, err
		}
	}
	return run, nil
}

// snapshotJob is the daily data-quality snapshots, for every.
func (s *Server) snapshotJob(ctx context.Context) {
	run, err := s.RunQualitySnapshots(ctx)
	if err != nil {
		s.logger.Error("data-quality snapshots failed", "error", err.Error())
		return
	}
	s.logger.Info("data-quality snapshots", "taken", run.Taken, "already_taken", run.Already)
}

// trendPoint is one snapshot in the trend.
type trendPoint struct {
	Task, Date, Trigger string
	Scanned             int
	Counts              []trendCount
}

type trendCount struct {
	Code, Title string
	Count       int
	// Change is the change since the previous snapshot (HasChange false
	// for the first).
	Change    int
	HasChange bool
}

// snapshotCounts reads a snapshot Task's contained MeasureReport: the
// count per check code.
func snapshotCounts(obj map[string]any) map[string]int {
	out := map[string]int{}
	for _, ct := range list(obj["contained"]) {
		mr, _ := ct.(map[string]any)
		if mr["resourceType"] != "MeasureReport" || mr["id"] != countsID {
			continue
		}
		for _, g := range list(mr["group"]) {
			gm, _ := g.(map[string]any)
			code, _ := gm["code"].(map[string]any)
			for _, cd := range list(code["coding"]) {
				cm, _ := cd.(map[string]any)
				if cm["system"] != QualityCheckSystem {
					continue
				}
				c, _ := cm["code"].(string)
				for _, p := range list(gm["population"]) {
					pm, _ := p.(map[string]any)
					if n, ok := jsonInt(pm["count"]); ok {
						out[c] = n
					}
				}
			}
		}
	}
	return out
}

// qualityTrend answers GET /$data-quality-trend: the caller's
// organisation's latest snapshots (_count, default 100), oldest first,
// each check's count and its change since the snapshot before, as a FHIR
// Parameters, _format=csv (one row per snapshot and check) or
// _format=html.
func (s *Server) qualityTrend(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opQualityTrend); err != nil {
		return err
	}
	params := c.Request.URL.Query()
	var issues []fhir.Issue
	for k := range params {
		if k != "_format" && k != "_count" {
			issues = append(issues, fhir.Issue{Severity: "error", Code: "not-supported", Expression: []string{k},
				Diagnostics: truncateName(k) + ": not a parameter of $data-quality-trend (supported: _count, _format=json|csv|html)"})
		}
	}
	n := defaultTrend
	if v := params.Get("_count"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxTrend {
			issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Expression: []string{"_count"},
				Diagnostics: fmt.Sprintf("_count: how many snapshots to show, a whole number from 1 to %d", maxTrend)})
		}
	}
	format, ok := reportFormat(params.Get("_format"))
	if !ok {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Expression: []string{"_format"}, Diagnostics: "_format: the trend comes as json, csv or html"})
	}
	if len(issues) > 0 {
		return &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	vs, err := s.snapshotTasks(ctx, a.id.Org, n)
	if err != nil {
		return err
	}
	slices.Reverse(vs)
	var points []trendPoint
	var prev map[string]int
	for _, v := range vs {
		obj, err := decodeVersion(v)
		if err != nil {
			return err
		}
		a.trail.noteResource("Task", v.ID, "")
		p := trendPoint{Task: v.ID}
		p.Date, _ = obj["authoredOn"].(string)
		p.Trigger, _ = taskInputOf(obj, QualitySystem, "trigger").(string)
		p.Scanned, _ = jsonInt(taskInputOf(obj, QualitySystem, "scanned"))
		counts := snapshotCounts(obj)
		for _, ch := range snapshotChecks() {
			tc := trendCount{Code: ch.Code, Title: ch.Title, Count: counts[ch.Code]}
			if prev != nil {
				tc.Change, tc.HasChange = tc.Count-prev[ch.Code], true
			}
			p.Counts = append(p.Counts, tc)
		}
		points, prev = append(points, p), counts
	}
	switch format {
	case "csv":
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="data-quality-trend.csv"`)
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"date", "snapshot", "trigger", "check", "title", "count", "change"})
		for _, p := range points {
			for _, tc := range p.Counts {
				change := ""
				if tc.HasChange {
					change = strconv.Itoa(tc.Change)
				}
				_ = w.Write([]string{p.Date, p.Task, p.Trigger, tc.Code, tc.Title, strconv.Itoa(tc.Count), change})
			}
		}
		w.Flush()
	case "html":
		c.Header("Content-Type", "text/html; charset=utf-8")
		c.Status(http.StatusOK)
		_ = qualityTrendHTML.Execute(c.Writer, trendView(a.id.Org, points))
	default:
		writeJSON(c, http.StatusOK, trendParameters(a.id.Org, points))
	}
	return nil
}

// trendParameters is the trend as a FHIR Parameters: organisation, then
// one "snapshot" per snapshot, oldest first (snapshot: the Task, date,
// trigger, scanned, and one "check" per check: code, title, count,
// change when there is a snapshot before).
func trendParameters(org string, points []trendPoint) map[string]any {
	params := []any{map[string]any{"name": "organisation", "valueIdentifier": map[string]any{"system": odsSystem, "value": org}}}
	for _, p := range points {
		parts := []any{
			map[string]any{"name": "snapshot", "valueReference": map[string]any{"reference": "Task/" + p.Task}},
			map[string]any{"name": "date", "valueDateTime": p.Date},
			map[string]any{"name": "trigger", "valueCode": p.Trigger},
			map[string]any{"name": "scanned", "valueInteger": p.Scanned},
		}
		for _, tc := range p.Counts {
			cp := []any{
				map[string]any{"name": "code", "valueCode": tc.Code},
				map[string]any{"name": "title", "valueString": tc.Title},
				map[string]any{"name": "count", "valueInteger": tc.Count},
			}
			if tc.HasChange {
				cp = append(cp, map[string]any{"name": "change", "valueInteger": tc.Change})
			}
			parts = append(parts, map[string]any{"name": "check", "part": cp})
		}
		params = append(params, map[string]any{"name": "snapshot", "part": parts})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}

type trendRow struct {
	Code, Title string
	Cells       []trendCount
}

func trendView(org string, points []trendPoint) map[string]any {
	var rows []trendRow
	for i, ch := range snapshotChecks() {
		r := trendRow{Code: ch.Code, Title: ch.Title}
		for _, p := range points {
			r.Cells = append(r.Cells, p.Counts[i])
		}
		rows = append(rows, r)
	}
	return map[string]any{"Org": org, "Points": points, "Rows": rows}
}

var qualityTrendHTML = template.Must(template.New("quality-trend").Funcs(template.FuncMap{
	"signed": func(n int) string {
		if n > 0 {
			return "+" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality over time</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}td.n{text-align:right;white-space:nowrap}.up{color:#d5281b}.down{color:#007f3b}</style>
</head><body>
<h1>Data quality over time</h1>
<p>Snapshots of {{.Org}}'s data-quality counts over the whole record, oldest first; each count with its change since the snapshot before. The items themselves are in the data-quality report.</p>
{{if .Points}}<table><thead><tr><th>Check</th>{{range .Points}}<th>{{.Date}}<br><small>{{.Trigger}}</small></th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr data-check="{{.Code}}"><td>{{.Title}}</td>{{range .Cells}}<td class="n">{{.Count}}{{if .HasChange}} <span class="{{if gt .Change 0}}up{{else if lt .Change 0}}down{{end}}">({{signed .Change}})</span>{{end}}</td>{{end}}</tr>
{{end}}</tbody></table>{{else}}<p>No snapshots yet: take one with POST /$data-quality-snapshot; the daily job then takes one a day.</p>{{end}}
</body></html>
`))

package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"html/template"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/casefile"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// sampleReport answers GET /$case-file-sample/{id}/$report: the sample's
// results (casefile.Tally) overall, per question and per stratum, as a
// FHIR Parameters, _format=csv (one row per stratum, "all" first, and
// question and answer) or _format=html. The policy decides it as
// $case-file-report; the audit record names the sample and its case
// files.
func (s *Server) sampleReport(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileReport); err != nil {
		return err
	}
	for k := range c.Request.URL.Query() {
		if k != "_format" {
			return fhir.Errorf(http.StatusBadRequest, "not-supported", "%s: not a parameter of the report (supported: _format=json|csv|html)", truncateName(k)).At(k)
		}
	}
	format, ok := reportFormat(c.Query("_format"))
	if !ok {
		return fhir.Errorf(http.StatusBadRequest, "invalid", "_format: the report comes as json, csv or html").At("_format")
	}
	sm, rep, err := s.tallySample(ctx, a, routeOf(c).ID)
	if err != nil {
		return err
	}
	switch format {
	case "csv":
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="case-file-audit.csv"`)
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		_ = w.Write([]string{"stratum", "sampled", "completed", "question", "text", "answer", "count"})
		write := func(stratum string, sampled, completed int, qs []casefile.QuestionResult) {
			for _, q := range qs {
				for _, code := range q.Codes(sm.checklist) {
					_ = w.Write([]string{stratum, strconv.Itoa(sampled), strconv.Itoa(completed), q.LinkID, q.Text, code, strconv.Itoa(q.Counts[code])})
				}
				_ = w.Write([]string{stratum, strconv.Itoa(sampled), strconv.Itoa(completed), q.LinkID, q.Text, "unanswered", strconv.Itoa(q.Unanswered)})
			}
		}
		write("all", rep.Sampled, rep.Completed, rep.Questions)
		for _, st := range rep.Strata {
			write(st.Stratum, st.Sampled, st.Completed, st.Questions)
		}
		w.Flush()
	case "html":
		var b bytes.Buffer
		if err := caseFileReportHTML.Execute(&b, reportView(sm, rep)); err != nil {
			return err
		}
		c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
	default:
		writeJSON(c, http.StatusOK, reportParameters(sm, rep))
	}
	return nil
}

// tallySample reads the sample id and counts its results, noting the
// sample and its case files in the audit record.
func (s *Server) tallySample(ctx context.Context, a *access, id string) (*sample, casefile.Report, error) {
	sm, err := s.loadSample(ctx, a, id)
	if err != nil {
		return nil, casefile.Report{}, err
	}
	a.trail.noteResource("Task", sm.task.ID, "")
	var reviewed []casefile.Reviewed
	for _, v := range sm.items {
		obj, err := decodeVersion(v)
		if err != nil {
			return nil, casefile.Report{}, err
		}
		patient := referenceAt(obj, "for")
		a.trail.noteResource("Task", v.ID, patient)
		done, answers := reviewOf(obj)
		reviewed = append(reviewed, casefile.Reviewed{Patient: patient, Stratum: stratumOf(obj), Completed: done, Answers: answers})
	}
	return sm, casefile.Tally(sm.checklist, reviewed), nil
}

// reportParameters is the report as a FHIR Parameters: sample (the
// sample's Task), checklist (canonical), sampled, completed, then
// "question" (linkId, text, one "answer" part per code with its count,
// unanswered) and "stratum" (name, sampled, completed, its questions).
func reportParameters(sm *sample, rep casefile.Report) map[string]any {
	questions := func(qs []casefile.QuestionResult) []any {
		var out []any
		for _, q := range qs {
			parts := []any{
				map[string]any{"name": "linkId", "valueString": q.LinkID},
				map[string]any{"name": "text", "valueString": q.Text},
			}
			for _, code := range q.Codes(sm.checklist) {
				parts = append(parts, map[string]any{"name": "answer", "part": []any{
					map[string]any{"name": "code", "valueCode": code},
					map[string]any{"name": "count", "valueInteger": q.Counts[code]},
				}})
			}
			parts = append(parts, map[string]any{"name": "unanswered", "valueInteger": q.Unanswered})
			out = append(out, map[string]any{"name": "question", "part": parts})
		}
		return out
	}
	params := []any{
		map[string]any{"name": "sample", "valueReference": map[string]any{"reference": "Task/" + sm.task.ID}},
		map[string]any{"name": "checklist", "valueCanonical": sm.checklist.Canonical()},
		map[string]any{"name": "sampled", "valueInteger": rep.Sampled},
		map[string]any{"name": "completed", "valueInteger": rep.Completed},
	}
	params = append(params, questions(rep.Questions)...)
	for _, st := range rep.Strata {
		parts := []any{
			map[string]any{"name": "name", "valueString": st.Stratum},
			map[string]any{"name": "sampled", "valueInteger": st.Sampled},
			map[string]any{"name": "completed", "valueInteger": st.Completed},
		}
		parts = append(parts, questions(st.Questions)...)
		params = append(params, map[string]any{"name": "stratum", "part": parts})
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}

type reportTable struct {
	Name               string
	Sampled, Completed int
	Codes              []string
	Rows               []reportRow
}

type reportRow struct {
	LinkID, Text string
	Counts       []int
	Unanswered   int
}

func reportView(sm *sample, rep casefile.Report) map[string]any {
	table := func(name string, sampled, completed int, qs []casefile.QuestionResult) reportTable {
		t := reportTable{Name: name, Sampled: sampled, Completed: completed}
		for _, q := range qs {
			for _, code := range q.Codes(sm.checklist) {
				if !slices.Contains(t.Codes, code) {
					t.Codes = append(t.Codes, code)
				}
			}
		}
		for _, q := range qs {
			r := reportRow{LinkID: q.LinkID, Text: q.Text, Unanswered: q.Unanswered}
			for _, code := range t.Codes {
				r.Counts = append(r.Counts, q.Counts[code])
			}
			t.Rows = append(t.Rows, r)
		}
		return t
	}
	tables := []reportTable{table("All case files", rep.Sampled, rep.Completed, rep.Questions)}
	for _, st := range rep.Strata {
		tables = append(tables, table(st.Stratum, st.Sampled, st.Completed, st.Questions))
	}
	return map[string]any{"Title": sm.checklist.Title, "Checklist": sm.checklist.Canonical(), "Sample": sm.task.ID, "Tables": tables}
}

var caseFileReportHTML = template.Must(template.New("casefile-report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Case-file audit results</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}th,td{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}td.n{text-align:right}</style>
</head><body>
<h1>Case-file audit results</h1>
<p>Sample {{.Sample}}, checklist {{.Title}} ({{.Checklist}}). Answers are counted over completed reviews.</p>
{{range .Tables}}<h2>{{.Name}}</h2>
<p>{{.Completed}} of {{.Sampled}} case files reviewed.</p>
<table><thead><tr><th>Question</th>{{range .Codes}}<th>{{.}}</th>{{end}}<th>unanswered</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Text}} <small>({{.LinkID}})</small></td>{{range .Counts}}<td class="n">{{.}}</td>{{end}}<td class="n">{{.Unanswered}}</td></tr>
{{end}}</tbody></table>
{{end}}</body></html>
`))

// reviewPage is one case file for its reviewer: the checklist's
// questions (with their linkIds and options, to answer with a POST of a
// QuestionnaireResponse to the same URL, or a link to the form of
// casefile_pages.go), the review so far, then the
// record as fhir/summary and the subject-access page show it.
func (s *Server) reviewPage(c *gin.Context, it *caseFileItem, record []*store.Version) error {
	rv, err := s.recordView(c, record)
	if err != nil {
		return err
	}
	_, answers := reviewOf(it.obj)
	var b bytes.Buffer
	if err := caseFileReviewHTML.Execute(&b, map[string]any{"Record": rv, "Checklist": it.sample.checklist,
		"Answers": answers, "Status": it.obj["status"], "Task": it.v.ID, "Stratum": stratumOf(it.obj)}); err != nil {
		return err
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
	return nil
}

var caseFileReviewHTML = template.Must(template.New("casefile-review").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Case-file review</title>
<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border-bottom:1px solid #ccc;padding:.3em;text-align:left;vertical-align:top}em.opinion{color:#6a3d9a}.statement{border-left:4px solid #d4351c;padding-left:.5em}</style></head>
<body><h1>Case-file review</h1>
<p>{{with .Record.Person.Name}}{{.}}{{end}}{{with .Record.Person.NHSNumber}} · NHS number {{.}}{{end}}{{with .Record.Person.BirthDate}} · born {{.}}{{end}} · stratum {{.Stratum}} · review {{.Status}}</p>
<h2>Checklist: {{.Checklist.Title}}</h2>
<p>Answer in a browser on <a href="/ig/case-file-review/{{.Task}}">the review form</a>, or with a QuestionnaireResponse for <code>{{.Checklist.Canonical}}</code> POSTed to this address (Task {{.Task}}).</p>
<table><thead><tr><th>Question</th><th>linkId</th><th>Answers</th><th>Answered</th></tr></thead><tbody>
{{range .Checklist.Items}}<tr><td>{{.Text}}{{if .Required}} <strong>(required)</strong>{{end}}</td><td><code>{{.LinkID}}</code></td><td>{{range .Options}}<code>{{.Code}}</code> {{end}}{{if not .Options}}{{.Type}}{{end}}</td><td>{{index $.Answers .LinkID}}</td></tr>
{{end}}</tbody></table>
<h2>Summary</h2>
{{range .Record.Sections}}{{.}}
{{end}}
<h2>The case file as you may read it</h2>
` + recordResources(".Record.Resources") + `
</body></html>
`))

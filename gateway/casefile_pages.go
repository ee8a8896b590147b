package gateway

// Case-file audit in a browser: pages beside the IG workbench's (same
// session, sign-in and CSRF scheme: workbench.go) over the same workflow
// as the case-file audit API (casefile.go). Each page has the route of
// the API request it stands for, so it is decided by the same rule
// (CASEAUDIT-13-case-file-audit) and audited as that request:
//
//	GET  /ig/case-files                  the organisation's samples and a form to draw one   (GET  /$case-file-sample)
//	POST /ig/case-files                  draw (form: size, stratify-by, seed)                (POST /$case-file-sample)
//	GET  /ig/case-files/{id}             a sample's case files, linked to their reviews      (GET  /$case-file-sample/{id})
//	GET  /ig/case-files/{id}/report      its results (?_format=csv for the CSV)              (GET  /$case-file-sample/{id}/$report)
//	GET  /ig/case-file-review/{task}     one case file with the checklist as a form          (GET  /$case-file-review/{task})
//	POST /ig/case-file-review/{task}     the form's answers                                  (POST /$case-file-review/{task})
//
// The review form has one field per question of the sample's checklist,
// named "q:" and the question's linkId: a radio button per option of a
// choice question (the option's code), true or false for a boolean, the
// text for a string or text question; and "status", completed (Submit)
// or in-progress (Save unfinished). The server turns it into the
// QuestionnaireResponse an API client would send (reviewResponse) and
// stores it through the same check (storeReview): a 422 shows the form
// again as it was filled, with every problem listed.

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/casefile"
)

// reviewField prefixes a question's form field.
const reviewField = "q:"

func init() {
	// The case file on the review page, as the subject-access page shows
	// a record.
	record := `{{define "record"}}` + recordResources(".") + `{{end}}`
	for _, name := range []string{"case-files", "case-file-sample", "case-file-review", "case-file-report"} {
		t := template.Must(template.New(name).ParseFS(workbenchFS, "workbench/layout.html", "workbench/"+name+".html"))
		workbenchPages[name] = template.Must(t.Parse(record))
	}
	done["draw"] = "The sample is drawn and stored. Open each case file to review it."
	done["review"] = "Your review is stored: the answers below are the ones kept in the case file's Task."
	done["saved"] = "Your answers are saved unfinished: come back to complete the review."
}

// caseFilePages registers the pages (routed wraps a handler as the
// workbench's API pages are wrapped: session, audit, authentication).
func (s *Server) caseFilePages(e *gin.Engine, routed func(gin.HandlerFunc, handler) []gin.HandlerFunc) {
	sample := caseFileRoute(opCaseFileSample, "/$op", "")
	e.GET(igPath+"/case-files", routed(sample, s.igCaseFiles)...)
	e.POST(igPath+"/case-files", routed(sample, s.igDrawSample)...)
	e.GET(igPath+"/case-files/:id", routed(caseFileRoute(opCaseFileSample, "/$op/{id}", ""), s.igSample)...)
	e.GET(igPath+"/case-files/:id/report", routed(caseFileRoute(opCaseFileSample, "/$op/{id}/{file}", "$report"), s.igCaseFileReport)...)
	review := caseFileRoute(opCaseFileReview, "/$op/{id}", "")
	e.GET(igPath+"/case-file-review/:id", routed(review, s.igReview)...)
	e.POST(igPath+"/case-file-review/:id", routed(review, s.igAnswerReview)...)
}

// caseFileRoute gives a page the route of its API request.
func caseFileRoute(op, shape, file string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(routeKey, &route{name: op, Operation: op, Interaction: "operation", shape: shape, ID: c.Param("id"), File: file})
		c.Next()
	}
}

// sampleRow is one sample in the list.
type sampleRow struct {
	ID, Authored, Status, Seed, StratifyBy string
	Size, CaseFiles                        int
}

// caseFilesView is the list page's: the samples and the draw form as
// sent (or its defaults).
type caseFilesView struct {
	Samples                []sampleRow
	Size, StratifyBy, Seed string
}

func sampleRowOf(id string, obj map[string]any) sampleRow {
	r := sampleRow{ID: id, Status: fmt.Sprint(obj["status"]), CaseFiles: len(list(obj["output"]))}
	r.Authored, _ = obj["authoredOn"].(string)
	r.Seed, _ = taskInput(obj, "seed").(string)
	r.StratifyBy, _ = taskInput(obj, "stratify-by").(string)
	r.Size, _ = jsonInt(taskInput(obj, "size"))
	return r
}

// taskInput is the value of a case-file audit Task's input of code.
func taskInput(obj map[string]any, code string) any {
	return taskInputOf(obj, CaseFileAuditSystem, code)
}

// taskInputOf is the value of a Task's input of type system|code.
func taskInputOf(obj map[string]any, system, code string) any {
	for _, in := range list(obj["input"]) {
		m, _ := in.(map[string]any)
		t, _ := m["type"].(map[string]any)
		for _, cd := range list(t["coding"]) {
			cm, _ := cd.(map[string]any)
			if cm["system"] != system || cm["code"] != code {
				continue
			}
			for k, v := range m {
				if strings.HasPrefix(k, "value") {
					return v
				}
			}
		}
	}
	return nil
}

// igCaseFiles lists the organisation's samples with the draw form.
func (s *Server) igCaseFiles(c *gin.Context) error {
	return s.caseFilesPage(c, http.StatusOK, caseFilesView{Size: "5", StratifyBy: "service"}, nil)
}

func (s *Server) caseFilesPage(c *gin.Context, status int, view caseFilesView, p *problem) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileSample); err != nil {
		return err
	}
	vs, err := s.samples(ctx, a)
	if err != nil {
		return err
	}
	for _, v := range vs {
		obj, err := decodeVersion(v)
		if err != nil {
			return err
		}
		view.Samples = append(view.Samples, sampleRowOf(v.ID, obj))
	}
	s.render(c, status, "case-files", "Case-file audit", view, p)
	return nil
}

// igDrawSample draws a sample from the form, as POST /$case-file-sample
// does from its Parameters (the form becomes those Parameters and is
// checked by the same code), and goes to the sample's page.
func (s *Server) igDrawSample(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileSample); err != nil {
		return err
	}
	f, err := readForm(c, csrfFor(sessionToken(c)))
	if err != nil {
		return err
	}
	view := caseFilesView{Size: strings.TrimSpace(f.Get("size")), StratifyBy: f.Get("stratify-by"), Seed: strings.TrimSpace(f.Get("seed"))}
	params := []any{map[string]any{"name": "stratify-by", "valueCode": view.StratifyBy}}
	if n, err := strconv.Atoi(view.Size); err == nil {
		params = append(params, map[string]any{"name": "size", "valueInteger": n})
	} else {
		params = append(params, map[string]any{"name": "size", "valueString": view.Size})
	}
	if view.Seed != "" {
		params = append(params, map[string]any{"name": "seed", "valueString": view.Seed})
	}
	body, err := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": params})
	if err != nil {
		return err
	}
	req, err := sampleParams(body)
	var id string
	if err == nil {
		id, err = s.draw(ctx, a, req)
	}
	if err != nil {
		fe := toFHIRError(err, requestID(c))
		if fe.Status >= 500 || !wantsHTML(c) {
			return err
		}
		p := problemOf(fe)
		p.Title = "The sample could not be drawn"
		return s.caseFilesPage(c, fe.Status, view, p)
	}
	c.Redirect(http.StatusSeeOther, igPath+"/case-files/"+url.PathEscape(id)+"?done=draw")
	return nil
}

// caseFileRow is one case file on a sample's page.
type caseFileRow struct {
	N                              int
	Task, Patient, Stratum, Status string
}

type sampleView struct {
	sampleRow
	Checklist string
	Completed int
	Files     []caseFileRow
}

// igSample shows a sample: how it was drawn and its case files, each
// linked to its review page.
func (s *Server) igSample(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileSample); err != nil {
		return err
	}
	sm, err := s.loadSample(ctx, a, routeOf(c).ID)
	if err != nil {
		return err
	}
	a.trail.noteResource("Task", sm.task.ID, "")
	view := sampleView{sampleRow: sampleRowOf(sm.task.ID, sm.obj), Checklist: sm.checklist.Title + " (" + sm.checklist.Canonical() + ")"}
	for i, v := range sm.items {
		obj, err := decodeVersion(v)
		if err != nil {
			return err
		}
		patient := referenceAt(obj, "for")
		a.trail.noteResource("Task", v.ID, patient)
		row := caseFileRow{N: i + 1, Task: v.ID, Patient: patient, Stratum: stratumOf(obj), Status: fmt.Sprint(obj["status"])}
		if row.Status == "completed" {
			view.Completed++
		}
		view.Files = append(view.Files, row)
	}
	s.render(c, http.StatusOK, "case-file-sample", "Case-file audit sample", view, nil)
	return nil
}

// igCaseFileReport shows a sample's results (the CSV with
// ?_format=csv, as the API gives it).
func (s *Server) igCaseFileReport(c *gin.Context) error {
	if c.Query("_format") == "csv" {
		return s.sampleReport(c)
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileReport); err != nil {
		return err
	}
	sm, rep, err := s.tallySample(ctx, a, routeOf(c).ID)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "case-file-report", "Case-file audit results", reportView(sm, rep), nil)
	return nil
}

// questionView is one question of the review form.
type questionView struct {
	LinkID, Text, Type string
	Required           bool
	Options            []optionView
	Value              string
}

type optionView struct {
	Code, Display string
	Checked       bool
}

type reviewView struct {
	Task, Sample, Status, Stratum, Checklist string
	Record                                   *recordPage
	Questions                                []questionView
	// Issues are the problems of the answers sent, each on its own.
	Issues []string
}

// igReview shows a case file with the checklist as a form, filled with
// the review so far.
func (s *Server) igReview(c *gin.Context) error {
	a := accessOf(c)
	it, _, err := s.loadItem(c.Request.Context(), a, routeOf(c).ID)
	if err != nil {
		return err
	}
	_, answers := reviewOf(it.obj)
	return s.reviewFormPage(c, it, http.StatusOK, answers, nil, nil)
}

// reviewFormPage renders the review form with values, and the problems
// of a refused review.
func (s *Server) reviewFormPage(c *gin.Context, it *caseFileItem, status int, values map[string]string, issues []fhir.Issue, p *problem) error {
	record, err := s.subjectRecord(c.Request.Context(), accessOf(c), it.patient)
	if err != nil {
		return err
	}
	rv, err := s.recordView(c, record)
	if err != nil {
		return err
	}
	view := reviewView{Task: it.v.ID, Sample: it.sample.task.ID, Status: fmt.Sprint(it.obj["status"]), Stratum: stratumOf(it.obj),
		Checklist: it.sample.checklist.Title + " (" + it.sample.checklist.Canonical() + ")", Record: rv}
	for _, q := range it.sample.checklist.Items {
		qv := questionView{LinkID: q.LinkID, Text: q.Text, Type: q.Type, Required: q.Required, Value: values[q.LinkID]}
		for _, o := range q.Options {
			qv.Options = append(qv.Options, optionView{Code: o.Code, Display: cmp.Or(o.Display, o.Code), Checked: o.Code == qv.Value})
		}
		if q.Type == "boolean" {
			qv.Options = []optionView{{"true", "Yes", qv.Value == "true"}, {"false", "No", qv.Value == "false"}}
		}
		view.Questions = append(view.Questions, qv)
	}
	for _, is := range issues {
		view.Issues = append(view.Issues, is.Diagnostics)
	}
	s.render(c, status, "case-file-review", "Case-file review", view, p)
	return nil
}

// igAnswerReview stores the form's answers as the reviewer's
// QuestionnaireResponse (as POST /$case-file-review/{task} stores one),
// then shows the stored review; answers that fail the checklist's check
// show the form again, as filled, with every problem (422).
func (s *Server) igAnswerReview(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	it, _, err := s.loadItem(ctx, a, routeOf(c).ID)
	if err != nil {
		return err
	}
	f, err := readForm(c, csrfFor(sessionToken(c)))
	if err != nil {
		return err
	}
	qr := reviewResponse(it.sample.checklist, f.Values)
	if _, err := s.storeReview(ctx, a, it, qr); err != nil {
		var fe *fhir.Error
		if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity || !wantsHTML(c) {
			return err
		}
		values := map[string]string{}
		for k := range f.Values {
			if id, ok := strings.CutPrefix(k, reviewField); ok {
				values[id] = f.Get(k)
			}
		}
		p := &problem{Status: fe.Status, Title: "The review was not stored",
			Message: fmt.Sprintf("%d problem(s) with the answers: correct them below and submit again.", len(fe.Issues))}
		return s.reviewFormPage(c, it, fe.Status, values, fe.Issues, p)
	}
	step := "review"
	if qr["status"] == "in-progress" {
		step = "saved"
	}
	c.Redirect(http.StatusSeeOther, igPath+"/case-file-review/"+url.PathEscape(it.v.ID)+"?done="+step)
	return nil
}

// reviewResponse is the QuestionnaireResponse a review form stands for:
// status from the form, one item per question answered (the option of a
// choice question whose code was chosen, a boolean, a text with the
// browser's CRLF line ends made LF), and an item for every other "q:"
// field, so that the checklist's check names it rather than it being
// dropped unseen. Values the checklist does not allow are passed on as
// sent, for the check to name.
func reviewResponse(cl *casefile.Checklist, form url.Values) map[string]any {
	var items []any
	answer := func(linkID string, value map[string]any) {
		items = append(items, map[string]any{"linkId": linkID, "answer": []any{value}})
	}
	for _, q := range cl.Items {
		v := strings.TrimSpace(form.Get(reviewField + q.LinkID))
		if v == "" {
			continue
		}
		switch q.Type {
		case "choice":
			cd := map[string]any{"code": v}
			if i := slices.IndexFunc(q.Options, func(o casefile.Option) bool { return o.Code == v }); i >= 0 {
				o := q.Options[i]
				cd["system"] = o.System
				if o.Display != "" {
					cd["display"] = o.Display
				}
			}
			answer(q.LinkID, map[string]any{"valueCoding": cd})
		case "boolean":
			var b any = v
			if p, err := strconv.ParseBool(v); err == nil {
				b = p
			}
			answer(q.LinkID, map[string]any{"valueBoolean": b})
		default:
			answer(q.LinkID, map[string]any{"valueString": strings.ReplaceAll(v, "\r\n", "\n")})
		}
	}
	var others []string
	for k := range form {
		if id, ok := strings.CutPrefix(k, reviewField); ok {
			if _, known := cl.Item(id); !known {
				others = append(others, id)
			}
		}
	}
	slices.Sort(others)
	for _, id := range others {
		answer(id, map[string]any{"valueString": form.Get(reviewField + id)})
	}
	qr := map[string]any{"resourceType": "QuestionnaireResponse", "questionnaire": cl.Canonical(), "status": form.Get("status")}
	if len(items) > 0 {
		qr["item"] = items
	}
	return qr
}

package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/casefile"
	"github.com/socialcare-fhir/gateway/fhir/store"
)

// caseFileItem is one case file of a sample, read for its review.
type caseFileItem struct {
	v       *store.Version
	obj     map[string]any
	patient string
	sample  *sample
}

// loadItem reads the case file's Task id and its sample (the caller's
// organisation's), and asks the policy whether the caller may review the
// person's case file ($case-file-review on the Patient).
func (s *Server) loadItem(ctx context.Context, a *access, id string) (*caseFileItem, *store.Version, error) {
	notFound := fhir.Errorf(http.StatusNotFound, "not-found", "no case file %s in a case-file audit sample of your organisation", id)
	v, err := s.store.Read(ctx, "Task", id)
	if errors.Is(err, fhir.ErrNotFound) || errors.Is(err, fhir.ErrGone) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	obj, err := decodeVersion(v)
	if err != nil {
		return nil, nil, err
	}
	if !hasAuditCode(obj, codeReview) || ownerOrg(obj) != a.id.Org {
		return nil, nil, notFound
	}
	it := &caseFileItem{v: v, obj: obj, patient: referenceAt(obj, "for")}
	parts := list(obj["partOf"])
	if len(parts) == 0 {
		return nil, nil, notFound
	}
	pm, _ := parts[0].(map[string]any)
	ref, _ := pm["reference"].(string)
	if it.sample, err = s.loadSample(ctx, a, strings.TrimPrefix(ref, "Task/")); err != nil {
		return nil, nil, err
	}
	pv, err := s.store.Read(ctx, "Patient", strings.TrimPrefix(it.patient, "Patient/"))
	if err != nil {
		return nil, nil, err
	}
	if err := a.decideOperation(ctx, opCaseFileReview, pv); err != nil {
		return nil, nil, err
	}
	a.trail.noteResource("Task", v.ID, it.patient)
	return it, pv, nil
}

// reviewCaseFile answers GET /$case-file-review/{task}: the checklist,
// the case file's Task, then the person's record as the reviewer may
// read it (what $subject-access would return to them: the compartment
// and the rights requests, each decided as the reviewer's own read);
// with _format=html a page with the questions and the record.
func (s *Server) reviewCaseFile(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	it, _, err := s.loadItem(ctx, a, routeOf(c).ID)
	if err != nil {
		return err
	}
	record, err := s.subjectRecord(ctx, a, it.patient)
	if err != nil {
		return err
	}
	if wantsHTML(c) {
		return s.reviewPage(c, it, record)
	}
	q, err := it.sample.checklist.MarshalQuestionnaire()
	if err != nil {
		return err
	}
	b := newBundle("collection")
	base := s.base(c)
	b.Entry = append(b.Entry, bundleEntry{Resource: q}, bundleEntry{FullURL: base + "/Task/" + it.v.ID, Resource: it.v.JSON})
	for _, v := range record {
		if v.Type == "Task" && v.ID == it.v.ID {
			continue // already the second entry
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/" + v.Type + "/" + v.ID, Resource: v.JSON})
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

// answerReview answers POST /$case-file-review/{task}: the body is the
// reviewer's QuestionnaireResponse, checked against the sample's
// checklist (casefile.ValidateResponse: refused whole, every problem
// named). It is kept contained in a new version of the case file's Task
// (id "review"; Task.output references it), with the person as subject,
// dated now, authored by the caller (their token's subject under its
// issuer); the Task becomes completed, or
// in-progress for a review saved unfinished. A later review replaces it;
// history keeps each. Answered with the Task (200).
func (s *Server) answerReview(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	it, _, err := s.loadItem(ctx, a, routeOf(c).ID)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	qr, err := fhir.DecodeObject(body)
	if err != nil {
		return fhir.Errorf(http.StatusBadRequest, "structure", "the body must be a FHIR QuestionnaireResponse (JSON)")
	}
	v, err := s.storeReview(ctx, a, it, qr)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, json.RawMessage(v.JSON))
	return nil
}

// storeReview checks the review qr against the case file's checklist
// (422 naming every problem) and stores it in the case file's Task (see
// answerReview); the review page's form (casefile_pages.go) comes here
// too.
func (s *Server) storeReview(ctx context.Context, a *access, it *caseFileItem, qr map[string]any) (*store.Version, error) {
	if issues := casefile.ValidateResponse(it.sample.checklist, qr, it.patient); len(issues) > 0 {
		return nil, &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: issues}
	}
	now := instant(s.cfg.Clock().UTC())
	qr["id"] = reviewID
	qr["questionnaire"] = it.sample.checklist.Canonical()
	qr["subject"] = map[string]any{"reference": it.patient}
	qr["authored"] = now
	qr["author"] = map[string]any{"identifier": map[string]any{"system": a.id.Issuer, "value": a.id.Subject},
		"display": fmt.Sprintf("%s (%s)", a.id.Org, a.id.Role)}
	delete(qr, "meta")
	obj := it.obj
	status := "completed"
	if qr["status"] == "in-progress" {
		status = "in-progress"
	}
	obj["status"], obj["lastModified"] = status, now
	obj["contained"] = []any{qr}
	obj["owner"] = qr["author"]
	obj["output"] = []any{map[string]any{"type": auditCode("review", "Review"), "valueReference": map[string]any{"reference": "#" + reviewID}}}
	delete(obj, "meta")
	stampAuthors(obj, []string{a.id.Org})
	w, err := s.store.Update(ctx, &fhir.Resource{Type: "Task", ID: it.v.ID, Object: obj}, it.v.VersionID)
	if errors.Is(err, fhir.ErrVersionConflict) {
		return nil, fhir.Errorf(http.StatusConflict, "conflict", "this case file's review was changed by someone else while yours was being checked; read it again and retry")
	}
	if err != nil {
		return nil, err
	}
	if err := s.concludeSample(ctx, it.sample); err != nil {
		return nil, err
	}
	return w.Version, nil
}

// concludeSample keeps the sample's status true to its case files:
// completed once every review is, in-progress while one is not (a review
// saved unfinished again reopens it). It reads after this review's
// write, so of reviews finished at the same time at least one sees all
// of them done.
func (s *Server) concludeSample(ctx context.Context, sm *sample) error {
	want := "completed"
	for _, v := range sm.items {
		cur, err := s.store.Read(ctx, "Task", v.ID)
		if err != nil {
			return err
		}
		obj, err := decodeVersion(cur)
		if err != nil {
			return err
		}
		if obj["status"] != "completed" {
			want = "in-progress"
			break
		}
	}
	if sm.obj["status"] == want {
		return nil
	}
	obj := maps.Clone(sm.obj)
	obj["status"], obj["lastModified"] = want, instant(s.cfg.Clock().UTC())
	_, err := s.store.Update(ctx, &fhir.Resource{Type: "Task", ID: sm.task.ID, Object: obj}, 0)
	return err
}

// reviewOf is the answers of a case file's Task: completed, and the
// contained review's answers (nil when not reviewed).
func reviewOf(obj map[string]any) (bool, map[string]string) {
	for _, ct := range list(obj["contained"]) {
		m, _ := ct.(map[string]any)
		if m["resourceType"] == "QuestionnaireResponse" && m["id"] == reviewID {
			return m["status"] == "completed", casefile.Answers(m)
		}
	}
	return false, nil
}

// stratumOf is the stratum a case file's Task was drawn in.
func stratumOf(obj map[string]any) string {
	for _, in := range list(obj["input"]) {
		m, _ := in.(map[string]any)
		t, _ := m["type"].(map[string]any)
		for _, cd := range list(t["coding"]) {
			cm, _ := cd.(map[string]any)
			if cm["system"] == CaseFileAuditSystem && cm["code"] == "stratum" {
				v, _ := m["valueString"].(string)
				return v
			}
		}
	}
	return ""
}

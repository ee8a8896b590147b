package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/policy"
)

// Rights requests (UK GDPR rectification and subject access) are FHIR
// Tasks, coded in RightsSystem, for the Patient they are about, with the
// one-month deadline the ICO gives in restriction.period.end:
//
//	POST /Task                      raise a request (a person about themselves, SELF-6-request; council staff, RIGHTS-10-requests)
//	GET  /Task?code=rectification&status=requested   the open requests (an ordinary search)
//	GET  /Task/$overdue             open requests past their deadline (RIGHTS-10-requests)
//	POST /Task/{id}/$accept         correct the resource (Parameters: resource or patch; else the request's json-patch input)
//	POST /Task/{id}/$decline        refuse, with a reason (Parameters: reason); a supplementary statement is attached
//	GET  /Task/{id}/$recipients     organisations that were sent the resource before it was corrected (audit trail)
//
// A request moves requested -> accepted -> completed (corrected) or
// requested -> rejected (declined, or an opinion annotated); a Task is
// never changed by PUT or DELETE. Every step is one audited interaction
// naming the person.
const (
	// RightsSystem codes a request (Task.code) and a supplementary
	// statement (DocumentReference.type).
	RightsSystem = policy.CodeSystemBase + "rights-request"
	// RightsStatusSystem codes Task.businessStatus.
	RightsStatusSystem = policy.CodeSystemBase + "rights-request-status"
	// StatementExtension, on a resource, references the supplementary
	// statement attached to it (a DocumentReference): it shows wherever
	// the resource is shown.
	StatementExtension = "https://socialcare-fhir.example.org/StructureDefinition/supplementary-statement"

	codeRectification = "rectification"
	codeSubjectAccess = "subject-access"
	codeStatement     = "supplementary-statement"
	// patchInput is the Task.input type code of a proposed correction as a
	// JSON Patch (valueString); other inputs are the correction in words.
	patchInput = "json-patch"
)

// rightsHandlers serve the Task paths that differ from the plain REST
// interactions (ok false for the others): requests are raised by POST,
// move on by their operations, and are never changed or deleted directly.
func (s *Server) rightsHandlers(rt *route) (map[string]handler, bool) {
	if rt.Type != "Task" {
		return nil, false
	}
	switch {
	case rt.shape == "/{type}":
		return map[string]handler{http.MethodGet: s.search, http.MethodPost: s.createRequest}, true
	case rt.shape == "/{type}/$op" && rt.Operation == "$overdue":
		return map[string]handler{http.MethodGet: s.overdue}, true
	case rt.shape == "/{type}/{id}":
		never := func(*gin.Context) error {
			return fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "a rights request is never changed or deleted directly: it moves on by POST Task/{id}/$accept or $decline")
		}
		return map[string]handler{http.MethodGet: s.read, http.MethodPut: never, http.MethodDelete: never}, true
	case rt.shape == "/{type}/{id}/$op":
		switch rt.Operation {
		case "$accept":
			return map[string]handler{http.MethodPost: s.acceptRequest}, true
		case "$decline":
			return map[string]handler{http.MethodPost: s.declineRequest}, true
		case "$recipients":
			return map[string]handler{http.MethodGet: s.recipients}, true
		}
		unknown := func(*gin.Context) error {
			return fhir.Errorf(http.StatusNotFound, "not-supported", "%s is not an operation on Task here (supported: $accept, $decline, $recipients)", rt.Operation)
		}
		return map[string]handler{http.MethodGet: unknown, http.MethodPost: unknown}, true
	}
	return nil, false
}

// monthLater is the deadline of a request received at t: the same day of
// the next calendar month, or its last day when it has no such day (the
// ICO's rule: received 31 January, due 28 or 29 February).
func monthLater(t time.Time) time.Time {
	y, m, d := t.Date()
	due := t.AddDate(0, 1, 0)
	if due.Day() != d {
		last := time.Date(y, m+2, 0, 0, 0, 0, 0, t.Location())
		due = time.Date(last.Year(), last.Month(), last.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	}
	return due
}

// request is a stored rights request.
type request struct {
	v                            *store.Version
	obj                          map[string]any
	code, status, patient, focus string
}

// requestOf reads a Task as a rights request; it must name its Patient,
// and a rectification the resource to correct.
func requestOf(obj map[string]any) (*request, error) {
	r := &request{obj: obj}
	code, _ := obj["code"].(map[string]any)
	for _, cd := range list(code["coding"]) {
		m, _ := cd.(map[string]any)
		if m["system"] == RightsSystem {
			r.code, _ = m["code"].(string)
		}
	}
	if r.code != codeRectification && r.code != codeSubjectAccess {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "a Task here is a rights request: its code must be %s|%s or %s|%s", RightsSystem, codeRectification, RightsSystem, codeSubjectAccess).At("Task.code")
	}
	r.status, _ = obj["status"].(string)
	r.patient = referenceAt(obj, "for")
	if !strings.HasPrefix(r.patient, "Patient/") {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "required", "a rights request names the person it is about in Task.for (a Patient reference)").At("Task.for")
	}
	r.focus = referenceAt(obj, "focus")
	if r.code == codeRectification && strings.Count(r.focus, "/") != 1 {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "required", "a rectification request names the resource to correct in Task.focus (Type/id)").At("Task.focus")
	}
	return r, nil
}

func referenceAt(obj map[string]any, el string) string {
	ref, _ := obj[el].(map[string]any)
	s, _ := ref["reference"].(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// proposed is the correction the person asked for, in words, and the
// JSON Patch they proposed ("" for none).
func (r *request) proposed() (words, patch string) {
	var said []string
	for _, in := range list(r.obj["input"]) {
		m, _ := in.(map[string]any)
		v, _ := m["valueString"].(string)
		if typeCode(m) == patchInput {
			patch = v
		} else if v != "" {
			said = append(said, v)
		}
	}
	return strings.Join(said, "\n"), patch
}

func typeCode(input map[string]any) string {
	t, _ := input["type"].(map[string]any)
	for _, cd := range list(t["coding"]) {
		m, _ := cd.(map[string]any)
		if c, _ := m["code"].(string); c != "" {
			return c
		}
	}
	return ""
}

// createRequest answers POST /Task: the gateway dates the request,
// computes its deadline and sets it requested; the caller must be allowed
// to raise it (SELF-6-request for a person's own record, else
// RIGHTS-10-requests) and, for a rectification, to read the resource it
// names, which must be about the same person.
func (s *Server) createRequest(c *gin.Context) error {
	res, err := s.readResource(c, "Task", "")
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	a := accessOf(c)
	r, err := requestOf(res.Object)
	if err != nil {
		return err
	}
	now := s.cfg.Clock().UTC()
	o := res.Object
	o["status"], o["intent"] = "requested", "order"
	o["authoredOn"], o["lastModified"] = instant(now), instant(now)
	o["restriction"] = map[string]any{"period": map[string]any{"start": instant(now), "end": instant(monthLater(now))}}
	o["businessStatus"] = rightsStatus("received", "Received")
	delete(o, "statusReason")
	delete(o, "output")
	if a.id.Kind == auth.KindPerson {
		o["requester"] = map[string]any{"reference": r.patient}
	}
	if err := a.mayWrite(ctx, res, nil); err != nil {
		return err
	}
	if err := s.mayRaise(ctx, a, r); err != nil {
		return err
	}
	res.ID = ""
	v, err := s.store.Create(ctx, res)
	if err != nil {
		return err
	}
	c.Header("Location", s.base(c)+"/Task/"+v.ID+"/_history/"+strconv.FormatInt(v.VersionID, 10))
	s.writeWrite(c, http.StatusCreated, v)
	return nil
}

// mayRaise decides whether the caller may raise r: staff need
// RIGHTS-10-requests for the person (a person's own is decided as the
// write, SELF-6-request); a rectification's resource must be one the
// caller may read, about the same person.
func (s *Server) mayRaise(ctx context.Context, a *access, r *request) error {
	pv, err := s.readRef(ctx, r.patient)
	if err != nil {
		return err
	}
	if a.id.Kind != auth.KindPerson {
		if err := a.decideOperation(ctx, "$rights-request", pv); err != nil {
			return err
		}
	}
	if r.code != codeRectification {
		return nil
	}
	fv, err := s.readRef(ctx, r.focus)
	if err != nil {
		return err
	}
	if _, _, err := a.decide(ctx, policy.ActionRead, fv); err != nil {
		return err
	}
	at, err := storedAttrs(fv)
	if err != nil {
		return err
	}
	if at.Patient != r.patient {
		return fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "%s is not part of %s's record: a correction is asked of the person's own record", r.focus, r.patient).At("Task.focus")
	}
	return nil
}

// readRef reads the current version of a "Type/id" reference; a reference
// to nothing held is 422 (the request names something that is not there).
func (s *Server) readRef(ctx context.Context, ref string) (*store.Version, error) {
	typ, id, _ := strings.Cut(ref, "/")
	if !fhir.Supported(typ) || !fhir.ValidID(id) {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "%q is not a reference to a resource this server holds", ref)
	}
	v, err := s.store.Read(ctx, typ, id)
	if errors.Is(err, fhir.ErrNotFound) || errors.Is(err, fhir.ErrGone) {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "not-found", "%s is not held on this server", ref)
	}
	return v, err
}

func rightsStatus(code, display string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": RightsStatusSystem, "code": code, "display": display}}, "text": display}
}

// openRequest reads the rectification request the path names (when open
// is set, one still requested or accepted) and decides operation on its
// person (RIGHTS-10-requests).
func (s *Server) openRequest(c *gin.Context, operation string, open bool) (*request, error) {
	ctx := c.Request.Context()
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	v, err := s.store.Read(ctx, "Task", id)
	if err != nil {
		return nil, err
	}
	obj, err := decodeVersion(v)
	if err != nil {
		return nil, err
	}
	r, err := requestOf(obj)
	if err != nil {
		return nil, err
	}
	r.v = v
	pv, err := s.readRef(ctx, r.patient)
	if err != nil {
		return nil, err
	}
	if err := accessOf(c).decideOperation(ctx, operation, pv); err != nil {
		return nil, err
	}
	trailOf(c).noteResource("Task", id, r.patient)
	if r.code != codeRectification {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "Task/%s is a %s request; %s is for rectification requests", id, r.code, operation)
	}
	// accepted: a correction that failed after the request was accepted
	// may be tried again.
	if open && r.status != "requested" && r.status != "accepted" {
		return nil, fhir.Errorf(http.StatusConflict, "conflict", "Task/%s is already %s: only an open request (requested or accepted) can be accepted or declined", id, r.status)
	}
	return r, nil
}

// operationBody reads an operation's optional Parameters body: name to
// the parameter (nil when there is no body).
func operationBody(c *gin.Context) (map[string]map[string]any, error) {
	b, err := readBody(c)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, nil
	}
	obj, err := fhir.DecodeObject(b)
	if err != nil || obj["resourceType"] != "Parameters" {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the body must be a FHIR Parameters resource")
	}
	out := map[string]map[string]any{}
	for _, p := range list(obj["parameter"]) {
		m, _ := p.(map[string]any)
		if name, _ := m["name"].(string); name != "" {
			out[name] = m
		}
	}
	return out, nil
}

// acceptRequest answers POST /Task/{id}/$accept. The corrected resource
// is the Parameters resource, else the Parameters patch (a JSON Patch in
// valueString) applied to what is held, else the request's own json-patch
// input. It is written as a new version (history keeps the old one) with
// a Provenance whose entity is the request. A professional opinion is
// never rewritten: the person's correction is attached to it as a
// supplementary statement instead, and the request is rejected as such.
func (s *Server) acceptRequest(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	r, err := s.openRequest(c, "$accept", true)
	if err != nil {
		return err
	}
	params, err := operationBody(c)
	if err != nil {
		return err
	}
	cur, err := s.changeable(ctx, a, r.focus)
	if err != nil {
		return err
	}
	at, err := storedAttrs(cur)
	if err != nil {
		return err
	}
	if slices.Contains(at.Categories, policy.CatOpinion) {
		words, _ := r.proposed()
		text := "The person asked for this professional opinion to be corrected. An opinion is kept as it was recorded; this statement records the person's view.\n\nThe person's view: " + words
		return s.concludeWithStatement(c, a, r, cur, text, "opinion-annotated", "Opinion annotated",
			"a professional opinion is kept as it was recorded; the person's view is attached to it as a supplementary statement")
	}
	res, err := correction(params, r, cur)
	if err != nil {
		return err
	}
	if err := a.mayWrite(ctx, res, cur); err != nil {
		return err
	}
	if r, err = s.advance(ctx, a, r, func(o map[string]any) {
		o["status"], o["businessStatus"] = "accepted", rightsStatus("accepted", "Accepted")
	}); err != nil {
		return err
	}
	nv, prov, err := s.revise(ctx, a, r, cur, res)
	if err != nil {
		return err
	}
	done, err := s.advance(ctx, a, r, func(o map[string]any) {
		o["status"], o["businessStatus"] = "completed", rightsStatus("corrected", "Corrected")
		o["output"] = []any{output("corrected-version", versionRef(nv)), output("provenance", "Provenance/"+prov.ID)}
	})
	if err != nil {
		return err
	}
	s.writeWrite(c, http.StatusOK, done.v)
	return nil
}

// changeable reads the resource a request names, which the caller must be
// allowed to change (read and write as it is now).
func (s *Server) changeable(ctx context.Context, a *access, ref string) (*store.Version, error) {
	cur, err := s.readRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	return cur, a.mayChange(ctx, cur)
}

// correction is the corrected resource of an $accept.
func correction(params map[string]map[string]any, r *request, cur *store.Version) (*fhir.Resource, error) {
	if p, ok := params["resource"]; ok {
		b, err := json.Marshal(p["resource"])
		if err != nil {
			return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the resource parameter could not be read")
		}
		return checkResource(b, cur.Type, cur.ID)
	}
	patch := ""
	if p, ok := params["patch"]; ok {
		patch, _ = p["valueString"].(string)
	} else {
		_, patch = r.proposed()
	}
	if patch == "" {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "required", "nothing says what the correction is: send a Parameters body with the corrected resource (resource) or a JSON Patch (patch, valueString), or raise the request with a %s input", patchInput)
	}
	ops, err := fhir.DecodePatch([]byte(patch))
	if err != nil {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "the patch: %v", err)
	}
	obj, err := decodeVersion(cur)
	if err != nil {
		return nil, err
	}
	if err := fhir.ApplyPatch(obj, ops); err != nil {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "processing", "the patch does not apply to %s/%s as held: %v", cur.Type, cur.ID, err)
	}
	b, err := fhir.MarshalResource(obj)
	if err != nil {
		return nil, err
	}
	return checkResource(b, cur.Type, cur.ID)
}

func output(code, ref string) map[string]any {
	return map[string]any{"type": map[string]any{"coding": []any{map[string]any{"system": RightsSystem, "code": code}}}, "valueReference": map[string]any{"reference": ref}}
}

func versionRef(v *store.Version) string {
	return v.Type + "/" + v.ID + "/_history/" + strconv.FormatInt(v.VersionID, 10)
}

// advance writes the request's next state (edit changes a copy of it),
// as the version it was read at.
func (s *Server) advance(ctx context.Context, a *access, r *request, edit func(map[string]any)) (*request, error) {
	obj, err := decodeVersion(r.v)
	if err != nil {
		return nil, err
	}
	edit(obj)
	obj["lastModified"] = instant(s.cfg.Clock())
	stampAuthors(obj, []string{a.id.Org})
	res := &fhir.Resource{Type: "Task", ID: r.v.ID, Object: obj}
	w, err := s.store.Update(ctx, res, r.v.VersionID)
	if err != nil {
		return nil, changedMeanwhile(err, 0)
	}
	next := *r
	next.v, next.obj = w.Version, obj
	next.status, _ = obj["status"].(string)
	return &next, nil
}

// revise writes res as the next version of cur, and a Provenance naming
// the request as its source and the version it replaces.
func (s *Server) revise(ctx context.Context, a *access, r *request, cur *store.Version, res *fhir.Resource) (*store.Version, *store.Version, error) {
	if err := a.mayWrite(ctx, res, cur); err != nil {
		return nil, nil, err
	}
	w, err := s.store.Update(ctx, res, cur.VersionID)
	if err != nil {
		return nil, nil, changedMeanwhile(err, 0)
	}
	nv := w.Version
	targets := []any{map[string]any{"reference": versionRef(nv)}}
	if r.patient != nv.Type+"/"+nv.ID {
		targets = append(targets, map[string]any{"reference": r.patient})
	}
	prov := &fhir.Resource{Type: "Provenance", Object: map[string]any{
		"resourceType": "Provenance",
		"target":       targets,
		"recorded":     instant(s.cfg.Clock()),
		"activity":     map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "UPDATE", "display": "revise"}}},
		"reason":       []any{map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "PATRQT", "display": "patient requested"}}}},
		"agent":        []any{map[string]any{"who": map[string]any{"identifier": map[string]any{"system": odsSystem, "value": a.id.Org}}}},
		"entity": []any{
			map[string]any{"role": "source", "what": map[string]any{"reference": "Task/" + r.v.ID}},
			map[string]any{"role": "revision", "what": map[string]any{"reference": versionRef(cur)}},
		},
	}}
	if err := a.mayWrite(ctx, prov, nil); err != nil {
		return nil, nil, err
	}
	pv, err := s.store.Create(ctx, prov)
	if err != nil {
		return nil, nil, err
	}
	trail := a.trail
	trail.noteResource(nv.Type, nv.ID, r.patient)
	trail.noteResource("Provenance", pv.ID, r.patient)
	return nv, pv, nil
}

// declineRequest answers POST /Task/{id}/$decline (Parameters: reason):
// the resource is not changed; a supplementary statement with the
// person's correction and the council's reason is attached to it, and the
// request is rejected with that reason.
func (s *Server) declineRequest(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	r, err := s.openRequest(c, "$decline", true)
	if err != nil {
		return err
	}
	params, err := operationBody(c)
	if err != nil {
		return err
	}
	reason, _ := params["reason"]["valueString"].(string)
	if strings.TrimSpace(reason) == "" {
		return fhir.Errorf(http.StatusBadRequest, "required", "a correction is declined with reasons: send a Parameters body with reason (valueString); the person is told them").At("Parameters.parameter.reason")
	}
	cur, err := s.changeable(ctx, a, r.focus)
	if err != nil {
		return err
	}
	words, _ := r.proposed()
	text := "The person disputes this record and asked for it to be corrected: " + words + "\n\nThe council did not change it, for this reason: " + reason
	return s.concludeWithStatement(c, a, r, cur, text, "statement-attached", "Declined; statement attached", reason)
}

// concludeWithStatement attaches a supplementary statement to cur and
// rejects the request with why, answering with the request.
func (s *Server) concludeWithStatement(c *gin.Context, a *access, r *request, cur *store.Version, text, status, display, why string) error {
	ctx := c.Request.Context()
	doc, err := s.attachStatement(ctx, a, r, cur, text)
	if err != nil {
		return err
	}
	done, err := s.advance(ctx, a, r, func(o map[string]any) {
		o["status"], o["businessStatus"] = "rejected", rightsStatus(status, display)
		o["statusReason"] = map[string]any{"text": why}
		o["output"] = []any{output(codeStatement, "DocumentReference/"+doc.ID)}
	})
	if err != nil {
		return err
	}
	s.writeWrite(c, http.StatusOK, done.v)
	return nil
}

// attachStatement stores the statement as a DocumentReference about the
// person, related to the resource and the request, with the resource's
// categories and security labels (whoever may see the one sees the
// other), and marks the resource with StatementExtension (a new version,
// with its Provenance).
func (s *Server) attachStatement(ctx context.Context, a *access, r *request, cur *store.Version, text string) (*store.Version, error) {
	obj, err := decodeVersion(cur)
	if err != nil {
		return nil, err
	}
	at, err := storedAttrs(cur)
	if err != nil {
		return nil, err
	}
	meta := map[string]any{}
	var tags []any
	for _, cat := range at.Categories {
		tags = append(tags, map[string]any{"system": policy.CategorySystem, "code": cat})
	}
	meta["tag"] = tags
	if m, _ := obj["meta"].(map[string]any); m["security"] != nil {
		meta["security"] = m["security"]
	}
	ref := cur.Type + "/" + cur.ID
	doc := &fhir.Resource{Type: "DocumentReference", Object: map[string]any{
		"resourceType": "DocumentReference",
		"meta":         meta,
		"status":       "current",
		"type":         map[string]any{"coding": []any{map[string]any{"system": RightsSystem, "code": codeStatement, "display": "Supplementary statement"}}, "text": "Supplementary statement"},
		"subject":      map[string]any{"reference": r.patient},
		"date":         instant(s.cfg.Clock()),
		"description":  "Supplementary statement about " + ref,
		"content":      []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain; charset=utf-8", "title": "Supplementary statement", "data": base64.StdEncoding.EncodeToString([]byte(text))}}},
		"context":      map[string]any{"related": []any{map[string]any{"reference": ref}, map[string]any{"reference": "Task/" + r.v.ID}}},
	}}
	if err := a.mayWrite(ctx, doc, nil); err != nil {
		return nil, err
	}
	dv, err := s.store.Create(ctx, doc)
	if err != nil {
		return nil, err
	}
	a.trail.noteResource("DocumentReference", dv.ID, r.patient)
	ext := list(obj["extension"])
	obj["extension"] = append(ext, map[string]any{"url": StatementExtension, "valueReference": map[string]any{"reference": "DocumentReference/" + dv.ID, "display": "Supplementary statement"}})
	if _, _, err := s.revise(ctx, a, r, cur, &fhir.Resource{Type: cur.Type, ID: cur.ID, Object: obj}); err != nil {
		return nil, err
	}
	return dv, nil
}

// overdue answers GET /Task/$overdue (code: rectification or
// subject-access, default both): the open requests (requested or
// accepted) whose deadline has passed, as a searchset, decided as a
// search.
func (s *Server) overdue(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	trailOf(c).resourceType = "Task"
	if err := a.decideWholeOperation(ctx, "$overdue"); err != nil {
		return err
	}
	params := url.Values{"status": {"requested,accepted"}, "deadline": {"lt" + instant(s.cfg.Clock())}, "_count": {strconv.Itoa(s.cfg.MaxCount)}}
	switch code := c.Query("code"); code {
	case "":
		params.Set("code", RightsSystem+"|"+codeRectification+","+RightsSystem+"|"+codeSubjectAccess)
	case codeRectification, codeSubjectAccess:
		params.Set("code", RightsSystem+"|"+code)
	default:
		return fhir.Errorf(http.StatusBadRequest, "invalid", "code must be %s or %s", codeRectification, codeSubjectAccess).At("code")
	}
	q, err := search.Parse("Task", params, search.Options{DefaultCount: s.cfg.MaxCount, MaxCount: s.cfg.MaxCount})
	if err != nil {
		return err
	}
	page, err := s.store.Search(ctx, q, a.restrict(policy.ActionSearch, q))
	if err != nil {
		return err
	}
	matches, err := a.decidePage(ctx, policy.ActionSearch, page.Matches)
	if err != nil {
		return err
	}
	b := newBundle("searchset")
	total := int64(len(matches))
	b.Total = &total
	for _, m := range matches {
		b.Entry = append(b.Entry, bundleEntry{FullURL: s.base(c) + "/Task/" + m.ID, Resource: m.JSON, Search: &entrySearch{Mode: "match"}})
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

// recipients answers GET /Task/{id}/$recipients: the organisations the
// audit trail shows were sent the resource the request is about (read,
// searched, or in an export) before it was corrected or the statement
// attached (before now while the request is open), so that they can be
// told of the correction.
func (s *Server) recipients(c *gin.Context) error {
	lg, err := s.auditLog()
	if err != nil {
		return err
	}
	r, err := s.openRequest(c, "$recipients", false)
	if err != nil {
		return err
	}
	// The audit trail and the store date by the same clock: the request's
	// last version was stored when it was answered.
	until := time.Now()
	if r.status != "requested" {
		until = r.v.LastUpdated
	}
	accesses, err := lg.WhoAccessed(c.Request.Context(), r.patient, 500)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, recipientParameters(accesses, r.focus, until))
	return nil
}

// rightsOperations are the operations that answer a request rather than
// send the record anywhere.
var rightsOperations = []string{"$rights-request", "$accept", "$decline", "$recipients", "$overdue", "$who-accessed"}

// receivedIt reports whether an access sent resource to its organisation.
func receivedIt(x *audit.Access, resource string, until time.Time) bool {
	if !x.Allowed || x.Public || x.Org == "" || !x.Time.Before(until) || !slices.Contains(x.Resources, resource) {
		return false
	}
	switch x.Interaction {
	case "create", "update", "delete", "patch":
		return false
	case "operation":
		return !slices.Contains(rightsOperations, x.Operation)
	}
	return true
}

// recipientParameters lists, per organisation, how often and when it was
// sent resource before until.
func recipientParameters(accesses []audit.Access, resource string, until time.Time) map[string]any {
	type seen struct {
		first, last time.Time
		n           int
	}
	byOrg := map[string]*seen{}
	var orgs []string
	for i := range accesses {
		x := &accesses[i]
		if !receivedIt(x, resource, until) {
			continue
		}
		o := byOrg[x.Org]
		if o == nil {
			o = &seen{first: x.Time, last: x.Time}
			byOrg[x.Org] = o
			orgs = append(orgs, x.Org)
		}
		o.n++
		if x.Time.Before(o.first) {
			o.first = x.Time
		}
		if x.Time.After(o.last) {
			o.last = x.Time
		}
	}
	slices.Sort(orgs)
	out := map[string]any{"resourceType": "Parameters"}
	params := []any{map[string]any{"name": "resource", "valueReference": map[string]any{"reference": resource}}}
	for _, org := range orgs {
		o := byOrg[org]
		params = append(params, map[string]any{"name": "recipient", "part": []any{
			map[string]any{"name": "organization", "valueIdentifier": map[string]any{"system": odsSystem, "value": org}},
			map[string]any{"name": "first", "valueInstant": o.first.UTC().Format(time.RFC3339)},
			map[string]any{"name": "last", "valueInstant": o.last.UTC().Format(time.RFC3339)},
			map[string]any{"name": "accesses", "valueInteger": o.n},
		}})
	}
	out["parameter"] = params
	return out
}

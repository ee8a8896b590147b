package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/casefile"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/policy"
)

// Case-file audit sampling (package casefile has the checklist, the
// draw, the review's validation and the tally):
//
//	GET  /$case-file-checklist              the shipped checklist (a Questionnaire)
//	GET  /$case-file-sample                 the organisation's samples, newest first (a Bundle of their Tasks)
//	POST /$case-file-sample                 draw a sample (Parameters: size, stratify-by, seed, team, service, questionnaire)
//	GET  /$case-file-sample/{id}            the sample: its Task and the case files' Tasks (a Bundle)
//	GET  /$case-file-sample/{id}/$report    the results (Parameters, _format=csv or html)
//	GET  /$case-file-review/{task}          one case file with the checklist (a Bundle, or _format=html)
//	POST /$case-file-review/{task}          the reviewer's answers (a QuestionnaireResponse)
//
// The policy decides each (CASEAUDIT-13-case-file-audit: council staff
// whose role runs data-quality reports, as for $data-quality): drawing,
// reading a sample and its checklist are the operation $case-file-sample
// over the whole record, the report $case-file-report, reviewing one case
// file $case-file-review on the person (known to the council). What a
// reviewer sees of the case file is then decided resource by resource as
// their own reads are. A sample belongs to the organisation that drew it:
// another organisation is told it does not exist. Every request is one
// audited interaction naming the people it touches. The same workflow
// has pages for a browser under /ig/case-files (casefile_pages.go).
const (
	opCaseFileChecklist = "$case-file-checklist"
	opCaseFileSample    = "$case-file-sample"
	opCaseFileReport    = "$case-file-report"
	opCaseFileReview    = "$case-file-review"

	// CaseFileAuditSystem codes the samples' Tasks (Task.code) and their
	// inputs and outputs (Task.input.type, Task.output.type).
	CaseFileAuditSystem = policy.CodeSystemBase + "case-file-audit"

	codeSample = "case-file-sample"
	codeReview = "case-file-review"
	// reviewID is the id of the QuestionnaireResponse contained in a
	// case file's Task once reviewed.
	reviewID = "review"
	// maxSampleSize is the largest sample one request draws.
	maxSampleSize = 500
	// maxSampleList is how many samples GET /$case-file-sample lists.
	maxSampleList = 100
)

// caseFileHandlers serve the case-file audit paths (ok false for others).
func (s *Server) caseFileHandlers(rt *route) (map[string]handler, bool) {
	switch {
	case rt.Operation == opCaseFileChecklist && rt.shape == "/$op":
		return map[string]handler{http.MethodGet: s.caseFileChecklist}, true
	case rt.Operation == opCaseFileSample && rt.shape == "/$op":
		return map[string]handler{http.MethodGet: s.listSamples, http.MethodPost: s.drawSample}, true
	case rt.Operation == opCaseFileSample && rt.shape == "/$op/{id}":
		return map[string]handler{http.MethodGet: s.readSample}, true
	case rt.Operation == opCaseFileSample && rt.shape == "/$op/{id}/{file}" && rt.File == "$report":
		return map[string]handler{http.MethodGet: s.sampleReport}, true
	case rt.Operation == opCaseFileReview && rt.shape == "/$op/{id}":
		return map[string]handler{http.MethodGet: s.reviewCaseFile, http.MethodPost: s.answerReview}, true
	}
	return nil, false
}

func (s *Server) caseFileChecklist(c *gin.Context) error {
	if err := accessOf(c).decideWholeOperation(c.Request.Context(), opCaseFileSample); err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, casefile.Default().Questionnaire)
	return nil
}

// sampleRequest is a parsed draw.
type sampleRequest struct {
	size             int
	seed, stratifyBy string
	teams, services  []string
	checklist        *casefile.Checklist
	customChecklist  bool
}

// sampleParams reads the draw's Parameters, naming every problem.
func sampleParams(body []byte) (*sampleRequest, error) {
	obj, err := fhir.DecodeObject(body)
	if err != nil || obj["resourceType"] != "Parameters" {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the body must be a FHIR Parameters resource (size, stratify-by, and optionally seed, team, service, questionnaire)")
	}
	r := &sampleRequest{checklist: casefile.Default()}
	var issues []fhir.Issue
	bad := func(name, format string, args ...any) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: name + ": " + fmt.Sprintf(format, args...), Expression: []string{name}})
	}
	seen := map[string]bool{}
	for i, p := range list(obj["parameter"]) {
		m, _ := p.(map[string]any)
		name, _ := m["name"].(string)
		if seen[name] && name != "team" && name != "service" {
			bad(name, "given twice")
			continue
		}
		seen[name] = true
		switch name {
		case "size":
			n, ok := jsonInt(m["valueInteger"])
			if !ok {
				n, ok = jsonInt(m["valuePositiveInt"])
			}
			if !ok || n < 1 || n > maxSampleSize {
				bad(name, "a valueInteger from 1 to %d: how many case files to draw", maxSampleSize)
			}
			r.size = n
		case "seed":
			v, _ := m["valueString"].(string)
			if v == "" || len(v) > 128 {
				bad(name, "a valueString of 1 to 128 characters (leave it out and the gateway chooses one)")
			}
			r.seed = v
		case "stratify-by":
			v, _ := m["valueCode"].(string)
			if v != "team" && v != "service" {
				bad(name, "a valueCode, team or service")
			}
			r.stratifyBy = v
		case "team", "service":
			v, _ := m["valueString"].(string)
			if strings.TrimSpace(v) == "" {
				bad(name, "a valueString naming the %s to sample from", name)
			}
			if name == "team" {
				r.teams = append(r.teams, v)
			} else {
				r.services = append(r.services, v)
			}
		case "questionnaire":
			res, _ := m["resource"].(map[string]any)
			cl, qi := casefile.ParseChecklist(res)
			for _, is := range qi {
				is.Diagnostics = "questionnaire: " + is.Diagnostics
				issues = append(issues, is)
			}
			if cl != nil {
				r.checklist, r.customChecklist = cl, true
			}
		default:
			bad(fmt.Sprintf("parameter[%d]", i), "%q is not a parameter of $case-file-sample (size, stratify-by, seed, team, service, questionnaire)", truncateName(name))
		}
	}
	if !seen["size"] {
		bad("size", "required: how many case files to draw")
	}
	if !seen["stratify-by"] {
		bad("stratify-by", "required: team or service")
	}
	if len(issues) > 0 {
		return nil, &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	if r.seed == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		r.seed = hex.EncodeToString(b)
	}
	return r, nil
}

func jsonInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}

// truncateName keeps a client's parameter name short in a diagnostic.
func truncateName(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// drawSample answers POST /$case-file-sample: the population is every
// Patient the caller may read (restricted and decided as the caller's
// reads), each in one stratum (population); the sample (casefile.Draw)
// is stored as one Task per case file, then the sample's own Task listing
// them, and answered with the sample as GET /$case-file-sample/{id} does
// (201, Location). Writing the sample's Task last means a draw that fails
// half-way leaves case-file Tasks no sample lists (never shown, never
// counted), not a sample with case files missing.
func (s *Server) drawSample(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileSample); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	req, err := sampleParams(body)
	if err != nil {
		return err
	}
	sampleID, err := s.draw(ctx, a, req)
	if err != nil {
		return err
	}
	c.Header("Location", s.base(c)+"/"+opCaseFileSample+"/"+sampleID)
	return s.writeSample(c, a, sampleID, http.StatusCreated)
}

// draw draws and stores the sample req asks for (see drawSample) and
// returns its id.
func (s *Server) draw(ctx context.Context, a *access, req *sampleRequest) (string, error) {
	population, err := s.population(ctx, a, req)
	if err != nil {
		return "", err
	}
	drawn := casefile.Draw(population, req.size, req.seed)
	now := instant(s.cfg.Clock().UTC())
	sampleID, err := newResourceID()
	if err != nil {
		return "", err
	}
	canonical := req.checklist.Canonical()
	owner := map[string]any{"identifier": map[string]any{"system": odsSystem, "value": a.id.Org}}
	var itemRefs []any
	for _, m := range drawn {
		obj := map[string]any{"resourceType": "Task", "status": "requested", "intent": "order",
			"code":       auditCode(codeReview, "Case-file review"),
			"partOf":     []any{map[string]any{"reference": "Task/" + sampleID}},
			"for":        map[string]any{"reference": m.Patient},
			"authoredOn": now, "requester": owner,
			"input": []any{
				map[string]any{"type": auditCode("questionnaire", "Checklist"), "valueCanonical": canonical},
				map[string]any{"type": auditCode("stratum", "Stratum"), "valueString": m.Stratum},
			},
		}
		stampAuthors(obj, []string{a.id.Org})
		v, err := s.store.Create(ctx, &fhir.Resource{Type: "Task", Object: obj})
		if err != nil {
			return "", err
		}
		a.trail.noteResource("Task", v.ID, m.Patient)
		a.trail.noteResource("Patient", strings.TrimPrefix(m.Patient, "Patient/"), m.Patient)
		itemRefs = append(itemRefs, map[string]any{"type": auditCode("case-file", "Case file"), "valueReference": map[string]any{"reference": "Task/" + v.ID}})
	}
	inputs := []any{
		map[string]any{"type": auditCode("size", "Size asked for"), "valueInteger": req.size},
		map[string]any{"type": auditCode("seed", "Seed"), "valueString": req.seed},
		map[string]any{"type": auditCode("stratify-by", "Stratified by"), "valueCode": req.stratifyBy},
		map[string]any{"type": auditCode("questionnaire", "Checklist"), "valueCanonical": canonical},
		map[string]any{"type": auditCode("population", "People in the population"), "valueInteger": len(population)},
	}
	for _, t := range req.teams {
		inputs = append(inputs, map[string]any{"type": auditCode("team", "Team filter"), "valueString": t})
	}
	for _, sv := range req.services {
		inputs = append(inputs, map[string]any{"type": auditCode("service", "Service filter"), "valueString": sv})
	}
	obj := map[string]any{"resourceType": "Task", "id": sampleID, "status": "in-progress", "intent": "plan",
		"code":       auditCode(codeSample, "Case-file audit sample"),
		"authoredOn": now, "lastModified": now, "requester": owner,
		"input": inputs,
	}
	if len(itemRefs) > 0 {
		obj["output"] = itemRefs
	}
	if req.customChecklist {
		q := maps.Clone(req.checklist.Questionnaire)
		q["id"] = "checklist"
		delete(q, "meta")      // a contained resource has no version or labels of its own (dom-4, dom-5)
		delete(q, "contained") // nor contained resources (dom-2)
		obj["contained"] = []any{q}
		inputs = append(inputs, map[string]any{"type": auditCode("checklist", "The council's checklist"), "valueReference": map[string]any{"reference": "#checklist"}})
		obj["input"] = inputs
	}
	stampAuthors(obj, []string{a.id.Org})
	if _, err := s.store.Update(ctx, &fhir.Resource{Type: "Task", ID: sampleID, Object: obj}, 0); err != nil {
		return "", err
	}
	a.trail.noteResource("Task", sampleID, "")
	return sampleID, nil
}

func auditCode(code, display string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": CaseFileAuditSystem, "code": code, "display": display}}}
}

// newResourceID is a random resource id for a Task the gateway names
// before writing it.
func newResourceID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// noStratum names the stratum of people with no team, or no service.
func noStratum(by string) string { return "(no " + by + ")" }

// population is every Patient a may read, each with their stratum: by
// team, the name of their active CareTeam (the first by name when they
// have several), by service, the CLD service type of their active care
// package lines (ServiceRequest.category, the first by name); people with
// none are in "(no team)" or "(no service)". The team and service filters
// keep the people who have one of the teams (services) named.
func (s *Server) population(ctx context.Context, a *access, req *sampleRequest) ([]casefile.Member, error) {
	patients, err := s.searchDecidedNoting(ctx, a, "Patient", url.Values{}, false)
	if err != nil {
		return nil, err
	}
	teams, services := map[string][]string{}, map[string][]string{}
	if req.stratifyBy == "team" || len(req.teams) > 0 {
		if teams, err = s.strata(ctx, a, "CareTeam", careTeamNames); err != nil {
			return nil, err
		}
	}
	if req.stratifyBy == "service" || len(req.services) > 0 {
		if services, err = s.strata(ctx, a, "ServiceRequest", serviceTypes); err != nil {
			return nil, err
		}
	}
	by := map[string]map[string][]string{"team": teams, "service": services}[req.stratifyBy]
	var out []casefile.Member
	for _, p := range patients {
		ref := "Patient/" + p.ID
		if len(req.teams) > 0 && !slices.ContainsFunc(teams[ref], func(t string) bool { return slices.Contains(req.teams, t) }) {
			continue
		}
		if len(req.services) > 0 && !slices.ContainsFunc(services[ref], func(t string) bool { return slices.Contains(req.services, t) }) {
			continue
		}
		stratum := noStratum(req.stratifyBy)
		if names := by[ref]; len(names) > 0 {
			stratum = slices.Min(names)
		}
		out = append(out, casefile.Member{Patient: ref, Stratum: stratum})
	}
	return out, nil
}

// strata reads the active resources of typ a may read and names, per
// patient, what names says of each.
func (s *Server) strata(ctx context.Context, a *access, typ string, names func(map[string]any) []string) (map[string][]string, error) {
	vs, err := s.searchDecidedNoting(ctx, a, typ, url.Values{"status": {"active"}}, false)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, v := range vs {
		attrs, _, err := versionAttrs(v)
		if err != nil {
			return nil, err
		}
		if attrs.Patient == "" {
			continue
		}
		obj, err := decodeVersion(v)
		if err != nil {
			return nil, err
		}
		for _, n := range names(obj) {
			if !slices.Contains(out[attrs.Patient], n) {
				out[attrs.Patient] = append(out[attrs.Patient], n)
			}
		}
	}
	return out, nil
}

func careTeamNames(obj map[string]any) []string {
	if n, _ := obj["name"].(string); strings.TrimSpace(n) != "" {
		return []string{strings.TrimSpace(n)}
	}
	id, _ := obj["id"].(string)
	return []string{"CareTeam/" + id}
}

func serviceTypes(obj map[string]any) []string {
	var out []string
	for _, cat := range list(obj["category"]) {
		m, _ := cat.(map[string]any)
		for _, cd := range list(m["coding"]) {
			cm, _ := cd.(map[string]any)
			if cm["system"] == socialcare.CSCLDServiceType {
				if code, _ := cm["code"].(string); code != "" {
					out = append(out, code)
				}
			}
		}
	}
	return out
}

// sample is a stored sample: its Task and the case files' Tasks, in the
// order drawn, and its checklist.
type sample struct {
	task      *store.Version
	obj       map[string]any
	items     []*store.Version
	checklist *casefile.Checklist
}

// loadSample reads the sample id; a sample of another organisation, or a
// Task that is not a sample, is not found.
func (s *Server) loadSample(ctx context.Context, a *access, id string) (*sample, error) {
	notFound := fhir.Errorf(http.StatusNotFound, "not-found", "no case-file audit sample %s of your organisation", id)
	v, err := s.store.Read(ctx, "Task", id)
	if errors.Is(err, fhir.ErrNotFound) || errors.Is(err, fhir.ErrGone) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	obj, err := decodeVersion(v)
	if err != nil {
		return nil, err
	}
	if !hasAuditCode(obj, codeSample) || ownerOrg(obj) != a.id.Org {
		return nil, notFound
	}
	sm := &sample{task: v, obj: obj, checklist: casefile.Default()}
	for _, ct := range list(obj["contained"]) {
		q, _ := ct.(map[string]any)
		if cl, issues := casefile.ParseChecklist(q); len(issues) == 0 {
			sm.checklist = cl
		}
	}
	for _, out := range list(obj["output"]) {
		m, _ := out.(map[string]any)
		ref, _ := m["valueReference"].(map[string]any)
		r, _ := ref["reference"].(string)
		iv, err := s.store.Read(ctx, "Task", strings.TrimPrefix(r, "Task/"))
		if err != nil {
			return nil, fmt.Errorf("sample %s: read its case file %s: %w", id, r, err)
		}
		sm.items = append(sm.items, iv)
	}
	return sm, nil
}

func hasAuditCode(obj map[string]any, code string) bool {
	m, _ := obj["code"].(map[string]any)
	for _, cd := range list(m["coding"]) {
		cm, _ := cd.(map[string]any)
		if cm["system"] == CaseFileAuditSystem && cm["code"] == code {
			return true
		}
	}
	return false
}

func ownerOrg(obj map[string]any) string {
	m, _ := obj["requester"].(map[string]any)
	id, _ := m["identifier"].(map[string]any)
	if id["system"] != odsSystem {
		return ""
	}
	v, _ := id["value"].(string)
	return v
}

// listSamples answers GET /$case-file-sample: the caller's
// organisation's samples (their Tasks), newest first, at most
// maxSampleList.
func (s *Server) listSamples(c *gin.Context) error {
	ctx := c.Request.Context()
	a := accessOf(c)
	if err := a.decideWholeOperation(ctx, opCaseFileSample); err != nil {
		return err
	}
	samples, err := s.samples(ctx, a)
	if err != nil {
		return err
	}
	b := newBundle("searchset")
	base := s.base(c)
	for _, v := range samples {
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/Task/" + v.ID, Resource: v.JSON, Search: &entrySearch{Mode: "match"}})
	}
	writeJSON(c, http.StatusOK, b)
	return nil
}

// samples are the Tasks of a's organisation's samples, newest first, at
// most maxSampleList, each noted in the audit record.
func (s *Server) samples(ctx context.Context, a *access) ([]*store.Version, error) {
	q, err := search.Parse("Task", url.Values{"code": {CaseFileAuditSystem + "|" + codeSample}, "_tag": {policy.SourceOrgSystem + "|" + a.id.Org},
		"_sort": {"-authored-on"}, "_count": {strconv.Itoa(maxSampleList)}}, search.Options{DefaultCount: maxSampleList, MaxCount: maxSampleList})
	if err != nil {
		return nil, err
	}
	// The gateway's own records of the organisation's work, selected by
	// the organisation that drew them (checked again one by one).
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
		if ownerOrg(obj) != a.id.Org {
			continue
		}
		a.trail.noteResource("Task", v.ID, "")
		out = append(out, v)
	}
	return out, nil
}

// readSample answers GET /$case-file-sample/{id}.
func (s *Server) readSample(c *gin.Context) error {
	a := accessOf(c)
	if err := a.decideWholeOperation(c.Request.Context(), opCaseFileSample); err != nil {
		return err
	}
	return s.writeSample(c, a, routeOf(c).ID, http.StatusOK)
}

// writeSample answers with the sample as a collection Bundle: its Task,
// then each case file's Task, in the order drawn.
func (s *Server) writeSample(c *gin.Context, a *access, id string, status int) error {
	sm, err := s.loadSample(c.Request.Context(), a, id)
	if err != nil {
		return err
	}
	b := newBundle("collection")
	base := s.base(c)
	for _, v := range append([]*store.Version{sm.task}, sm.items...) {
		attrs, _, err := versionAttrs(v)
		if err != nil {
			return err
		}
		a.trail.noteResource(v.Type, v.ID, attrs.Patient)
		b.Entry = append(b.Entry, bundleEntry{FullURL: base + "/Task/" + v.ID, Resource: v.JSON})
	}
	writeJSON(c, status, b)
	return nil
}

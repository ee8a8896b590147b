package gateway

// The workbench's pages (workbench.go): each asks the policy as the API
// request it stands for does (policyWorkflow: POLICY-10-manage;
// runPolicyStep: POLICY-11-approve too) and calls the same workflow.

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
)

// done says what a step that succeeded did (?done= after its redirect).
var done = map[string]string{
	"propose":  "Your draft is stored. Next: run its tests, then look at its impact.",
	"test":     "Tested: the checks passed. It now needs approval by someone else with the approver role.",
	"approve":  "Approved. It can now be activated.",
	"activate": "Activated: the gateway enforces this version now.",
	"rollback": "Rolled back: this version is active again.",
}

// render writes a workbench page for the signed-in person.
func (s *Server) render(c *gin.Context, status int, name, title string, body any, p *problem) {
	d := pageData{Title: title, CSRF: csrfFor(sessionToken(c)), Notice: done[c.Query("done")], Problem: p, Body: body}
	if id, ok := auth.FromContext(c.Request.Context()); ok {
		d.Who = id
	}
	renderPage(c, status, name, d)
}

// igVersions lists the versions, newest first, the active one marked.
func (s *Server) igVersions(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	vs, err := w.List(c.Request.Context())
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, "versions", "Policy versions", vs, nil)
	return nil
}

// versionView is the version page's.
type versionView struct {
	V       *versions.Version
	Files   []fileView
	Others  []*versions.Version
	Against string
	// Diff is the diff against Against; DiffNote says why there is none.
	Diff     []diffLine
	DiffNote string
	// The buttons the version's state allows.
	CanTest, CanApprove, CanActivate, CanRollback bool
	CanShadow, CanStopShadow                      bool
	// Shadow is this instance's report of the version's shadow, if any.
	Shadow *versions.ShadowReport
}

type fileView struct{ Name, Kind, Text string }

type diffLine struct{ Class, Text string }

// igVersion shows one version: files, history, last test report, diff
// against its parent (or ?against=) and the buttons its state allows.
func (s *Server) igVersion(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	v, err := w.Get(c.Request.Context(), routeOf(c).ID)
	if err != nil {
		return versionError(err)
	}
	view, err := s.versionView(c, w, v, c.Query("against"))
	if err != nil {
		return err
	}
	trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+v.ID)
	s.render(c, http.StatusOK, "version", "Policy version "+short(v.ID), view, nil)
	return nil
}

func (s *Server) versionView(c *gin.Context, w PolicyVersions, v *versions.Version, against string) (*versionView, error) {
	ctx := c.Request.Context()
	all, err := w.List(ctx)
	if err != nil {
		return nil, err
	}
	view := &versionView{V: v, Files: filesOf(v), Against: cmp.Or(against, v.Parent),
		CanTest: v.State == versions.Draft, CanApprove: v.State == versions.Tested,
		CanActivate: v.State == versions.Approved, CanRollback: v.State == versions.Retired,
		CanShadow:     v.Shadowing == 0 && (v.State == versions.Tested || v.State == versions.Approved),
		CanStopShadow: v.Shadowing != 0}
	if v.Shadowing != 0 {
		if view.Shadow, err = s.shadowReport(ctx, v.ID); err != nil {
			return nil, err
		}
	}
	for _, o := range all {
		if o.ID != v.ID {
			view.Others = append(view.Others, o)
		}
	}
	if view.Against == "" {
		view.DiffNote = "This version has no parent: choose a version to compare it with."
		return view, nil
	}
	base, err := w.Get(ctx, view.Against)
	switch {
	case errors.Is(err, versions.ErrNotFound):
		view.DiffNote = "There is no version " + view.Against + " to compare with."
	case err != nil:
		return nil, err
	default:
		view.Diff = diffLines(versions.Diff(base, v))
		if len(view.Diff) == 0 {
			view.DiffNote = "No differences."
		}
	}
	return view, nil
}

// filesOf lists data.json, then the modules, then the tests.
func filesOf(v *versions.Version) []fileView {
	out := []fileView{{Name: policy.DataFile, Kind: "the data sharing agreement", Text: v.Data}}
	for _, set := range []struct {
		kind  string
		files map[string]string
	}{{"module", v.Modules}, {"Rego tests", v.Tests}} {
		names := make([]string, 0, len(set.files))
		for n := range set.files {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			out = append(out, fileView{Name: n, Kind: set.kind, Text: set.files[n]})
		}
	}
	return out
}

func diffLines(d string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
		if l == "" && len(out) == 0 {
			continue
		}
		class := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			class = "file"
		case strings.HasPrefix(l, "@@"):
			class = "hunk"
		case strings.HasPrefix(l, "+"):
			class = "add"
		case strings.HasPrefix(l, "-"):
			class = "del"
		}
		out = append(out, diffLine{class, l})
	}
	return out
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// igStep runs a button: test, approve (with a note), activate, rollback,
// shadow, shadow-stop.
// Success goes back to the version's page; a refusal or an error of the
// workflow is shown on it, with its status.
func (s *Server) igStep(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	f, err := readForm(c, csrfFor(sessionToken(c)))
	if err != nil {
		return err
	}
	rt := routeOf(c)
	if _, err := s.runPolicyStep(c, w, rt.Operation, rt.ID, f.Get("note")); err != nil {
		return s.showOnVersion(c, w, rt.ID, versionError(err))
	}
	trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+rt.ID)
	c.Redirect(http.StatusSeeOther, igPath+"/versions/"+url.PathEscape(rt.ID)+"?done="+url.QueryEscape(c.Param("step")))
	return nil
}

// showOnVersion shows a step's error on the version's page.
func (s *Server) showOnVersion(c *gin.Context, w PolicyVersions, id string, err error) error {
	fe := toFHIRError(err, requestID(c))
	if fe.Status >= 500 || !wantsHTML(c) {
		return err
	}
	v, gerr := w.Get(c.Request.Context(), id)
	if gerr != nil {
		return err
	}
	view, gerr := s.versionView(c, w, v, "")
	if gerr != nil {
		return err
	}
	s.render(c, fe.Status, "version", "Policy version "+short(v.ID), view, problemOf(fe))
	return nil
}

// impactView is the impact page's.
type impactView struct {
	ID      string
	Since   string
	Periods []period
	Report  *versions.ImpactReport
	Flips   []flipsView
}

type period struct {
	Value, Label string
	Selected     bool
}

type flipsView struct {
	Title, Explain string
	Count          int
	Groups         []groupSet
}

type groupSet struct {
	By   string
	Rows []groupRow
}

type groupRow struct {
	Key      string
	Count    int
	Examples []string
}

// igImpact replays the audited decisions of a period (default 7 days)
// under the version and shows the flips.
func (s *Server) igImpact(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	since, err := impactSince(c)
	if err != nil {
		return err
	}
	rep, err := s.impactOf(c, w, routeOf(c).ID, since)
	if err != nil {
		return err
	}
	view := &impactView{ID: routeOf(c).ID, Since: humanPeriod(since), Report: rep, Flips: []flipsView{
		flipsOf("Allowed then, refused now", "Accesses that happened in the period and that this version would refuse.", rep.Refused),
		flipsOf("Refused then, allowed now", "Accesses that were refused in the period and that this version would allow.", rep.Allowed),
	}}
	for _, p := range []period{{"1h", "the last hour", false}, {"24h", "the last day", false}, {"168h", "the last 7 days", false}, {"720h", "the last 30 days", false}} {
		d, _ := time.ParseDuration(p.Value)
		p.Selected = d == since
		view.Periods = append(view.Periods, p)
	}
	s.render(c, http.StatusOK, "impact", "Impact preview of "+short(view.ID), view, nil)
	return nil
}

// humanPeriod says a period as people do: "7 days", "1 hour", or the
// duration.
func humanPeriod(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch day := 24 * time.Hour; {
	case d%day == 0:
		return plural(int64(d/day), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	}
	return d.String()
}

func flipsOf(title, explain string, f versions.Flips) flipsView {
	v := flipsView{Title: title, Explain: explain, Count: f.Count}
	for _, g := range []struct {
		by string
		m  map[string]*versions.Group
	}{{"rule", f.Rule}, {"organisation", f.Org}, {"role", f.Role}, {"purpose", f.Purpose}, {"record category", f.Category}} {
		set := groupSet{By: g.by}
		for k, grp := range g.m {
			set.Rows = append(set.Rows, groupRow{Key: cmp.Or(k, "(none)"), Count: grp.Count, Examples: grp.Examples})
		}
		slices.SortFunc(set.Rows, func(a, b groupRow) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Key, b.Key)) })
		v.Groups = append(v.Groups, set)
	}
	return v
}

// proposeView is the propose page's.
type proposeView struct {
	Parent  string
	Note    string
	Files   []fileView
	NewName string
	NewText string
}

// igProposeForm is a draft's form, filled with the active version's files.
func (s *Server) igProposeForm(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	vs, err := w.List(c.Request.Context())
	if err != nil {
		return err
	}
	view := &proposeView{}
	for _, v := range vs {
		if v.State == versions.Active {
			view.Parent, view.Files = v.ID, filesOf(v)
			trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+v.ID)
			break
		}
	}
	s.render(c, http.StatusOK, "propose", "Propose a change", view, nil)
	return nil
}

// igPropose stores a draft: the form's files (an emptied file is left
// out) or an uploaded bundle (the files part: data.json and *.rego).
func (s *Server) igPropose(c *gin.Context) error {
	w, err := s.policyWorkflow(c)
	if err != nil {
		return err
	}
	f, err := readForm(c, csrfFor(sessionToken(c)))
	if err != nil {
		return err
	}
	files, view, err := proposedFiles(f)
	if err == nil {
		err = checkNames(files)
	}
	if err == nil {
		var v *versions.Version
		if v, err = w.Propose(c.Request.Context(), person(accessOf(c)), files, view.Note); err == nil {
			trailOf(c).resources = appendNew(trailOf(c).resources, versions.ResourceType+"/"+v.ID)
			c.Redirect(http.StatusSeeOther, igPath+"/versions/"+url.PathEscape(v.ID)+"?done=propose")
			return nil
		}
		err = versionError(err)
	}
	fe := toFHIRError(err, requestID(c))
	if fe.Status >= 500 || !wantsHTML(c) {
		return err
	}
	s.render(c, fe.Status, "propose", "Propose a change", view, problemOf(fe))
	return nil
}

// proposedFiles reads a proposal's files from the form, and the form as
// it was sent (to show again with its problem).
func proposedFiles(f *form) (policy.Files, *proposeView, error) {
	files := policy.Files{}
	view := &proposeView{Parent: f.Get("parent"), Note: f.Get("note"), NewName: f.Get("new-name"), NewText: f.Get("new-text")}
	if len(f.files) > 0 {
		for _, fh := range f.files {
			r, err := fh.Open()
			if err != nil {
				return nil, view, fhir.Errorf(http.StatusBadRequest, "structure", "the uploaded files could not be read")
			}
			b, err := io.ReadAll(r)
			_ = r.Close()
			if err != nil {
				return nil, view, fhir.Errorf(http.StatusBadRequest, "structure", "the uploaded files could not be read")
			}
			files[path.Base(fh.Filename)] = b
		}
		return files, view, nil
	}
	// Browsers send a textarea's line ends as CRLF; the files have LF.
	text := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	names := make([]string, 0, len(f.Values))
	for k := range f.Values {
		if n, ok := strings.CutPrefix(k, "file:"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		t := text(f.Get("file:" + n))
		view.Files = append(view.Files, fileView{Name: n, Text: t})
		if strings.TrimSpace(t) != "" {
			files[n] = []byte(t)
		}
	}
	if n := strings.TrimSpace(view.NewName); n != "" {
		if _, ok := files[n]; ok {
			return nil, view, fhir.Errorf(http.StatusUnprocessableEntity, "invalid", "the new file %q has the name of a file above: edit that one instead", n)
		}
		files[n] = []byte(text(view.NewText))
	}
	// data.json first, as the form shows it.
	slices.SortStableFunc(view.Files, func(a, b fileView) int {
		return cmp.Compare(boolInt(b.Name == policy.DataFile), boolInt(a.Name == policy.DataFile))
	})
	return files, view, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

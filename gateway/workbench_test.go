package gateway_test

import (
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
)

// workbench is a gateway serving the policy versions of its database
// (seeded from policy/), with the IG workbench's development sign-in
// when dev is set.
type workbench struct {
	*env
	seed string
}

func newWorkbench(t *testing.T, dev bool) *workbench {
	t.Helper()
	base := openEngine(t, "")
	files, err := policy.ReadFiles("../policy")
	if err != nil {
		t.Fatal(err)
	}
	w := &versions.Workflow{Store: base.eng.Policies, Audit: base.eng.Audit}
	seed, err := w.Seed(t.Context(), files)
	if err != nil {
		t.Fatal(err)
	}
	l, err := versions.NewLoader(t.Context(), base.eng.Policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Policy = l
	cfg := gateway.Config{Policy: l, PolicyVersions: w}
	if dev {
		cfg.DevSignIn, cfg.DevAudience = loadDevKey(t), testAudience
	}
	return &workbench{env: base.serve(t, cfg, nil), seed: seed}
}

// browser is a person at a browser: cookies kept, redirects not followed
// (the tests look at them), HTML asked for.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (wb *workbench) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: wb.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(req *http.Request) *response {
	b.t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func (b *browser) get(path string) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.send(req)
}

func (b *browser) post(path string, form url.Values) *response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

var tags = regexp.MustCompile(`<[^>]*>`)

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token the page's forms carry.
func csrf(t *testing.T, r *response) string {
	t.Helper()
	m := csrfInput.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no CSRF token on the page (%d): %s", r.Status, r.Body)
	}
	return html.UnescapeString(string(m[1]))
}

// signIn signs in as one of the development sign-in's people.
func (b *browser) signIn(person string) {
	b.t.Helper()
	page := b.get("/ig/sign-in")
	r := b.post("/ig/sign-in/dev", url.Values{"csrf": {csrf(b.t, page)}, "person": {person}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/ig/" {
		b.t.Fatalf("sign in as %s: %d %s: %s", person, r.Status, r.Header.Get("Location"), r.Body)
	}
}

func mustPage(t *testing.T, r *response, status int, contains ...string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); status != http.StatusSeeOther && !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want a page", ct)
	}
	body := html.UnescapeString(tags.ReplaceAllString(string(r.Body), ""))
	for _, s := range contains {
		if !strings.Contains(body, s) {
			t.Errorf("the page (%d) does not say %q:\n%s", r.Status, s, body)
		}
	}
	return body
}

// audited returns the audit records of subject's interactions (refused
// ones only when refused is set) as JSON text, newest first.
func (wb *workbench) audited(t *testing.T, subject string, refused bool) []string {
	t.Helper()
	q := audit.Query{Subject: subject, Count: 100}
	if refused {
		no := false
		q.Allowed = &no
	}
	evs, _, err := wb.eng.Audit.Search(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		b, _ := json.Marshal(ev)
		out[i] = string(b)
	}
	return out
}

func containsOne(records []string, parts ...string) bool {
	for _, r := range records {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(r, p)
		}
		if all {
			return true
		}
	}
	return false
}

func TestWorkbenchIGLeadSeesVersionsGPIsRefused(t *testing.T) {
	wb := newWorkbench(t, true)
	anon := wb.browser(t)
	r := anon.get("/ig/")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/ig/sign-in") {
		t.Fatalf("without a session: %d %s", r.Status, r.Header.Get("Location"))
	}
	// Without HTML, the API's OperationOutcome.
	req, _ := http.NewRequest(http.MethodPost, wb.srv.URL+"/ig/sign-in/dev", strings.NewReader("person=ig-lead"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/fhir+json") {
		t.Errorf("a sign-in without its CSRF token: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}

	ig := wb.browser(t)
	ig.signIn("ig-lead")
	r = ig.get("/ig/")
	mustPage(t, r, http.StatusOK, wb.seed[:12], "enforced now", "Signed in as u-ig", "seeded from the policy directory")
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, ck := range ig.c.Jar.Cookies(mustURL(t, wb.srv.URL+"/ig/")) {
		if ck.Name == "ig_session" && ck.Value == "" {
			t.Error("empty session cookie")
		}
	}
	mustPage(t, ig.get("/ig/versions/"+wb.seed), http.StatusOK, "active", "Impact preview", "data.json", "governance.rego")
	if !containsOne(wb.audited(t, "u-ig", false), `"$policy-list"`) || !containsOne(wb.audited(t, "u-ig", false), `"$policy-read"`, "PolicyVersion/"+wb.seed) {
		t.Error("the IG lead's pages are not in the audit trail")
	}

	// A GP signs in with the same identities and the policy refuses them.
	gp := wb.browser(t)
	gp.signIn("gp")
	mustPage(t, gp.get("/ig/"), http.StatusForbidden, "Not allowed", "POLICY-10-manage")
	mustPage(t, gp.get("/ig/propose"), http.StatusForbidden, "POLICY-10-manage")
	if !containsOne(wb.audited(t, "u-gp", true), `"$policy-list"`) {
		t.Error("the GP's refusal is not in the audit trail")
	}

	// A token that no longer verifies is a 401 page, and the cookie goes.
	bad := wb.browser(t)
	bad.c.Jar.SetCookies(mustURL(t, wb.srv.URL+"/ig/"), []*http.Cookie{{Name: "ig_session", Value: "not.a.token", Path: "/ig"}})
	r = bad.get("/ig/")
	mustPage(t, r, http.StatusUnauthorized, "Please sign in", "Sign in again")
	if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "ig_session=;") {
		t.Errorf("the bad session is not cleared: %q", sc)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// proposeForm is the propose page's form with the care role class
// losing the medication category in data.json.
func proposeForm(t *testing.T, page *response, note string) url.Values {
	t.Helper()
	body := html.UnescapeString(string(page.Body))
	m := regexp.MustCompile(`(?s)name="file:data\.json"[^>]*>(.*?)</textarea>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no data.json on the propose page: %s", body)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("data.json on the page: %v", err)
	}
	care := d["dsa"].(map[string]any)["role_classes"].(map[string]any)["care"].(map[string]any)
	var cats []any
	for _, c := range care["categories"].([]any) {
		if c != "medication" {
			cats = append(cats, c)
		}
	}
	care["categories"] = cats
	b, _ := json.MarshalIndent(d, "", "  ")
	// Every file's textarea, as a browser sends them: CRLF line ends.
	form := url.Values{"csrf": {csrf(t, page)}, "note": {note}}
	for _, f := range regexp.MustCompile(`(?s)name="(file:[^"]+)"[^>]*>(.*?)</textarea>`).FindAllStringSubmatch(body, -1) {
		form.Set(f[1], strings.ReplaceAll(f[2], "\n", "\r\n"))
	}
	form.Set("file:data.json", strings.ReplaceAll(string(b), "\n", "\r\n"))
	return form
}

func TestWorkbenchTwoPeopleAndCSRF(t *testing.T) {
	wb := newWorkbench(t, true)
	people := loadPeople(t, wb.env)
	var medAdmin string
	for _, k := range []string{"01", "02", "03"} {
		if len(people[k].byType["MedicationAdministration"]) > 0 {
			medAdmin = "/" + people[k].first(t, "MedicationAdministration", nil)
			break
		}
	}
	carer := councilToken(t, "R1460", "TREAT")
	wb.mustStatus(wb.as(carer, "GET", medAdmin, ""), 200)

	ig, cg := wb.browser(t), wb.browser(t)
	ig.signIn("ig-lead")
	cg.signIn("caldicott")

	// Propose from the form, pre-filled with the active version.
	page := ig.get("/ig/propose")
	mustPage(t, page, http.StatusOK, "data.json", wb.seed[:12])
	form := proposeForm(t, page, "carers stop seeing medication")
	// A form without the session's CSRF token is refused, and stores nothing.
	noCSRF := url.Values{}
	for k, v := range form {
		if k != "csrf" {
			noCSRF[k] = v
		}
	}
	mustPage(t, ig.post("/ig/propose", noCSRF), http.StatusForbidden, "CSRF token")
	cg.get("/ig/")
	stolen := url.Values{}
	for k, v := range form {
		stolen[k] = v
	}
	stolen.Set("csrf", csrf(t, cg.get("/ig/"))) // another session's
	mustPage(t, ig.post("/ig/propose", stolen), http.StatusForbidden, "CSRF token")
	if strings.Contains(string(ig.get("/ig/").Body), "carers stop seeing medication") {
		t.Fatal("a form without its CSRF token stored a draft")
	}

	r := ig.post("/ig/propose", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("propose: %d %s", r.Status, r.Body)
	}
	loc := r.Header.Get("Location")
	id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/ig/versions/")
	vpath := "/ig/versions/" + id
	page = ig.get(loc)
	mustPage(t, page, http.StatusOK, "Your draft is stored", "draft", "carers stop seeing medication", `-          "medication",`)
	// The same again is a conflict, shown on the form.
	mustPage(t, ig.post("/ig/propose", proposeForm(t, ig.get("/ig/propose"), "again")), http.StatusConflict, "stored already")

	// CSRF on the buttons too.
	mustPage(t, ig.post(vpath+"/test", url.Values{}), http.StatusForbidden, "CSRF token")
	mustPage(t, ig.get(vpath), http.StatusOK, "Not tested yet")
	mustPage(t, ig.post(vpath+"/activate", url.Values{"csrf": {csrf(t, page)}}), http.StatusConflict, "Not possible now", "draft")
	r = ig.post(vpath+"/test", url.Values{"csrf": {csrf(t, page)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	page = ig.get(r.Header.Get("Location"))
	mustPage(t, page, http.StatusOK, "Tested: the checks passed", "Passed: overall coverage", "data.gateway.authz.")

	// The IG lead may not approve (the policy); the Caldicott Guardian
	// may.
	mustPage(t, ig.post(vpath+"/approve", url.Values{"csrf": {csrf(t, page)}, "note": {"mine"}}), http.StatusForbidden,
		"Not allowed", "POLICY-11-approve", "tested")
	cgPage := cg.get(vpath)
	r = cg.post(vpath+"/approve", url.Values{"csrf": {csrf(t, cgPage)}, "note": {"agreed at the IG board"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	mustPage(t, cg.get(r.Header.Get("Location")), http.StatusOK, "Approved", "agreed at the IG board", "u-cg")
	r = ig.post(vpath+"/activate", url.Values{"csrf": {csrf(t, page)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("activate: %d %s", r.Status, r.Body)
	}
	mustPage(t, ig.get("/ig/"), http.StatusOK, "enforced now")
	wb.mustStatus(wb.as(carer, "GET", medAdmin, ""), 403)

	// The impact of the seed (the old policy) now shows the carer's
	// refused read as allowed again.
	mustPage(t, ig.get("/ig/versions/"+wb.seed+"/impact?since=1h"), http.StatusOK, "Refused then, allowed now", "R1460", "medication")
	mustPage(t, ig.get("/ig/versions/"+wb.seed+"/impact?since=soon"), http.StatusBadRequest, "positive duration")

	// Roll back in one step.
	r = cg.post("/ig/versions/"+wb.seed+"/rollback", url.Values{"csrf": {csrf(t, cgPage)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("rollback: %d %s", r.Status, r.Body)
	}
	wb.mustStatus(wb.as(carer, "GET", medAdmin, ""), 200)
	for _, op := range []string{"$policy-propose", "$policy-test", "$policy-activate"} {
		if !containsOne(wb.audited(t, "u-ig", false), `"`+op+`"`) {
			t.Errorf("the IG lead's %s is not in the audit trail", op)
		}
	}
	if !containsOne(wb.audited(t, "u-ig", true), `"$policy-approve"`) || !containsOne(wb.audited(t, "u-cg", false), `"$policy-rollback"`) {
		t.Error("the refused approval or the rollback is not in the audit trail")
	}
}

func TestWorkbenchAuthorCannotApprove(t *testing.T) {
	wb := newWorkbench(t, true)
	cg := wb.browser(t)
	cg.signIn("caldicott")
	// Upload a bundle (multipart), as the API takes one.
	files, err := policy.ReadFiles("../policy")
	if err != nil {
		t.Fatal(err)
	}
	page := cg.get("/ig/propose")
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf(t, page))
	_ = mw.WriteField("note", "the Caldicott Guardian's own change")
	for n, b := range files {
		if n == policy.DataFile {
			b = []byte(strings.Replace(string(b), `agreement (fixture)"`, `agreement (fixture, uploaded)"`, 1))
		}
		fw, _ := mw.CreateFormFile("files", n)
		_, _ = fw.Write(b)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, wb.srv.URL+"/ig/propose", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r := cg.send(req)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	vpath := strings.Split(r.Header.Get("Location"), "?")[0]
	page = cg.get(vpath)
	mustPage(t, page, http.StatusOK, "the Caldicott Guardian's own change", `agreement (fixture, uploaded)"`)
	if r := cg.post(vpath+"/test", url.Values{"csrf": {csrf(t, page)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	mustPage(t, cg.post(vpath+"/approve", url.Values{"csrf": {csrf(t, page)}}), http.StatusForbidden,
		"you proposed this version, so you cannot approve it", "tested")
	if !containsOne(wb.audited(t, "u-cg", true), `"$policy-approve"`, "TWO-PERSON-approval") {
		t.Error("the author's refused approval is not audited with TWO-PERSON-approval")
	}

	// A bundle that is not a policy is shown on the form.
	page = cg.get("/ig/propose")
	body.Reset()
	mw = multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf(t, page))
	_ = mw.WriteField("note", "bad")
	fw, _ := mw.CreateFormFile("files", "notes.txt")
	_, _ = fw.Write([]byte("hello"))
	_ = mw.Close()
	req, _ = http.NewRequest(http.MethodPost, wb.srv.URL+"/ig/propose", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	mustPage(t, cg.send(req), http.StatusUnprocessableEntity, `file "notes.txt": a policy version holds data.json and *.rego files only`)
}

func TestWorkbenchDevSignInRefusedOutsideDevelopment(t *testing.T) {
	wb := newWorkbench(t, false)
	b := wb.browser(t)
	page := b.get("/ig/sign-in")
	body := mustPage(t, page, http.StatusOK, "The development sign-in is off", "Sign in with a token")
	if strings.Contains(body, "/ig/sign-in/dev") {
		t.Error("the sign-in page offers the development sign-in")
	}
	r := b.post("/ig/sign-in/dev", url.Values{"csrf": {csrf(t, page)}, "person": {"ig-lead"}})
	mustPage(t, r, http.StatusNotFound, "the development sign-in is off")
	if sc := r.Header.Get("Set-Cookie"); strings.Contains(sc, "ig_session=") {
		t.Errorf("a session cookie was set: %q", sc)
	}
	mustPage(t, b.post("/ig/sign-in", url.Values{"csrf": {csrf(t, page)}, "token": {"nonsense"}}), http.StatusUnauthorized, "Please sign in")

	// A pasted token (the identity provider's) works, and the cookie is
	// HttpOnly, SameSite=Strict, for /ig only.
	token := mint(t, devClaimsIG())
	r = b.post("/ig/sign-in", url.Values{"csrf": {csrf(t, page)}, "token": {token}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("token sign-in: %d %s", r.Status, r.Body)
	}
	sc := r.Header.Values("Set-Cookie")
	if !containsOne(sc, "ig_session=", "Path=/ig", "HttpOnly", "SameSite=Strict") || containsOne(sc, "ig_session=", "Secure") {
		t.Errorf("session cookie %q", sc)
	}
	mustPage(t, b.get("/ig/"), http.StatusOK, wb.seed[:12], "Signed in as u-ig")
	// Signing out needs the CSRF token too.
	mustPage(t, b.post("/ig/sign-out", url.Values{}), http.StatusForbidden, "CSRF token")
	if r := b.post("/ig/sign-out", url.Values{"csrf": {csrf(t, b.get("/ig/"))}}); r.Status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.Status)
	}
	if r := b.get("/ig/"); r.Status != http.StatusSeeOther {
		t.Errorf("after signing out: %d", r.Status)
	}
}

func devClaimsIG() auth.DevClaims {
	return auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-ig", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"}
}

// Behind an authenticating proxy (the organisation's OpenID Connect
// sign-in), the access token comes in the Authorization header of every
// request: the pages need no sign-in of their own, verify it as the API
// does, and check forms against it.
func TestWorkbenchBehindAnAuthenticatingProxy(t *testing.T) {
	wb := newWorkbench(t, false)
	b := wb.browser(t)
	as := func(token, method, path string, form url.Values) *response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, b.base+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return b.send(req)
	}
	ig := mint(t, devClaimsIG())
	page := as(ig, http.MethodGet, "/ig/", nil)
	mustPage(t, page, http.StatusOK, wb.seed[:12], "Signed in as u-ig")
	if sc := page.Header.Get("Set-Cookie"); strings.Contains(sc, "ig_session=") {
		t.Errorf("a session cookie was set for a proxied request: %q", sc)
	}
	vpath := "/ig/versions/" + wb.seed
	// A form with the token's CSRF value reaches the workflow (an active
	// version cannot go in shadow: 409); another value is refused.
	mustPage(t, as(ig, http.MethodPost, vpath+"/shadow", url.Values{"csrf": {csrf(t, page)}}), http.StatusConflict, "Not possible now")
	mustPage(t, as(ig, http.MethodPost, vpath+"/shadow", url.Values{"csrf": {"forged"}}), http.StatusForbidden, "CSRF token")
	// The policy decides as for the API: a GP is refused.
	gp := mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Subject: "u-gp", Org: "Y99001", Role: "R0260", Purpose: "TREAT"})
	mustPage(t, as(gp, http.MethodGet, "/ig/", nil), http.StatusForbidden, "POLICY-10-manage")
	mustPage(t, as("nonsense", http.MethodGet, "/ig/", nil), http.StatusUnauthorized, "Please sign in")
}

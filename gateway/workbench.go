package gateway

// The IG workbench: server-rendered pages at /ig/ for information
// governance leads and approvers, over the same workflow as the policy
// version API (policyapi.go). A page request runs as an API request does:
// its route is the API's (so its audit record names the same operation,
// e.g. $policy-approve), auditResponses holds the page until its audit
// record is written, the session cookie's token is verified by the same
// Authenticator and pins one policy version (admit), and the same policy
// decides (POLICY-10-manage, POLICY-11-approve). Errors become a page
// saying what went wrong, with the OperationOutcome's status; a client
// that does not accept text/html gets the OperationOutcome itself.
//
// The pages use no JavaScript: html/template pages and one stylesheet,
// embedded in the binary. Every POST form carries a CSRF token derived
// from the session's own token (csrfFor), checked before anything else;
// the cookie is also SameSite=Strict and HttpOnly.

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
)

//go:embed workbench/*.html workbench/workbench.css
var workbenchFS embed.FS

// DevTokens mints development tokens for the workbench's development
// sign-in (an *auth.DevKey).
type DevTokens interface {
	Mint(dc auth.DevClaims, ttl time.Duration) (string, error)
}

var _ DevTokens = (*auth.DevKey)(nil)

const (
	// igSessionCookie holds the signed-in person's bearer token.
	igSessionCookie = "ig_session"
	// igSignInCookie holds the random value the sign-in forms carry
	// (there is no session yet to derive a CSRF token from).
	igSignInCookie = "ig_signin"
	igPath         = "/ig"
	// igDevTokenTTL is how long a development sign-in lasts.
	igDevTokenTTL = 8 * time.Hour
	// csrfField is the form field of the CSRF token.
	csrfField = "csrf"
)

// demoPerson is someone the development sign-in offers.
type demoPerson struct {
	Key, Label string
	Claims     auth.DevClaims
}

// demoPeople are the development sign-in's people: the two the workbench
// is for, two it refuses (the policy decides, not this list), and the
// council data lead its case-file audit pages are for.
var demoPeople = []demoPerson{
	{"ig-lead", "Information governance lead (Synthetic Borough Council SYN01, role R0001)",
		auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-ig", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"}},
	{"caldicott", "Caldicott Guardian (SYN01, role R5105): approves policy versions",
		auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-cg", Org: "SYN01", Role: "R5105", Purpose: "HOPERAT"}},
	{"care-worker", "Council care worker (SYN01, role R1460): the policy refuses them the workbench",
		auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-carer", Org: "SYN01", Role: "R1460", Purpose: "TREAT"}},
	{"gp", "GP at the fixtures' practice (Y99001, role R0260): the policy refuses them the workbench",
		auth.DevClaims{Kind: auth.ShapeCIS2, Subject: "u-gp", Org: "Y99001", Role: "R0260", Purpose: "TREAT"}},
	{"data-lead", "Council data lead (SYN01, role R1330): runs data-quality reports and case-file audits (Case-file audit), not the policy",
		auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "u-data-lead", Org: "SYN01", Role: "R1330", Purpose: "TREAT"}},
}

// workbenchRoutes serves the workbench:
//
//	GET  /ig/                          the versions (as GET /policy/versions)
//	GET  /ig/versions/{id}             one version, its diff and its buttons
//	POST /ig/versions/{id}/{step}      test, approve, activate, rollback
//	GET  /ig/versions/{id}/impact      the impact preview (?since=168h)
//	GET  /ig/propose                   a draft's form, filled with the active version
//	POST /ig/propose                   the draft: the form's files or an uploaded bundle
//	GET  /ig/sign-in, POST /ig/sign-in (a token), POST /ig/sign-in/dev (development only), POST /ig/sign-out
func (s *Server) workbenchRoutes(e *gin.Engine) {
	base := func(c *gin.Context) { c.Set(igBaseKey, s.cfg.BaseURL); c.Next() }
	limits := []gin.HandlerFunc{base, withTimeout(s.cfg.RequestTimeout), limitBody(s.cfg.MaxBodyBytes)}
	e.GET(igPath, func(c *gin.Context) { c.Redirect(http.StatusSeeOther, igPath+"/") })
	e.GET(igPath+"/workbench.css", igStylesheet)
	// Signing in reads no record and decides nothing: not audited (as
	// the SMART token endpoint is not); every page after it is.
	e.GET(igPath+"/sign-in", base, s.igErrors, endpoint(s.igSignInPage))
	e.POST(igPath+"/sign-in", append(limits, s.igErrors, endpoint(s.igSignInToken))...)
	e.POST(igPath+"/sign-in/dev", append(limits, s.igErrors, endpoint(s.igSignInDev))...)
	e.POST(igPath+"/sign-out", append(limits, s.igErrors, endpoint(s.igSignOut))...)

	page := func(op string, h handler) []gin.HandlerFunc {
		return append([]gin.HandlerFunc{igRoute(op), igSession, s.auditResponses}, append(limits, s.igErrors, s.igAuthenticate, endpoint(h))...)
	}
	e.GET(igPath+"/", page("$policy-list", s.igVersions)...)
	e.GET(igPath+"/versions/:id", page("$policy-read", s.igVersion)...)
	e.GET(igPath+"/versions/:id/impact", page("$policy-impact", s.igImpact)...)
	e.POST(igPath+"/versions/:id/:step", page("", s.igStep)...)
	e.GET(igPath+"/propose", page("$policy-read", s.igProposeForm)...)
	e.POST(igPath+"/propose", page("$policy-propose", s.igPropose)...)
	// Explaining an audited decision and the agreement: the API's pages
	// (explain.go, agreement.go), decided and audited as those requests.
	routed := func(set gin.HandlerFunc, h handler) []gin.HandlerFunc {
		return append([]gin.HandlerFunc{set, igSession, s.auditResponses}, append(limits, s.igErrors, s.igAuthenticate, endpoint(h))...)
	}
	e.GET(igPath+"/explain", routed(igExplainRoute, s.igExplain)...)
	e.GET(igPath+"/agreement", routed(igAgreementRoute, s.igAgreement)...)
	s.caseFilePages(e, routed) // case-file audit (casefile_pages.go)
}

// igExplainRoute gives the explain page the route of
// GET /AuditEvent/{id}/$explain (the form alone: of the list of versions).
func igExplainRoute(c *gin.Context) {
	rt := &route{Type: "AuditEvent", name: "AuditEvent", ID: c.Query("audit"), Operation: opExplain, Interaction: "operation", shape: "/{type}/{id}/$op"}
	if rt.ID == "" {
		rt = &route{name: "policy", Interaction: "operation", Operation: "$policy-list", shape: "/policy/versions"}
	}
	c.Set(routeKey, rt)
	c.Next()
}

// igAgreementRoute gives the agreement page the route of GET /policy/agreement.
func igAgreementRoute(c *gin.Context) {
	c.Set(routeKey, &route{name: "policy", Interaction: "operation", Operation: "$policy-agreement", shape: "/policy/agreement"})
	c.Next()
}

// igExplain asks for an audit record's id, then shows its decisions
// explained (GET /AuditEvent/{id}/$explain as a page).
func (s *Server) igExplain(c *gin.Context) error {
	if c.Query("audit") == "" {
		if _, err := s.policyWorkflow(c); err != nil {
			return err
		}
		s.render(c, http.StatusOK, "explain", "Explain a decision", nil, nil)
		return nil
	}
	c.Request.Header.Set("Accept", "text/html")
	return s.auditExplain(c)
}

// igAgreement is the agreement in plain English (GET /policy/agreement as
// a page).
func (s *Server) igAgreement(c *gin.Context) error {
	c.Request.Header.Set("Accept", "text/html")
	return s.policyAgreement(c)
}

// igRoute gives a page the route of the API request it stands for, so
// that its audit record and log line describe it as that request; op ""
// takes the operation from the step in the path ($policy-test...).
func igRoute(op string) gin.HandlerFunc {
	return func(c *gin.Context) {
		rt := &route{name: "policy", Interaction: "operation", Operation: op, shape: "/policy/versions", ID: c.Param("id")}
		if rt.ID != "" {
			rt.shape = "/policy/versions/{id}"
		}
		if op == "" {
			rt.shape, rt.Operation = "/policy/versions/{id}/$op", "$policy-"+c.Param("step")
		}
		c.Set(routeKey, rt)
		c.Next()
	}
}

// igSession sends a browser without a session to the sign-in page; a
// request that carries no token asks for nothing, so it is not audited.
func igSession(c *gin.Context) {
	if sessionToken(c) != "" {
		c.Next()
		return
	}
	if c.Request.Method == http.MethodGet {
		c.Redirect(http.StatusSeeOther, igPath+"/sign-in?next="+url.QueryEscape(c.Request.URL.RequestURI()))
	} else {
		_ = c.Error(fhir.Errorf(http.StatusUnauthorized, "login", "sign in to the IG workbench first (%s/sign-in)", igPath))
		renderWorkbenchError(c, nil)
	}
	c.Abort()
}

// igAuthenticate verifies the session's token as the API verifies a
// bearer token (admit): same Authenticator, same policy pinning.
func (s *Server) igAuthenticate(c *gin.Context) {
	s.admit(c, sessionToken(c))
}

// igErrors renders a page's error as a page (inside auditResponses, so
// the audit record has the status the person saw). Clients that do not
// ask for HTML get the OperationOutcome.
func (s *Server) igErrors(c *gin.Context) {
	c.Next()
	renderWorkbenchError(c, s.logger)
}

func renderWorkbenchError(c *gin.Context, logger *slog.Logger) {
	if len(c.Errors) == 0 || !wantsHTML(c) {
		return
	}
	fe := toFHIRError(c.Errors.Last().Err, requestID(c))
	c.Errors = c.Errors[:0]
	if fe.Status >= 500 && logger != nil {
		logger.LogAttrs(c.Request.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.Int("status", fe.Status), slog.String("error", errorForLog(fe)))
	}
	if c.Writer.Written() {
		return
	}
	if fe.Status == http.StatusUnauthorized {
		clearCookie(c, igSessionCookie)
	}
	renderPage(c, fe.Status, "error", pageData{Title: problemTitle(fe.Status), Problem: problemOf(fe)})
}

// problem is an error as a page shows it.
type problem struct {
	Status  int
	Title   string
	Message string
	// Hint explains the refusing rule, when it is one the workbench knows.
	Hint string
}

func problemOf(fe *fhir.Error) *problem {
	msgs := make([]string, 0, len(fe.Issues))
	for _, i := range fe.Issues {
		msgs = append(msgs, i.Diagnostics)
	}
	if len(msgs) == 0 {
		msgs = append(msgs, http.StatusText(fe.Status))
	}
	p := &problem{Status: fe.Status, Title: problemTitle(fe.Status), Message: strings.Join(msgs, "; ")}
	for rule, hint := range ruleHints {
		if strings.Contains(p.Message, rule) {
			p.Hint = hint
		}
	}
	return p
}

// ruleHints say in plain words what the policy's refusals of the
// workbench mean.
var ruleHints = map[string]string{
	"POLICY-10-manage":  "The access policy lets only information governance leads and approvers of the council that hosts the shared record use the workbench.",
	"POLICY-11-approve": "The access policy lets only someone with the approver role (for example the Caldicott Guardian) approve a policy version. Ask them to approve it.",
}

func problemTitle(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Please sign in"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusNotFound:
		return "Not found"
	case http.StatusConflict:
		return "Not possible now"
	case http.StatusUnprocessableEntity:
		return "The policy version failed its checks"
	case http.StatusRequestEntityTooLarge:
		return "Too large"
	}
	if status >= 500 {
		return "The gateway could not do this"
	}
	return "Could not do this"
}

// pageData is what every page gets.
type pageData struct {
	Title string
	// Who is signed in (nil on the sign-in page).
	Who *auth.Identity
	// CSRF is the token every POST form carries.
	CSRF string
	// Notice says what just happened; Problem what went wrong.
	Notice  string
	Problem *problem
	Body    any
}

var workbenchPages = map[string]*template.Template{}

func init() {
	funcs := template.FuncMap{"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f) }}
	for _, name := range []string{"error", "sign-in", "versions", "version", "propose", "impact", "explain"} {
		workbenchPages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(workbenchFS, "workbench/layout.html", "workbench/"+name+".html"))
	}
}

// renderPage writes a page with the headers every page has: not cached,
// not framed, no scripts.
func renderPage(c *gin.Context, status int, name string, d pageData) {
	var b bytes.Buffer
	if err := workbenchPages[name].ExecuteTemplate(&b, "layout", d); err != nil {
		_ = c.Error(err)
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

func igStylesheet(c *gin.Context) {
	b, _ := workbenchFS.ReadFile("workbench/workbench.css")
	c.Header("Cache-Control", "max-age=300")
	c.Data(http.StatusOK, "text/css; charset=utf-8", b)
}

// csrfFor is the CSRF token of a session: an HMAC keyed by the session's
// own token, so it needs no server state, holds on every instance and
// cannot be made without the (HttpOnly) cookie.
func csrfFor(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("socialcare-fhir-gateway IG workbench CSRF v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sessionToken is the session cookie's token.
//
// A bearer token in the Authorization header comes first: an
// authenticating proxy in front of /ig/ (the organisation's OpenID Connect
// sign-in, e.g. oauth2-proxy with --set-authorization-header or
// --pass-authorization-header) puts the access token it obtained there on
// every request, and the pages then need no sign-in of their own. It is
// verified exactly as the cookie's, and forms are checked against it.
func sessionToken(c *gin.Context) string {
	if tok, err := auth.BearerToken(c.GetHeader("Authorization")); err == nil && tok != "" {
		return tok
	}
	ck, err := c.Request.Cookie(igSessionCookie)
	if err != nil {
		return ""
	}
	return ck.Value
}

// form is a POSTed form: its values, and its files when it was
// multipart.
type form struct {
	url.Values
	files []*multipart.FileHeader
}

// readForm reads a POSTed form (urlencoded or multipart) and checks its
// CSRF token against want: 403 when it is missing or wrong.
func readForm(c *gin.Context, want string) (*form, error) {
	body, err := readBody(c)
	if err != nil {
		return nil, err
	}
	f := &form{}
	mt, params, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		f.Values, err = url.ParseQuery(string(body))
	case "multipart/form-data":
		var mf *multipart.Form
		mf, err = multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(int64(len(body)) + 1<<20)
		if err == nil {
			f.Values, f.files = mf.Value, mf.File["files"]
		}
	default:
		return nil, fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "send the form as a browser does (application/x-www-form-urlencoded or multipart/form-data)")
	}
	if err != nil {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "the form could not be read")
	}
	got := f.Get(csrfField)
	if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return nil, fhir.Errorf(http.StatusForbidden, "forbidden", "the form's CSRF token is missing or does not belong to your session: reload the page and try again")
	}
	return f, nil
}

// setCookie sets a workbench cookie (maxAge -1 removes it): HttpOnly,
// SameSite=Strict, Path=/ig, Secure when served over TLS (or behind a base
// URL that is https).
func setCookie(c *gin.Context, name, value string, maxAge int) {
	secure := c.Request.TLS != nil
	if s, ok := c.Get(igBaseKey); ok {
		secure = secure || strings.HasPrefix(s.(string), "https://")
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: igPath, MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure})
}

func clearCookie(c *gin.Context, name string) { setCookie(c, name, "", -1) }

// igBaseKey holds the configured base URL for setCookie.
const igBaseKey = "gateway.ig.base"

// signInData is the sign-in page's.
type signInData struct {
	DevPeople []demoPerson // nil: no development sign-in
	Next      string
}

// igSignInPage offers the sign-ins: paste a token; in development mode,
// pick a demo person.
func (s *Server) igSignInPage(c *gin.Context) error {
	return s.renderSignIn(c, http.StatusOK, nil)
}

func (s *Server) renderSignIn(c *gin.Context, status int, p *problem) error {
	value := ""
	if ck, err := c.Request.Cookie(igSignInCookie); err == nil && len(ck.Value) >= 32 {
		value = ck.Value
	} else {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		value = base64.RawURLEncoding.EncodeToString(b)
		setCookie(c, igSignInCookie, value, 3600)
	}
	d := signInData{Next: safeNext(c.Query("next"))}
	if d.Next == "" {
		d.Next = safeNext(c.PostForm("next"))
	}
	if s.cfg.DevSignIn != nil {
		d.DevPeople = demoPeople
	}
	renderPage(c, status, "sign-in", pageData{Title: "Sign in", CSRF: value, Problem: p, Body: d})
	return nil
}

// safeNext keeps a page to return to only when it is a workbench page.
func safeNext(next string) string {
	if strings.HasPrefix(next, igPath+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return ""
}

// signInForm reads a sign-in form, checking the value of the sign-in
// cookie it carries.
func signInForm(c *gin.Context) (*form, error) {
	want := ""
	if ck, err := c.Request.Cookie(igSignInCookie); err == nil {
		want = ck.Value
	}
	return readForm(c, want)
}

// igSignInToken signs in with a pasted bearer token (from the
// organisation's identity provider), verified as the API verifies it.
func (s *Server) igSignInToken(c *gin.Context) error {
	f, err := signInForm(c)
	if err != nil {
		return s.signInProblem(c, err)
	}
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f.Get("token")), "Bearer "))
	if token == "" {
		return s.signInProblem(c, fhir.Errorf(http.StatusBadRequest, "required", "paste a bearer token"))
	}
	if _, err := s.cfg.Auth.Verify(c.Request.Context(), token); err != nil {
		return s.signInProblem(c, auth.Challenge(err, ""))
	}
	s.signedIn(c, token, 0, f.Get("next"))
	return nil
}

// igSignInDev signs in as a demo person with a development token.
// DEVELOPMENT ONLY: without DevSignIn (production mode) it is 404.
func (s *Server) igSignInDev(c *gin.Context) error {
	if s.cfg.DevSignIn == nil {
		return s.signInProblem(c, fhir.Errorf(http.StatusNotFound, "not-supported",
			"the development sign-in is off: this gateway does not run in development mode; sign in with a token from your organisation's identity provider"))
	}
	f, err := signInForm(c)
	if err != nil {
		return s.signInProblem(c, err)
	}
	for _, p := range demoPeople {
		if p.Key != f.Get("person") {
			continue
		}
		dc := p.Claims
		dc.Audience = s.cfg.DevAudience
		token, err := s.cfg.DevSignIn.Mint(dc, igDevTokenTTL)
		if err == nil {
			_, err = s.cfg.Auth.Verify(c.Request.Context(), token)
		}
		if err != nil {
			s.logger.Error("development sign-in failed", "request_id", requestID(c), "error", err.Error())
			return s.signInProblem(c, fhir.Errorf(http.StatusInternalServerError, "exception", "the development token could not be minted or is not trusted here"))
		}
		s.signedIn(c, token, int(igDevTokenTTL/time.Second), f.Get("next"))
		return nil
	}
	return s.signInProblem(c, fhir.Errorf(http.StatusBadRequest, "value", "choose one of the demo people"))
}

func (s *Server) signInProblem(c *gin.Context, err error) error {
	if !wantsHTML(c) {
		return err
	}
	fe := toFHIRError(err, requestID(c))
	return s.renderSignIn(c, fe.Status, problemOf(fe))
}

func (s *Server) signedIn(c *gin.Context, token string, maxAge int, next string) {
	setCookie(c, igSessionCookie, token, maxAge)
	clearCookie(c, igSignInCookie)
	if next = safeNext(next); next == "" {
		next = igPath + "/"
	}
	c.Redirect(http.StatusSeeOther, next)
}

// igSignOut forgets the session.
func (s *Server) igSignOut(c *gin.Context) error {
	if _, err := readForm(c, csrfFor(sessionToken(c))); err != nil && sessionToken(c) != "" {
		return err
	}
	clearCookie(c, igSessionCookie)
	c.Redirect(http.StatusSeeOther, igPath+"/sign-in")
	return nil
}

package gateway_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/casefile"
	"github.com/socialcare-fhir/gateway/fhir/validate"
)

var dataTask = regexp.MustCompile(`data-task="([^"]+)"`)

// reviewForm is the review form answering every choice question yes but
// plan-reviewed no, with a comment, as completeReview does in JSON.
func reviewForm(csrf string) url.Values {
	f := url.Values{"csrf": {csrf}, "status": {"completed"}, "q:comments": {"Review date passed\r\nin October."}}
	for _, it := range casefile.Default().Items {
		if it.Type == "choice" {
			f.Set("q:"+it.LinkID, casefile.AnswerYes)
		}
	}
	f.Set("q:plan-reviewed", casefile.AnswerNo)
	return f
}

// storedReview is the QuestionnaireResponse kept in a case file's Task,
// read through the API.
func storedReview(t *testing.T, e *env, task string) (string, map[string]any) {
	t.Helper()
	r := e.do(http.MethodGet, "/Task/"+task, "")
	e.mustStatus(r, http.StatusOK)
	if _, err := validate.Resource(r.Body); err != nil {
		t.Errorf("the reviewed Task is not valid R4: %v\n%s", err, r.Body)
	}
	var tk struct {
		Status    string
		Contained []map[string]any
	}
	if err := json.Unmarshal(r.Body, &tk); err != nil || len(tk.Contained) != 1 {
		t.Fatalf("the Task holds no review (%v): %s", err, r.Body)
	}
	return tk.Status, tk.Contained[0]
}

// A council data lead does the whole case-file audit in a browser: signs
// in, draws five case files from a form (the same people the API draws
// with the same seed), opens one from the sample's page, has an
// incomplete review refused with every problem listed and their answers
// kept, submits the review (stored as the QuestionnaireResponse the API
// would store), sees it counted in the results; every page is in the
// audit trail as the API request it stands for; forms without the
// session's CSRF token and people the policy refuses get nothing.
func TestCaseFileAuditPages(t *testing.T) {
	wb := newWorkbench(t, true)
	loadPeople(t, wb.env)
	wb.token = councilToken(t, "R1330", "TREAT")

	anon := wb.browser(t)
	if r := anon.get("/ig/case-files"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/ig/sign-in?next=%2Fig%2Fcase-files" {
		t.Fatalf("without a session: %d %s", r.Status, r.Header.Get("Location"))
	}

	lead := wb.browser(t)
	lead.signIn("data-lead")
	list := lead.get("/ig/case-files")
	mustPage(t, list, http.StatusOK, "Draw a sample", "No samples drawn yet", "Signed in as u-data-lead")
	form := url.Values{"csrf": {csrf(t, list)}, "size": {"5"}, "stratify-by": {"service"}, "seed": {"2026-q4"}}

	// A draw without the session's CSRF token, and a bad draw.
	if r := lead.post("/ig/case-files", url.Values{"size": {"5"}, "stratify-by": {"service"}}); r.Status != http.StatusForbidden {
		t.Fatalf("a draw without its CSRF token: %d", r.Status)
	}
	mustPage(t, lead.post("/ig/case-files", url.Values{"csrf": form["csrf"], "size": {"0"}, "stratify-by": {"age"}}), http.StatusBadRequest,
		"The sample could not be drawn", "size: a valueInteger from 1 to 500", "stratify-by: a valueCode, team or service")

	r := lead.post("/ig/case-files", form)
	loc := r.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, "/ig/case-files/")
	if r.Status != http.StatusSeeOther || !ok || !strings.HasSuffix(id, "?done=draw") {
		t.Fatalf("draw: %d %q: %s", r.Status, loc, r.Body)
	}
	id = strings.TrimSuffix(id, "?done=draw")
	page := lead.get(loc)
	mustPage(t, page, http.StatusOK, "The sample is drawn and stored", "2026-q4", "0 of 5")
	var tasks []string
	for _, m := range dataTask.FindAllSubmatch(page.Body, -1) {
		tasks = append(tasks, string(m[1]))
	}
	// The same case files as the API's own record of the sample, and the
	// same people as the API draws with the same seed.
	fromAPI := readSample(t, wb.do(http.MethodGet, "/$case-file-sample/"+id, ""))
	if len(tasks) != 5 || !slices.Equal(tasks, fromAPI.tasks) {
		t.Fatalf("the sample page lists %v, the sample holds %v", tasks, fromAPI.tasks)
	}
	redrawn := readSample(t, wb.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":5`, "stratify-by", `"valueCode":"service"`, "seed", `"valueString":"2026-q4"`)))
	if !slices.Equal(redrawn.people, fromAPI.people) {
		t.Fatalf("the form drew %v, the API with the same seed %v", fromAPI.people, redrawn.people)
	}
	mustPage(t, lead.get("/ig/case-files"), http.StatusOK, id[:12], "5 of 5 asked for")

	// The review page: the person, the checklist as a form, the record.
	task, patient := tasks[0], fromAPI.people[0]
	review := lead.get("/ig/case-file-review/" + task)
	mustPage(t, review, http.StatusOK, "Is there a current care and support plan on file?", "Submit the review", "The case file as you may read it", patient)
	for _, want := range []string{`name="q:plan-current" value="yes"`, `name="q:safeguarding-followed-up" value="not-applicable"`, `<textarea id="q-comments" name="q:comments"`} {
		if !strings.Contains(string(review.Body), want) {
			t.Errorf("the review form lacks %s", want)
		}
	}
	token := csrf(t, review)

	// Without the CSRF token: refused, nothing stored.
	noCSRF := reviewForm("")
	noCSRF.Del("csrf")
	mustPage(t, lead.post("/ig/case-file-review/"+task, noCSRF), http.StatusForbidden, "CSRF")

	// Incomplete and wrong: 422, every problem listed, the answers kept.
	bad := url.Values{"csrf": {token}, "status": {"completed"}, "q:plan-current": {"yes"}, "q:plan-reviewed": {"perhaps"}, "q:colour": {"blue"}}
	r = lead.post("/ig/case-file-review/"+task, bad)
	body := mustPage(t, r, http.StatusUnprocessableEntity, "The review was not stored",
		`question "plan-reviewed": the answer must be one of its options (yes, no, not-applicable`,
		`"colour" is not a question of`,
		`question "persons-views" (Are the person's own views and wishes recorded?) is required in a completed review`,
		`question "safeguarding-followed-up"`)
	if strings.Contains(body, `question "plan-current"`) {
		t.Error("a good answer is named as a problem")
	}
	if !regexp.MustCompile(`id="q-plan-current-yes" name="q:plan-current" value="yes" checked`).Match(r.Body) {
		t.Error("the answer given is not kept on the form")
	}
	if status, _ := storedTaskStatus(t, wb.env, task); status != "requested" {
		t.Fatalf("a refused review changed the Task: %s", status)
	}

	// Saved unfinished, then submitted.
	partial := url.Values{"csrf": {token}, "status": {"in-progress"}, "q:plan-current": {"no"}}
	r = lead.post("/ig/case-file-review/"+task, partial)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/ig/case-file-review/"+task+"?done=saved" {
		t.Fatalf("save unfinished: %d %s: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	if status, qr := storedReview(t, wb.env, task); status != "in-progress" || qr["status"] != "in-progress" {
		t.Fatalf("saved unfinished: Task %s, review %v", status, qr["status"])
	}
	r = lead.post("/ig/case-file-review/"+task, reviewForm(token))
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/ig/case-file-review/"+task+"?done=review" {
		t.Fatalf("submit: %d %s: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	shown := lead.get(r.Header.Get("Location"))
	mustPage(t, shown, http.StatusOK, "Your review is stored", "completed")
	if !strings.Contains(string(shown.Body), `value="no" checked`) || !strings.Contains(string(shown.Body), "Review date passed\nin October.</textarea>") {
		t.Error("the stored review is not shown on the form")
	}

	// Stored as the API stores the same answers sent as JSON.
	status, qr := storedReview(t, wb.env, task)
	wb.mustStatus(wb.do(http.MethodPost, "/$case-file-review/"+tasks[1], mustJSON(t, completeReview(casefile.ChecklistURL+"|1"))), http.StatusOK)
	_, viaAPI := storedReview(t, wb.env, tasks[1])
	want := casefile.Answers(viaAPI)
	want["comments"] = "Review date passed\nin October."
	if got := casefile.Answers(qr); status != "completed" || !maps.Equal(got, want) {
		t.Fatalf("the form stored %s %v, want completed %v", status, got, want)
	}
	author, _ := qr["author"].(map[string]any)
	if id, _ := author["identifier"].(map[string]any); qr["questionnaire"] != casefile.ChecklistURL+"|1" || qr["subject"].(map[string]any)["reference"] != patient || id["value"] != "u-data-lead" {
		t.Fatalf("the stored review: %v", qr)
	}

	// The results count both reviews.
	mustPage(t, lead.get("/ig/case-files/"+id), http.StatusOK, "2 of 5", "see the review")
	report := mustPage(t, lead.get("/ig/case-files/"+id+"/report"), http.StatusOK, "Case-file audit results", "2 of 5 case files reviewed")
	if !regexp.MustCompile(`Was the plan reviewed by its review date\? \(plan-reviewed\)\s*0\s*2\s*0`).MatchString(report) {
		t.Errorf("the results page does not count two noes for plan-reviewed:\n%s", report)
	}
	csvResp := lead.get("/ig/case-files/" + id + "/report?_format=csv")
	if csvResp.Status != http.StatusOK || !strings.HasPrefix(csvResp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csvResp.Body), "all,5,2,plan-reviewed") {
		t.Errorf("the CSV: %d %s\n%s", csvResp.Status, csvResp.Header.Get("Content-Type"), csvResp.Body)
	}

	// Audited as the API requests, under the person touched.
	audited := wb.audited(t, "u-data-lead", false)
	for _, parts := range [][]string{{`"$case-file-sample"`, "Task/" + id}, {`"$case-file-review"`, "Task/" + task, patient}} {
		if !containsOne(audited, parts...) {
			t.Errorf("no audit record with %v", parts)
		}
	}

	// The policy refuses a GP and an IG workbench page is no way round it.
	gp := wb.browser(t)
	gp.signIn("gp")
	mustPage(t, gp.get("/ig/case-files"), http.StatusForbidden, "Not allowed", "CASEAUDIT-13-case-file-audit")
	mustPage(t, gp.get("/ig/case-file-review/"+task), http.StatusNotFound, "no case file")
	if !containsOne(wb.audited(t, "u-gp", true), `"$case-file-sample"`) {
		t.Error("the GP's refusal is not in the audit trail")
	}
}

// storedTaskStatus is a Task's status as stored.
func storedTaskStatus(t *testing.T, e *env, task string) (string, map[string]any) {
	t.Helper()
	r := e.do(http.MethodGet, "/Task/"+task, "")
	e.mustStatus(r, http.StatusOK)
	m := r.json(t)
	s, _ := m["status"].(string)
	return s, m
}

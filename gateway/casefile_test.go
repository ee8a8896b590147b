package gateway_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/casefile"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/gateway"
)

// drawn is a sample as GET /$case-file-sample/{id} answers it.
type drawn struct {
	id, seed string
	// people are the case files' patients in order, strata theirs, tasks
	// their Tasks' ids.
	people, strata, tasks []string
	population            int
}

func sampleParams(params ...string) string {
	var ps []string
	for i := 0; i+1 < len(params); i += 2 {
		ps = append(ps, params[i])
		ps[len(ps)-1] = `{"name":"` + params[i] + `",` + params[i+1] + `}`
	}
	return `{"resourceType":"Parameters","parameter":[` + strings.Join(ps, ",") + `]}`
}

// readSample reads a sample Bundle: the sample's Task, then the case
// files' Tasks. Each stored Task is valid R4.
func readSample(t *testing.T, r *response) drawn {
	t.Helper()
	var b struct {
		Entry []struct{ Resource json.RawMessage }
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || len(b.Entry) == 0 {
		t.Fatalf("not a sample Bundle (%v): %s", err, r.Body)
	}
	type task struct {
		ID    string
		Code  struct{ Coding []struct{ Code string } }
		For   struct{ Reference string }
		Input []struct {
			Type         struct{ Coding []struct{ Code string } }
			ValueString  string
			ValueInteger int
		}
	}
	var d drawn
	for i, e := range b.Entry {
		if _, err := validate.Resource(e.Resource); err != nil {
			t.Errorf("entry %d is not valid R4: %v\n%s", i, err, e.Resource)
		}
		var tk task
		if err := json.Unmarshal(e.Resource, &tk); err != nil {
			t.Fatal(err)
		}
		input := func(code string) (string, int) {
			for _, in := range tk.Input {
				if in.Type.Coding[0].Code == code {
					return in.ValueString, in.ValueInteger
				}
			}
			return "", -1
		}
		if i == 0 {
			if tk.Code.Coding[0].Code != "case-file-sample" {
				t.Fatalf("first entry is not the sample: %s", e.Resource)
			}
			d.id = tk.ID
			d.seed, _ = input("seed")
			_, d.population = input("population")
			continue
		}
		if tk.Code.Coding[0].Code != "case-file-review" {
			t.Fatalf("entry %d is not a case file: %s", i, e.Resource)
		}
		st, _ := input("stratum")
		d.people, d.strata, d.tasks = append(d.people, tk.For.Reference), append(d.strata, st), append(d.tasks, tk.ID)
	}
	return d
}

// serviceStrata is each fixture person's stratum by service, read from
// their translated care package lines (the first CLD service type by
// name of an active line).
func serviceStrata(people map[string]*person) map[string]string {
	out := map[string]string{}
	for _, p := range people {
		var types []string
		for _, sr := range p.byType["ServiceRequest"] {
			if sr.Object["status"] != "active" {
				continue
			}
			for _, cat := range sr.Object["category"].([]any) {
				for _, cd := range cat.(map[string]any)["coding"].([]any) {
					if m := cd.(map[string]any); strings.HasSuffix(m["system"].(string), "/cld-service-type") {
						types = append(types, m["code"].(string))
					}
				}
			}
		}
		out[p.patient] = "(no service)"
		if len(types) > 0 {
			out[p.patient] = slices.Min(types)
		}
	}
	return out
}

// A data lead draws five case files stratified by service: the same seed
// draws the same people again, every stratum of the population has at
// least one, each person is in their own stratum; without a seed one is
// chosen and recorded; the draw's parameters are checked, every problem
// named.
func TestCaseFileSampleIsReproducibleAndStratified(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	want := serviceStrata(people)

	draw := sampleParams("size", `"valueInteger":5`, "stratify-by", `"valueCode":"service"`, "seed", `"valueString":"2026-q4"`)
	r := e.do(http.MethodPost, "/$case-file-sample", draw)
	e.mustStatus(r, http.StatusCreated)
	first := readSample(t, r)
	if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/$case-file-sample/"+first.id) {
		t.Errorf("Location %q", loc)
	}
	r = e.do(http.MethodPost, "/$case-file-sample", draw)
	e.mustStatus(r, http.StatusCreated)
	second := readSample(t, r)
	if first.id == second.id || !slices.Equal(first.people, second.people) || len(first.people) != 5 {
		t.Fatalf("the same seed drew\n %v\nthen\n %v", first.people, second.people)
	}
	if first.seed != "2026-q4" {
		t.Errorf("seed recorded as %q", first.seed)
	}
	// Strata: every one in the population has a case file drawn, and each
	// person is drawn in their own.
	population := map[string]bool{}
	for _, st := range want {
		population[st] = true
	}
	for i, p := range first.people {
		if first.strata[i] != want[p] {
			t.Errorf("%s drawn in stratum %q, their service is %q", p, first.strata[i], want[p])
		}
	}
	for st := range population {
		if !slices.Contains(first.strata, st) {
			t.Errorf("stratum %q has nobody in the sample %v", st, first.strata)
		}
	}
	if len(population) < 3 {
		t.Fatalf("the fixtures give %d strata: the test needs several", len(population))
	}
	// Read back as stored.
	again := readSample(t, e.do(http.MethodGet, "/$case-file-sample/"+first.id, ""))
	if !slices.Equal(again.people, first.people) {
		t.Fatalf("read back %v, drawn %v", again.people, first.people)
	}

	// Without a seed the gateway picks one, and it redraws the sample.
	r = e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":5`, "stratify-by", `"valueCode":"service"`))
	e.mustStatus(r, http.StatusCreated)
	chosen := readSample(t, r)
	if len(chosen.seed) < 16 {
		t.Fatalf("no seed chosen: %q", chosen.seed)
	}
	redrawn := readSample(t, e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":5`, "stratify-by", `"valueCode":"service"`, "seed", `"valueString":"`+chosen.seed+`"`)))
	if !slices.Equal(redrawn.people, chosen.people) {
		t.Fatalf("the returned seed redrew %v, not %v", redrawn.people, chosen.people)
	}

	// A bad draw is refused whole, each problem named.
	r = e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":0`, "stratify-by", `"valueCode":"age"`, "colour", `"valueString":"blue"`,
		"questionnaire", `"resource":{"resourceType":"Questionnaire","status":"active","item":[]}`))
	e.mustStatus(r, http.StatusBadRequest)
	var where []string
	for _, is := range outcome(t, r) {
		where = append(where, is["expression"].([]any)[0].(string))
	}
	for _, w := range []string{"size", "stratify-by", "parameter[2]", "Questionnaire.url", "Questionnaire.version", "Questionnaire.item"} {
		if !slices.Contains(where, w) {
			t.Errorf("no problem named at %s: %v", w, where)
		}
	}
}

// Stratified by team (the person's active CareTeam), with a team filter:
// only that team's people are drawn.
func TestCaseFileSampleByTeam(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	north := []string{people["01"].patient, people["03"].patient, people["04"].patient}
	for _, p := range []string{people["01"].patient, people["03"].patient, people["04"].patient, people["07"].patient, people["13"].patient} {
		team := "South locality team"
		if slices.Contains(north, p) {
			team = "North locality team"
		}
		e.mustStatus(e.do(http.MethodPost, "/CareTeam", `{"resourceType":"CareTeam","status":"active","name":"`+team+`","subject":{"reference":"`+p+`"}}`), http.StatusCreated)
	}
	r := e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":10`, "stratify-by", `"valueCode":"team"`, "team", `"valueString":"North locality team"`))
	e.mustStatus(r, http.StatusCreated)
	d := readSample(t, r)
	got := slices.Sorted(slices.Values(d.people))
	if !slices.Equal(got, slices.Sorted(slices.Values(north))) || d.population != 3 {
		t.Fatalf("the North team's sample is %v (population %d), want %v", got, d.population, north)
	}
	for _, st := range d.strata {
		if st != "North locality team" {
			t.Fatalf("stratum %q", st)
		}
	}
	// Without the filter, both teams and the people with none are strata.
	d = readSample(t, e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":3`, "stratify-by", `"valueCode":"team"`, "seed", `"valueString":"t"`)))
	if got := slices.Sorted(slices.Values(d.strata)); !slices.Equal(got, []string{"(no team)", "North locality team", "South locality team"}) {
		t.Fatalf("strata %v", got)
	}
}

func completeReview(questionnaire string) map[string]any {
	var items []any
	for _, it := range casefile.Default().Items {
		code := casefile.AnswerYes
		if it.LinkID == "plan-reviewed" {
			code = casefile.AnswerNo
		}
		if it.Type == "choice" {
			items = append(items, map[string]any{"linkId": it.LinkID, "answer": []any{map[string]any{"valueCoding": map[string]any{"system": casefile.AnswerSystem, "code": code}}}})
		}
	}
	items = append(items, map[string]any{"linkId": "comments", "answer": []any{map[string]any{"valueString": "Review date passed in October."}}})
	return map[string]any{"resourceType": "QuestionnaireResponse", "questionnaire": questionnaire, "status": "completed", "item": items}
}

// The data lead's whole audit: draw five case files, open one with its
// checklist, have a bad review refused naming every problem, record a
// complete review, and read the results as JSON, CSV and a page; each
// step is in the audit trail under the person it touched.
func TestCaseFileReviewAndReport(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy"), Clock: func() time.Time { return qualityNow }})
	loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	r := e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":5`, "stratify-by", `"valueCode":"service"`, "seed", `"valueString":"j5"`))
	e.mustStatus(r, http.StatusCreated)
	d := readSample(t, r)
	task, patient := d.tasks[0], d.people[0]

	// The case file with its checklist: the Questionnaire, the Task, then
	// the person's record as the reviewer may read it.
	r = e.do(http.MethodGet, "/$case-file-review/"+task, "")
	e.mustStatus(r, http.StatusOK)
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType, ID, URL string
			}
		}
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || len(b.Entry) < 3 {
		t.Fatalf("review bundle: %v %s", err, r.Body)
	}
	if b.Entry[0].Resource.ResourceType != "Questionnaire" || b.Entry[0].Resource.URL != casefile.ChecklistURL ||
		b.Entry[1].Resource.ID != task || "Patient/"+b.Entry[2].Resource.ID != patient {
		t.Fatalf("review bundle starts %+v", b.Entry[:3])
	}
	page := e.do(http.MethodGet, "/$case-file-review/"+task+"?_format=html", "")
	e.mustStatus(page, http.StatusOK)
	for _, want := range []string{"plan-current", "safeguarding-followed-up", casefile.ChecklistURL} {
		if !strings.Contains(string(page.Body), want) {
			t.Errorf("the review page lacks %q", want)
		}
	}

	// A bad review is refused whole, every problem named, nothing stored.
	bad := completeReview("https://example.org/Questionnaire/other")
	bad["status"] = "amended"
	items := bad["item"].([]any)
	items[0] = map[string]any{"linkId": "plan-current", "answer": []any{map[string]any{"valueBoolean": true}}}
	items[1] = map[string]any{"linkId": "plan-current", "answer": []any{map[string]any{"valueCoding": map[string]any{"system": casefile.AnswerSystem, "code": "perhaps"}}}}
	r = e.do(http.MethodPost, "/$case-file-review/"+task, mustJSON(t, bad))
	e.mustStatus(r, http.StatusUnprocessableEntity)
	var where []string
	for _, is := range outcome(t, r) {
		where = append(where, is["expression"].([]any)[0].(string))
	}
	wantWhere := []string{"QuestionnaireResponse.questionnaire", "QuestionnaireResponse.status", "QuestionnaireResponse.item[0].answer[0]",
		"QuestionnaireResponse.item[1].linkId"}
	if !slices.Equal(where, wantWhere) {
		t.Fatalf("problems at %v, want %v", where, wantWhere)
	}
	if rep := reportOf(t, e, d.id); rep.completed != 0 {
		t.Fatal("a refused review was counted")
	}

	// A complete review.
	r = e.do(http.MethodPost, "/$case-file-review/"+task, mustJSON(t, completeReview(casefile.ChecklistURL+"|1")))
	e.mustStatus(r, http.StatusOK)
	if _, err := validate.Resource(r.Body); err != nil {
		t.Errorf("the reviewed Task is not valid R4: %v\n%s", err, r.Body)
	}
	var reviewed struct {
		Status    string
		Contained []struct {
			ResourceType string
			Subject      struct{ Reference string }
			Authored     string
			Author       struct{ Identifier struct{ Value string } }
		}
	}
	_ = json.Unmarshal(r.Body, &reviewed)
	if reviewed.Status != "completed" || len(reviewed.Contained) != 1 || reviewed.Contained[0].ResourceType != "QuestionnaireResponse" ||
		reviewed.Contained[0].Subject.Reference != patient || reviewed.Contained[0].Author.Identifier.Value != "test-user" ||
		!strings.HasPrefix(reviewed.Contained[0].Authored, "2026-12-01") {
		t.Fatalf("the reviewed Task: %s", r.Body)
	}

	// The report counts it, overall and in its stratum.
	rep := reportOf(t, e, d.id)
	if rep.sampled != 5 || rep.completed != 1 || rep.counts["plan-current/yes"] != 1 || rep.counts["plan-reviewed/no"] != 1 ||
		rep.counts["comments/answered"] != 1 || rep.counts["plan-current/no"] != 0 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.strata[d.strata[0]] != 1 {
		t.Fatalf("stratum %q completed %d, want 1 (%v)", d.strata[0], rep.strata[d.strata[0]], rep.strata)
	}
	r = e.do(http.MethodGet, "/$case-file-sample/"+d.id+"/$report?_format=csv", "")
	e.mustStatus(r, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rows, func(row []string) bool {
		return slices.Equal(row, []string{"all", "5", "1", "plan-reviewed", "Was the plan reviewed by its review date?", "no", "1"})
	}) {
		t.Fatalf("CSV lacks the plan-reviewed count: %v", rows)
	}
	r = e.do(http.MethodGet, "/$case-file-sample/"+d.id+"/$report?_format=html", "")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(string(r.Body), "1 of 5 case files reviewed") {
		t.Fatalf("report page: %s", r.Body)
	}

	r = e.do(http.MethodGet, "/$case-file-sample/"+d.id, "")
	if st := asSlice(r.json(t)["entry"])[0].(map[string]any)["resource"].(map[string]any)["status"]; st != "in-progress" {
		t.Fatalf("the sample is %v with four case files to review", st)
	}
	// The other four reviewed, the sample is completed.
	for _, tk := range d.tasks[1:] {
		e.mustStatus(e.do(http.MethodPost, "/$case-file-review/"+tk, mustJSON(t, completeReview(casefile.ChecklistURL))), http.StatusOK)
	}
	if rep := reportOf(t, e, d.id); rep.completed != 5 || rep.counts["plan-current/yes"] != 5 {
		t.Fatalf("all reviewed: %+v", rep)
	}
	r = e.do(http.MethodGet, "/$case-file-sample/"+d.id, "")
	e.mustStatus(r, http.StatusOK)
	var statuses []string
	for _, en := range asSlice(r.json(t)["entry"]) {
		statuses = append(statuses, en.(map[string]any)["resource"].(map[string]any)["status"].(string))
	}
	if !slices.Equal(statuses, []string{"completed", "completed", "completed", "completed", "completed", "completed"}) {
		t.Fatalf("the sample and its five case files: %v", statuses)
	}
	// A review saved unfinished again reopens the sample.
	unfinished := completeReview(casefile.ChecklistURL)
	unfinished["status"], unfinished["item"] = "in-progress", unfinished["item"].([]any)[:2]
	e.mustStatus(e.do(http.MethodPost, "/$case-file-review/"+d.tasks[1], mustJSON(t, unfinished)), http.StatusOK)
	r = e.do(http.MethodGet, "/$case-file-sample/"+d.id, "")
	if st := asSlice(r.json(t)["entry"])[0].(map[string]any)["resource"].(map[string]any)["status"]; st != "in-progress" {
		t.Fatalf("the sample is %v with a review unfinished", st)
	}
	if rep := reportOf(t, e, d.id); rep.completed != 4 || rep.counts["plan-current/yes"] != 4 {
		t.Fatalf("an unfinished review counted: %+v", rep)
	}
	// The organisation's samples are listed.
	r = e.do(http.MethodGet, "/$case-file-sample", "")
	e.mustStatus(r, http.StatusOK)
	if ids, _ := entries(t, r); !slices.Equal(ids, []string{"Task/" + d.id}) {
		t.Fatalf("samples listed: %v", ids)
	}

	// The audit trail names the person for the draw, the review's reading
	// and its answer.
	ig := councilToken(t, "R5105", "HOPERAT")
	r = e.do(http.MethodGet, "/AuditEvent?patient="+patient+"&_count=100", "", "Authorization", "Bearer "+ig)
	e.mustStatus(r, http.StatusOK)
	var events struct {
		Entry []struct{ Resource map[string]any }
	}
	_ = json.Unmarshal(r.Body, &events)
	var ops []string
	for _, ev := range events.Entry {
		s := mustJSON(t, ev.Resource)
		for _, op := range []string{"$case-file-sample", "$case-file-review"} {
			if strings.Contains(s, op) {
				ops = append(ops, op)
			}
		}
	}
	// Reading the review twice (JSON and page), the refused and the
	// recorded answer; the draw, the sample's readings and the reports.
	reviews := 0
	for _, op := range ops {
		if op == "$case-file-review" {
			reviews++
		}
	}
	if reviews != 4 || !slices.Contains(ops, "$case-file-sample") {
		t.Fatalf("the person's audit trail names %v", ops)
	}
}

type caseFileReport struct {
	sampled, completed int
	counts             map[string]int // linkId/code -> count, overall
	strata             map[string]int // name -> completed
}

func reportOf(t *testing.T, e *env, sample string) caseFileReport {
	t.Helper()
	r := e.do(http.MethodGet, "/$case-file-sample/"+sample+"/$report", "")
	e.mustStatus(r, http.StatusOK)
	type part struct {
		Name         string
		ValueString  string
		ValueCode    string
		ValueInteger int
		Part         []part
	}
	var p struct{ Parameter []part }
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatal(err)
	}
	rep := caseFileReport{counts: map[string]int{}, strata: map[string]int{}}
	for _, prm := range p.Parameter {
		switch prm.Name {
		case "sampled":
			rep.sampled = prm.ValueInteger
		case "completed":
			rep.completed = prm.ValueInteger
		case "question":
			link := ""
			for _, q := range prm.Part {
				switch q.Name {
				case "linkId":
					link = q.ValueString
				case "answer":
					rep.counts[link+"/"+q.Part[0].ValueCode] = q.Part[1].ValueInteger
				}
			}
		case "stratum":
			name, done := "", 0
			for _, q := range prm.Part {
				switch q.Name {
				case "name":
					name = q.ValueString
				case "completed":
					done = q.ValueInteger
				}
			}
			rep.strata[name] = done
		}
	}
	return rep
}

// Only the council's quality staff audit case files: a care worker, a GP
// and another organisation are refused (403), or told another
// organisation's sample does not exist (404); each refusal is audited.
func TestCaseFileAuditRefused(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	d := readSample(t, e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":2`, "stratify-by", `"valueCode":"service"`)))
	review := mustJSON(t, completeReview(casefile.ChecklistURL))
	carer := councilToken(t, "R1460", "TREAT")
	gp := gpToken(t, "R0260", "TREAT")
	for _, tc := range []struct{ who, token string }{{"care worker", carer}, {"GP", gp}} {
		before := e.auditEvents()
		for _, rq := range []struct{ method, path, body string }{
			{http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":2`, "stratify-by", `"valueCode":"service"`)},
			{http.MethodGet, "/$case-file-sample/" + d.id, ""},
			{http.MethodGet, "/$case-file-sample/" + d.id + "/$report", ""},
			{http.MethodGet, "/$case-file-review/" + d.tasks[0], ""},
			{http.MethodPost, "/$case-file-review/" + d.tasks[0], review},
			{http.MethodGet, "/$case-file-checklist", ""},
		} {
			r := e.do(rq.method, rq.path, rq.body, "Authorization", "Bearer "+tc.token)
			if r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
				t.Errorf("%s: %s %s: %d, want 403 or 404", tc.who, rq.method, rq.path, r.Status)
			}
			if rq.method == http.MethodPost && strings.HasPrefix(rq.path, "/$case-file-sample") && r.Status != http.StatusForbidden {
				t.Errorf("%s may not draw: %d", tc.who, r.Status)
			}
		}
		if n := e.auditEvents() - before; n != 6 {
			t.Errorf("%s: %d audit records for 6 refusals", tc.who, n)
		}
	}
	// The care worker's organisation is the sample's, and is refused by
	// the policy; another council's data lead does not see the sample.
	r := e.do(http.MethodGet, "/$case-file-sample/"+d.id, "", "Authorization", "Bearer "+carer)
	e.mustStatus(r, http.StatusForbidden)
	if !strings.Contains(string(r.Body), "CASEAUDIT-13-case-file-audit") {
		t.Errorf("the refusal names no rule: %s", r.Body)
	}
	other := mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "LA001", Role: "R1330", Purpose: "TREAT"})
	for _, path := range []string{"/$case-file-sample/" + d.id, "/$case-file-sample/" + d.id + "/$report", "/$case-file-review/" + d.tasks[0]} {
		e.mustStatus(e.do(http.MethodGet, path, "", "Authorization", "Bearer "+other), http.StatusNotFound)
	}
	r = e.do(http.MethodGet, "/$case-file-sample", "", "Authorization", "Bearer "+other)
	e.mustStatus(r, http.StatusOK)
	if ids, _ := entries(t, r); len(ids) != 0 {
		t.Fatalf("another council lists %v", ids)
	}
	// The reviewer's role may review: the checklist is theirs to read.
	e.mustStatus(e.do(http.MethodGet, "/$case-file-checklist", ""), http.StatusOK)
	// The review still stands unanswered.
	if rep := reportOf(t, e, d.id); rep.completed != 0 || rep.sampled != 2 {
		t.Fatalf("after refusals: %+v", rep)
	}
}

// A council audits with its own checklist: the draw carries it, reviews
// are checked against it (not the shipped one) and the report counts its
// questions.
func TestCaseFileAuditWithTheCouncilsChecklist(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	loadPeople(t, e)
	e.token = councilToken(t, "R1330", "TREAT")
	own := `{"resourceType":"Questionnaire","url":"https://council.example.org/Questionnaire/short-audit","version":"2026.1","status":"active",
	 "meta":{"versionId":"7"},"title":"Short audit",
	 "item":[{"linkId":"carer-assessed","text":"Was the unpaid carer offered an assessment?","type":"boolean","required":true},
	         {"linkId":"note","text":"Note","type":"string"}]}`
	r := e.do(http.MethodPost, "/$case-file-sample", sampleParams("size", `"valueInteger":2`, "stratify-by", `"valueCode":"service"`, "questionnaire", `"resource":`+own))
	e.mustStatus(r, http.StatusCreated)
	d := readSample(t, r) // every Task valid R4, the contained checklist too
	canonical := "https://council.example.org/Questionnaire/short-audit|2026.1"

	r = e.do(http.MethodGet, "/$case-file-review/"+d.tasks[0], "")
	e.mustStatus(r, http.StatusOK)
	if !strings.Contains(string(r.Body), "carer-assessed") || strings.Contains(string(r.Body), "plan-current") {
		t.Fatalf("the review does not show the council's checklist: %.400s", r.Body)
	}
	// The shipped checklist's answers do not fit it.
	r = e.do(http.MethodPost, "/$case-file-review/"+d.tasks[0], mustJSON(t, completeReview(casefile.ChecklistURL)))
	e.mustStatus(r, http.StatusUnprocessableEntity)
	if !strings.Contains(string(r.Body), canonical) {
		t.Fatalf("the refusal does not name the sample's checklist: %s", r.Body)
	}
	mine := `{"resourceType":"QuestionnaireResponse","questionnaire":"` + canonical + `","status":"completed",
	 "item":[{"linkId":"carer-assessed","answer":[{"valueBoolean":true}]}]}`
	e.mustStatus(e.do(http.MethodPost, "/$case-file-review/"+d.tasks[0], mine), http.StatusOK)
	rep := reportOf(t, e, d.id)
	if rep.completed != 1 || rep.counts["carer-assessed/true"] != 1 {
		t.Fatalf("report: %+v", rep)
	}
}

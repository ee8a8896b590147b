package casefile

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// responseElements are the QuestionnaireResponse elements a review may
// carry (FHIR R4); anything else is refused as unknown.
var responseElements = []string{"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension",
	"modifierExtension", "identifier", "basedOn", "partOf", "questionnaire", "status", "subject", "encounter", "authored",
	"author", "source", "item"}

// itemElements and answerElements are those of an item and an answer.
var (
	itemElements   = []string{"id", "extension", "modifierExtension", "linkId", "definition", "text", "answer", "item"}
	answerElements = []string{"id", "extension", "modifierExtension", "item"}
)

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ReviewStatuses are the QuestionnaireResponse statuses a review is
// accepted with: in-progress (saved, not all answered yet) or completed
// (every required question answered).
var ReviewStatuses = []string{"in-progress", "completed"}

// ValidateResponse checks a QuestionnaireResponse against the checklist
// and names every problem: it must be a QuestionnaireResponse for the
// checklist (questionnaire is its url or url|version), with status in
// ReviewStatuses, subject (when present) the patient, only known elements,
// items that are questions of the checklist, each once, with one answer
// of the question's type (a choice's coding one of its options); a
// completed review answers every required question.
func ValidateResponse(c *Checklist, obj map[string]any, patient string) []fhir.Issue {
	var issues []fhir.Issue
	bad := func(code, path, format string, args ...any) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: code, Diagnostics: fmt.Sprintf(format, args...), Expression: []string{path}})
	}
	if obj["resourceType"] != "QuestionnaireResponse" {
		bad("invalid", "resourceType", "a review is a QuestionnaireResponse resource")
		return issues
	}
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(responseElements, k) {
			bad("structure", "QuestionnaireResponse."+k, "%s is not an element of QuestionnaireResponse", k)
		}
	}
	if q, _ := obj["questionnaire"].(string); q != c.URL && q != c.Canonical() {
		bad("invalid", "QuestionnaireResponse.questionnaire", "questionnaire must be the sample's checklist, %s", c.Canonical())
	}
	status, _ := obj["status"].(string)
	if !slices.Contains(ReviewStatuses, status) {
		bad("invalid", "QuestionnaireResponse.status", "status must be one of %s", strings.Join(ReviewStatuses, ", "))
	}
	if s, ok := obj["subject"]; ok {
		m, _ := s.(map[string]any)
		if ref, _ := m["reference"].(string); ref != patient {
			bad("invalid", "QuestionnaireResponse.subject", "the subject of this review is the case file's person, %s (or leave subject out)", patient)
		}
	}
	answered := map[string]bool{}
	items, ok := obj["item"].([]any)
	if _, present := obj["item"]; present && !ok {
		bad("structure", "QuestionnaireResponse.item", "item is an array")
	}
	for i, raw := range items {
		path := fmt.Sprintf("QuestionnaireResponse.item[%d]", i)
		m, ok := raw.(map[string]any)
		if !ok {
			bad("structure", path, "an item is an object")
			continue
		}
		linkID, _ := m["linkId"].(string)
		q, known := c.Item(linkID)
		switch {
		case linkID == "":
			bad("required", path+".linkId", "every item names its question by linkId")
			continue
		case !known:
			bad("invalid", path+".linkId", "%q is not a question of %s", linkID, c.Canonical())
			continue
		case answered[linkID]:
			bad("invalid", path+".linkId", "question %q is answered twice", linkID)
			continue
		}
		for _, k := range sortedKeys(m) {
			if !slices.Contains(itemElements, k) {
				bad("structure", path+"."+k, "%s is not an element of QuestionnaireResponse.item", k)
			}
		}
		if _, nested := m["item"]; nested {
			bad("structure", path+".item", "the checklist's questions have no nested items")
		}
		answers, _ := m["answer"].([]any)
		if len(answers) == 0 {
			continue // listed but unanswered: counted as missing below
		}
		if len(answers) > 1 {
			bad("invalid", path+".answer", "question %q takes one answer", linkID)
		}
		if p := answerProblem(q, answers[0]); p != "" {
			bad("value", path+".answer[0]", "question %q: %s", linkID, p)
		}
		answered[linkID] = true
	}
	if status == "completed" {
		for _, q := range c.Items {
			if q.Required && !answered[q.LinkID] {
				bad("required", "QuestionnaireResponse.item", "question %q (%s) is required in a completed review", q.LinkID, q.Text)
			}
		}
	}
	return issues
}

// answerProblem says what is wrong with one answer to q ("" when
// nothing).
func answerProblem(q Item, raw any) string {
	a, _ := raw.(map[string]any)
	var values []string
	for _, k := range sortedKeys(a) {
		switch {
		case strings.HasPrefix(k, "value"):
			values = append(values, k)
		case k == "item":
			return "the checklist's answers have no nested items"
		case !slices.Contains(answerElements, k):
			return k + " is not an element of an answer"
		}
	}
	want := map[string]string{"choice": "valueCoding", "boolean": "valueBoolean", "string": "valueString", "text": "valueString"}[q.Type]
	if len(values) != 1 || values[0] != want {
		return fmt.Sprintf("a %s question is answered with %s", q.Type, want)
	}
	switch q.Type {
	case "choice":
		cd, _ := a["valueCoding"].(map[string]any)
		sys, _ := cd["system"].(string)
		code, _ := cd["code"].(string)
		for _, o := range q.Options {
			if o.System == sys && o.Code == code {
				return ""
			}
		}
		var codes []string
		for _, o := range q.Options {
			codes = append(codes, o.Code)
		}
		return fmt.Sprintf("the answer must be one of its options (%s, system %s)", strings.Join(codes, ", "), q.Options[0].System)
	case "boolean":
		if _, ok := a["valueBoolean"].(bool); !ok {
			return "valueBoolean is true or false"
		}
	default:
		if s, _ := a["valueString"].(string); strings.TrimSpace(s) == "" {
			return "valueString is a non-empty string"
		}
	}
	return ""
}

// Answers are a valid response's answers by linkId: a choice's code, a
// boolean as "true" or "false", a text as given.
func Answers(obj map[string]any) map[string]string {
	out := map[string]string{}
	for _, raw := range list(obj["item"]) {
		m, _ := raw.(map[string]any)
		linkID, _ := m["linkId"].(string)
		answers := list(m["answer"])
		if linkID == "" || len(answers) == 0 {
			continue
		}
		a, _ := answers[0].(map[string]any)
		switch {
		case a["valueCoding"] != nil:
			cd, _ := a["valueCoding"].(map[string]any)
			out[linkID], _ = cd["code"].(string)
		case a["valueBoolean"] != nil:
			out[linkID] = fmt.Sprint(a["valueBoolean"])
		default:
			out[linkID], _ = a["valueString"].(string)
		}
	}
	return out
}

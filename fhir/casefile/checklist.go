package casefile

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// ChecklistURL is the canonical URL of the checklist the gateway ships
// (checklist.json); AnswerSystem codes its answers.
const (
	ChecklistURL = "https://socialcare-fhir.example.org/Questionnaire/case-file-audit"
	AnswerSystem = "https://socialcare-fhir.example.org/CodeSystem/case-file-audit-answer"
)

// The answer codes of the shipped checklist's questions.
const (
	AnswerYes           = "yes"
	AnswerNo            = "no"
	AnswerNotApplicable = "not-applicable"
)

//go:embed checklist.json
var checklistJSON []byte

// Checklist is a case-file audit checklist: a FHIR Questionnaire whose
// items are the questions, with the parts a review is checked against.
type Checklist struct {
	URL, Version, Title string
	Items               []Item
	// Questionnaire is the resource as given (or shipped).
	Questionnaire map[string]any
}

// Item is one question.
type Item struct {
	LinkID, Text string
	// Type is choice, boolean, string or text.
	Type     string
	Required bool
	// Options are the codings a choice question may be answered with.
	Options []Option
}

// Option is one permitted answer of a choice question.
type Option struct{ System, Code, Display string }

// Canonical is the checklist's canonical reference: url|version.
func (c *Checklist) Canonical() string {
	if c.Version == "" {
		return c.URL
	}
	return c.URL + "|" + c.Version
}

// Item returns the question with linkID.
func (c *Checklist) Item(linkID string) (Item, bool) {
	for _, it := range c.Items {
		if it.LinkID == linkID {
			return it, true
		}
	}
	return Item{}, false
}

// Default is the checklist the gateway ships.
func Default() *Checklist {
	obj, err := fhir.DecodeObject(checklistJSON)
	if err != nil {
		panic("casefile: the shipped checklist is not JSON: " + err.Error())
	}
	c, issues := ParseChecklist(obj)
	if len(issues) > 0 {
		panic(fmt.Sprintf("casefile: the shipped checklist is not valid: %v", issues))
	}
	return c
}

// itemTypes are the Questionnaire item types a checklist may use.
var itemTypes = []string{"choice", "boolean", "string", "text"}

// ParseChecklist reads a Questionnaire as a checklist, naming every
// problem (at path, from "Questionnaire"): it needs an absolute url, a
// version, status active or draft, and at least one item; each item a
// unique linkId, text, a type of itemTypes (groups and nested items are
// not supported) and, for choice, answerOption codings with system and
// code.
func ParseChecklist(obj map[string]any) (*Checklist, []fhir.Issue) {
	var issues []fhir.Issue
	bad := func(path, format string, args ...any) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Diagnostics: fmt.Sprintf(format, args...), Expression: []string{path}})
	}
	c := &Checklist{Questionnaire: obj}
	if obj["resourceType"] != "Questionnaire" {
		bad("Questionnaire", "a checklist is a Questionnaire resource")
		return nil, issues
	}
	c.URL, _ = obj["url"].(string)
	if u, err := url.Parse(c.URL); c.URL == "" || err != nil || !u.IsAbs() {
		bad("Questionnaire.url", "a checklist needs an absolute canonical url (for example %s)", ChecklistURL)
	}
	c.Version, _ = obj["version"].(string)
	if strings.TrimSpace(c.Version) == "" {
		bad("Questionnaire.version", "a checklist needs a version, so that each review names the questions it answered")
	}
	if st, _ := obj["status"].(string); st != "active" && st != "draft" {
		bad("Questionnaire.status", "a checklist in use has status active or draft, not %q", st)
	}
	c.Title, _ = obj["title"].(string)
	items, _ := obj["item"].([]any)
	if len(items) == 0 {
		bad("Questionnaire.item", "a checklist needs at least one question")
	}
	seen := map[string]bool{}
	for i, raw := range items {
		path := fmt.Sprintf("Questionnaire.item[%d]", i)
		m, ok := raw.(map[string]any)
		if !ok {
			bad(path, "an item is an object")
			continue
		}
		it := Item{}
		it.LinkID, _ = m["linkId"].(string)
		it.Text, _ = m["text"].(string)
		it.Type, _ = m["type"].(string)
		it.Required, _ = m["required"].(bool)
		switch {
		case it.LinkID == "":
			bad(path+".linkId", "every question needs a linkId")
		case seen[it.LinkID]:
			bad(path+".linkId", "linkId %q is used twice", it.LinkID)
		}
		seen[it.LinkID] = true
		if strings.TrimSpace(it.Text) == "" {
			bad(path+".text", "every question needs its text")
		}
		if !slices.Contains(itemTypes, it.Type) {
			bad(path+".type", "type %q is not supported in a checklist (supported: %s)", it.Type, strings.Join(itemTypes, ", "))
		}
		if _, nested := m["item"]; nested {
			bad(path+".item", "nested items are not supported in a checklist")
		}
		if r, ok := m["repeats"].(bool); ok && r {
			bad(path+".repeats", "a checklist question takes one answer")
		}
		for j, o := range list(m["answerOption"]) {
			om, _ := o.(map[string]any)
			cd, _ := om["valueCoding"].(map[string]any)
			opt := Option{}
			opt.System, _ = cd["system"].(string)
			opt.Code, _ = cd["code"].(string)
			opt.Display, _ = cd["display"].(string)
			if opt.System == "" || opt.Code == "" {
				bad(fmt.Sprintf("%s.answerOption[%d]", path, j), "an answer option is a valueCoding with system and code")
				continue
			}
			it.Options = append(it.Options, opt)
		}
		if it.Type == "choice" && len(it.Options) == 0 {
			bad(path+".answerOption", "a choice question needs its answerOptions")
		}
		c.Items = append(c.Items, it)
	}
	if len(issues) > 0 {
		return nil, issues
	}
	return c, nil
}

// list is v as a JSON array (nil when it is not one).
func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// MarshalQuestionnaire is the checklist's Questionnaire as JSON.
func (c *Checklist) MarshalQuestionnaire() ([]byte, error) { return json.Marshal(c.Questionnaire) }

package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Retention triggers: what a retention period counts from.
const (
	// FromEndOfCare counts from the end of the person's care: their last
	// episode of care finished, or their death, whichever came first.
	FromEndOfCare = "end-of-care"
	// FromDeath counts from the person's death only.
	FromDeath = "death"
	// FromLastEntry counts from the latest entry in the person's record.
	FromLastEntry = "last-entry"
)

// RetentionRule is one entry of the retention schedule.
type RetentionRule struct {
	// Rule names the schedule entry a disposal is made under.
	Rule string `json:"rule"`
	// Years is the retention period, counted from From.
	Years int `json:"years"`
	// From is the trigger: FromEndOfCare, FromDeath or FromLastEntry.
	From string `json:"from"`
	// Basis says where the period comes from.
	Basis string `json:"basis"`
}

// Schedule is the retention schedule of the policy data ("retention" in
// data.json): a rule per record category of the vocabulary, or the
// default for those without one.
type Schedule struct {
	Source     string                   `json:"source"`
	Default    *RetentionRule           `json:"default,omitempty"`
	Categories map[string]RetentionRule `json:"categories"`
	// Vocabulary is the record categories of the policy data.
	Vocabulary []string `json:"-"`
}

// For is the rule of a category: its own entry or the default.
func (s *Schedule) For(category string) RetentionRule {
	if r, ok := s.Categories[category]; ok {
		return r
	}
	return *s.Default // validated: a category without an entry has a default
}

// Rules are the schedule's distinct rules, in rule order.
func (s *Schedule) Rules() []RetentionRule {
	seen := map[string]RetentionRule{}
	if s.Default != nil {
		seen[s.Default.Rule] = *s.Default
	}
	for _, r := range s.Categories {
		seen[r.Rule] = r
	}
	out := make([]RetentionRule, 0, len(seen))
	for _, r := range seen {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RetentionRule) int { return strings.Compare(a.Rule, b.Rule) })
	return out
}

// parseSchedule reads and checks the retention schedule of the policy
// data: every category of the vocabulary has an entry or there is a
// default; entries name only categories of the vocabulary; every period
// is positive; every trigger is known; a rule id means one period and
// trigger wherever it is used. A policy without a schedule is refused:
// the gateway must know how long it keeps what it holds.
func parseSchedule(data []byte) (*Schedule, error) {
	var doc struct {
		DSA struct {
			Vocabulary []string `json:"vocabulary"`
		} `json:"dsa"`
		Retention *Schedule `json:"retention"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", DataFile, err)
	}
	s := doc.Retention
	if s == nil {
		return nil, fmt.Errorf("%s: no retention schedule (\"retention\": a default and entries per record category; see docs/records-retention.md)", DataFile)
	}
	var errs []error
	rules := map[string]RetentionRule{}
	check := func(where string, r RetentionRule) {
		switch {
		case strings.TrimSpace(r.Rule) == "":
			errs = append(errs, fmt.Errorf("retention %s: no rule id", where))
		case r.Years <= 0:
			errs = append(errs, fmt.Errorf("retention %s (%s): years must be a positive whole number, not %d", where, r.Rule, r.Years))
		case !slices.Contains([]string{FromEndOfCare, FromDeath, FromLastEntry}, r.From):
			errs = append(errs, fmt.Errorf("retention %s (%s): from must be %s, %s or %s, not %q", where, r.Rule, FromEndOfCare, FromDeath, FromLastEntry, r.From))
		default:
			if o, ok := rules[r.Rule]; ok && (o.Years != r.Years || o.From != r.From) {
				errs = append(errs, fmt.Errorf("retention %s: rule %s is used with two periods (%d years from %s and %d from %s)", where, r.Rule, o.Years, o.From, r.Years, r.From))
			}
			rules[r.Rule] = r
		}
	}
	if s.Default != nil {
		check("default", *s.Default)
	}
	for _, c := range sortedKeys(s.Categories) {
		if !slices.Contains(doc.DSA.Vocabulary, c) {
			errs = append(errs, fmt.Errorf("retention category %q is not in the vocabulary", c))
			continue
		}
		check("category "+c, s.Categories[c])
	}
	if s.Default == nil {
		for _, c := range doc.DSA.Vocabulary {
			if _, ok := s.Categories[c]; !ok {
				errs = append(errs, fmt.Errorf("retention: category %q has no entry and there is no default", c))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", DataFile, errors.Join(errs...))
	}
	s.Vocabulary = doc.DSA.Vocabulary
	return s, nil
}

// Retention is the policy version's retention schedule.
func (e *Engine) Retention() *Schedule { return e.retention }

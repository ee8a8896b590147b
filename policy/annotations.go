package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
)

// Rule is what a rule id of the policy means, read from the OPA
// annotation (# METADATA) of the Rego rule that names it:
//
//	# METADATA
//	# title: A care relationship is needed
//	# description: >-
//	#   An NHS organisation sees a person's social care record only ...
//	# custom:
//	#   id: REL-3-relationship
//	record_checks contains "REL-3-relationship" if { ... }
type Rule struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// File and Row are where the annotation is; Rule is the Rego rule it
	// annotates, e.g. data.gateway.authz.record_checks.
	File string `json:"file"`
	Row  int    `json:"row"`
	Rule string `json:"rule"`
}

// ruleIDsQuery lists the rule ids a refusal may name, in order.
const ruleIDsQuery = "data.gateway.authz.rule_ids"

// ruleIDPattern is the shape of a rule id (REL-3-relationship, SELF-6,
// DEFAULT-deny): every string of this shape in a policy module is taken
// to be a rule id it may return as a reason, and must be annotated.
var ruleIDPattern = regexp.MustCompile(`^[A-Z][A-Z]+-([0-9]+|deny)(-[a-z0-9]+)*$`)

// ruleBook is the annotated rules of one policy version.
type ruleBook struct {
	byID map[string]Rule
	// order is rule_ids, then the other annotated ids alphabetically.
	order []string
}

// readRules reads the rule annotations of the policy modules and checks
// that every rule id the policy can give as a reason has one: those in
// rule_ids and every string literal shaped like a rule id. A version
// where one is missing, an id is annotated twice, or an annotation lacks
// its title or description is refused, so the plain-English meaning of
// a rule cannot drift from the rules.
func readRules(ctx context.Context, compiler *ast.Compiler, store storage.Store, policy map[string]*ast.Module) (*ruleBook, error) {
	book := &ruleBook{byID: map[string]Rule{}}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(policy)) {
		for _, a := range policy[name].Annotations {
			raw, ok := a.Custom["id"]
			if !ok {
				continue
			}
			id, ok := raw.(string)
			row := 0
			if a.Location != nil {
				row = a.Location.Row
			}
			switch {
			case !ok || !ruleIDPattern.MatchString(id):
				errs = append(errs, fmt.Errorf("%s:%d: custom id %v is not a rule id (like REL-3-relationship)", name, row, raw))
				continue
			case strings.TrimSpace(a.Title) == "" || strings.TrimSpace(a.Description) == "":
				errs = append(errs, fmt.Errorf("%s:%d: the annotation of %s needs a title and a description", name, row, id))
				continue
			}
			if prev, dup := book.byID[id]; dup {
				errs = append(errs, fmt.Errorf("%s:%d: %s is annotated already at %s:%d", name, row, id, prev.File, prev.Row))
				continue
			}
			r := Rule{ID: id, Title: strings.TrimSpace(a.Title), Description: strings.TrimSpace(a.Description), File: name, Row: row}
			if p := a.GetTargetPath(); p != nil {
				r.Rule = p.String()
			}
			book.byID[id] = r
		}
	}
	listed, err := ruleIDs(ctx, compiler, store)
	if err != nil {
		return nil, err
	}
	needed := map[string]bool{}
	for _, id := range listed {
		needed[id] = true
	}
	for _, m := range policy {
		ast.WalkTerms(m, func(t *ast.Term) bool {
			if s, ok := t.Value.(ast.String); ok && ruleIDPattern.MatchString(string(s)) {
				needed[string(s)] = true
			}
			return false
		})
	}
	var missing []string
	for id := range needed {
		if _, ok := book.byID[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		errs = append(errs, fmt.Errorf("rule ids without a # METADATA annotation (title, description, custom id) before the rule that names them: %s (see docs/policy-guide.md, \"Explaining a decision\")", strings.Join(missing, ", ")))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rule annotations: %w", errors.Join(errs...))
	}
	for _, id := range listed {
		if !slices.Contains(book.order, id) {
			book.order = append(book.order, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(book.byID)) {
		if !slices.Contains(book.order, id) {
			book.order = append(book.order, id)
		}
	}
	return book, nil
}

// ruleIDs evaluates rule_ids; a policy without it lists none.
func ruleIDs(ctx context.Context, compiler *ast.Compiler, store storage.Store) ([]string, error) {
	rs, err := rego.New(rego.Query(ruleIDsQuery), rego.Compiler(compiler), rego.Store(store)).Eval(ctx)
	if err != nil {
		return nil, fmt.Errorf("rule annotations: evaluate rule_ids: %w", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	raw, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, errors.New("rule annotations: rule_ids is not a list")
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("rule annotations: rule_ids holds something other than strings")
		}
		out = append(out, s)
	}
	return out, nil
}

// Rules are the annotated rules of this version: those of rule_ids in
// its order, then the others by id.
func (e *Engine) Rules() []Rule {
	if e.rules == nil {
		return nil
	}
	out := make([]Rule, 0, len(e.rules.order))
	for _, id := range e.rules.order {
		out = append(out, e.rules.byID[id])
	}
	return out
}

// Rule is the annotated rule id.
func (e *Engine) Rule(id string) (Rule, bool) {
	if e.rules == nil {
		return Rule{}, false
	}
	r, ok := e.rules.byID[id]
	return r, ok
}

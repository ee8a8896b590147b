package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/tester"
)

// RuleCoverage is how much of one rule (every definition of it) the
// version's Rego tests evaluate: the lines of its heads and expressions.
type RuleCoverage struct {
	// Rule is the rule's path, e.g. data.gateway.authz.open_paths.
	Rule    string  `json:"rule"`
	Covered int     `json:"covered_lines"`
	Lines   int     `json:"lines"`
	Percent float64 `json:"percent"`
}

// Coverage runs the Rego tests of a version with OPA's coverage tracer and
// reports, per rule of the policy modules (tests left out), the share of
// its lines they evaluate, lowest first, and the share of all lines.
func Coverage(ctx context.Context, files Files) (rules []RuleCoverage, overall float64, err error) {
	src, err := newSource(files)
	if err != nil {
		return nil, 0, err
	}
	policy, tests, err := src.parse()
	if err != nil {
		return nil, 0, err
	}
	store, err := src.store()
	if err != nil {
		return nil, 0, err
	}
	mods := make(map[string]*ast.Module, len(policy)+len(tests))
	for k, v := range policy {
		mods[k] = v
	}
	for k, v := range tests {
		mods[k] = v
	}
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("policy coverage: %w", err)
	}
	defer store.Abort(ctx, txn)
	cov := cover.New()
	ch, err := tester.NewRunner().SetCompiler(newCompiler()).SetStore(store).SetModules(mods).
		SetTimeout(testTimeout).SetCoverageQueryTracer(cov).RunTests(ctx, txn)
	if err != nil {
		return nil, 0, fmt.Errorf("policy coverage: %w", err)
	}
	for range ch { // pass or fail is runTests's to say
	}
	report := cov.Report(policy)
	return ruleCoverage(policy, report), report.Coverage, nil
}

// ruleCoverage counts, per rule path, the covered lines of its heads and
// expressions.
func ruleCoverage(policy map[string]*ast.Module, report cover.Report) []RuleCoverage {
	type lines map[int]bool // line -> covered
	byRule := map[string]lines{}
	for file, m := range policy {
		for _, r := range m.Rules {
			path := r.Ref().GroundPrefix().String()
			if !strings.HasPrefix(path, "data.") {
				path = m.Package.Path.String() + "." + path
			}
			ls := byRule[path]
			if ls == nil {
				ls = lines{}
				byRule[path] = ls
			}
			add := func(loc *ast.Location) {
				if loc != nil && loc.HasFile() {
					ls[loc.Row] = ls[loc.Row] || report.IsCovered(file, loc.Row)
				}
			}
			add(r.Head.Location)
			ast.WalkExprs(r, func(x *ast.Expr) bool {
				add(x.Location)
				return false
			})
		}
	}
	out := make([]RuleCoverage, 0, len(byRule))
	for path, ls := range byRule {
		rc := RuleCoverage{Rule: path, Lines: len(ls)}
		for _, c := range ls {
			if c {
				rc.Covered++
			}
		}
		if rc.Lines > 0 {
			rc.Percent = 100 * float64(rc.Covered) / float64(rc.Lines)
		}
		out = append(out, rc)
	}
	slices.SortFunc(out, func(a, b RuleCoverage) int {
		if a.Percent != b.Percent {
			if a.Percent < b.Percent {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return out
}

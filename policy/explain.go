package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/rego"
)

// Explanation says, in plain words, why the policy decides one input as it
// does: the decision, each rule that applied with its title and
// description (rule annotations), the facts the decision used and what is
// redacted. It is made by evaluating the policy in full (never by plan),
// so it is the ground truth of the revision that answered.
type Explanation struct {
	// Revision is the policy revision that answered.
	Revision string   `json:"revision"`
	Decision Decision `json:"decision"`
	// Summary is one sentence: allowed or refused, and by what.
	Summary string `json:"summary"`
	// Rules are the decision's reasons: the rules that allowed it, or
	// those that refused it (disclosed: whether the caller is told).
	Rules       []AppliedRule `json:"rules"`
	Facts       UsedFacts     `json:"facts"`
	Redactions  []Redaction   `json:"redactions"`
	Obligations []Obligation  `json:"obligations"`
}

// AppliedRule is one rule of a decision.
type AppliedRule struct {
	Rule
	// Outcome is "allowed" (the rule let the request through) or
	// "refused" (the rule failed).
	Outcome string `json:"outcome"`
	// Disclosed is, for a refusal, whether the caller was told this rule
	// (some rules would reveal something about the person: deny.rego).
	Disclosed bool `json:"disclosed,omitempty"`
}

// UsedFacts are the facts a decision was made on.
type UsedFacts struct {
	Action    string `json:"action"`
	Operation string `json:"operation,omitempty"`
	// Who asked: their organisation (its name and kind from the
	// agreement), job role and the role class the agreement puts it in,
	// and the purpose of use.
	SubjectKind      string `json:"subject_kind"`
	Org              string `json:"organisation"`
	OrgName          string `json:"organisation_name,omitempty"`
	OrgKind          string `json:"organisation_kind,omitempty"`
	Role             string `json:"role,omitempty"`
	RoleClass        string `json:"role_class,omitempty"`
	Purpose          string `json:"purpose"`
	PurposeMeaning   string `json:"purpose_meaning"`
	BreakGlassReason bool   `json:"break_glass_reason_given"`
	// VisibleCategories are the categories the role class sees at this
	// kind of organisation.
	VisibleCategories []string `json:"visible_categories"`
	// The record: its type, patient, categories, security labels and
	// authoring organisations.
	ResourceType string   `json:"resource_type,omitempty"`
	Patient      string   `json:"patient,omitempty"`
	Categories   []string `json:"categories"`
	Labels       []string `json:"labels"`
	AuthorOrgs   []string `json:"author_orgs"`
	// The gateway's facts about the patient: "yes", "no", or "not worked
	// out" (the decision did not need it when it was made).
	Relationship   string `json:"relationship"`
	Objection      string `json:"objection"`
	KnownToCouncil string `json:"known_to_council"`
	Self           string `json:"self"`
	ProviderNamed  string `json:"provider_named"`
}

// Redaction is one part of the record removed before it is sent.
type Redaction struct {
	Pointer string `json:"pointer"`
	Plain   string `json:"plain"`
	Why     string `json:"why,omitempty"`
}

// Obligation is something the gateway must do because of the decision.
type Obligation struct {
	Code  string `json:"code"`
	Plain string `json:"plain"`
}

// Fact values of UsedFacts.
const (
	FactYes          = "yes"
	FactNo           = "no"
	FactNotWorkedOut = "not worked out"
)

// explainQueries read the subject facts of the policy for Explain.
type explainQueries struct {
	roleClass, org, visible rego.PreparedEvalQuery
}

func prepareExplain(ctx context.Context, opts func(string) []func(*rego.Rego)) (q explainQueries, err error) {
	for _, p := range []struct {
		to    *rego.PreparedEvalQuery
		query string
	}{
		{&q.roleClass, "data.gateway.authz.role_class"},
		{&q.org, "data.gateway.authz.org"},
		{&q.visible, "data.gateway.authz.visible_categories"},
	} {
		if *p.to, err = rego.New(opts(p.query)...).PrepareForEval(ctx); err != nil {
			return q, err
		}
	}
	return q, nil
}

// Explain decides in in full and explains the decision. known says which
// of the patient facts in in.Context were worked out (AllFacts for a
// hypothetical input; an audited decision may not have needed them all).
func (e *Engine) Explain(ctx context.Context, in Input, known Facts) (*Explanation, error) {
	var d Decision
	var err error
	if in.Action == ActionOperation {
		d, err = e.DecideOperation(ctx, in)
	} else {
		d, err = e.evalDecision(ctx, in)
	}
	if err != nil {
		return nil, err
	}
	x := &Explanation{Revision: e.revision, Decision: d, Rules: []AppliedRule{}, Redactions: []Redaction{}, Obligations: []Obligation{}}
	outcome := "refused"
	if d.Allow {
		outcome = "allowed"
	}
	for _, id := range d.Reasons {
		r, ok := e.Rule(id)
		if !ok { // load refuses such a version; a reason made up at run time
			r = Rule{ID: id, Title: id, Description: "This rule id has no annotation."}
		}
		x.Rules = append(x.Rules, AppliedRule{Rule: r, Outcome: outcome, Disclosed: !d.Allow && slices.Contains(d.Disclosed, id)})
	}
	if x.Facts, err = e.usedFacts(ctx, in, known); err != nil {
		return nil, err
	}
	dsa, _ := parseAgreement(e.data) // it loaded, so it parses
	for _, p := range d.Redactions {
		x.Redactions = append(x.Redactions, Redaction{Pointer: p, Plain: pointerWords(p), Why: dsa.redactionWhy(p, x.Facts.RoleClass, in.Resource.Categories)})
	}
	for _, o := range d.Obligations {
		x.Obligations = append(x.Obligations, Obligation{Code: o, Plain: obligationWords(o)})
	}
	x.Summary = summary(x)
	return x, nil
}

func summary(x *Explanation) string {
	titles := make([]string, len(x.Rules))
	for i, r := range x.Rules {
		titles[i] = r.Title
	}
	if x.Decision.Allow {
		s := "Allowed: " + strings.Join(titles, "; ") + "."
		if len(x.Redactions) > 0 {
			s += fmt.Sprintf(" %d part(s) of the record are removed first.", len(x.Redactions))
		}
		return s
	}
	if len(titles) == 0 {
		return "Refused."
	}
	return "Refused: " + strings.Join(titles, "; ") + "."
}

// usedFacts reads the subject facts from the policy itself and the
// record's and patient's from the input.
func (e *Engine) usedFacts(ctx context.Context, in Input, known Facts) (UsedFacts, error) {
	f := UsedFacts{Action: in.Action, Operation: in.Operation, SubjectKind: in.Subject.Kind, Org: in.Subject.Org,
		Role: in.Subject.Role, Purpose: in.Subject.Purpose, BreakGlassReason: strings.TrimSpace(in.Subject.BreakGlassReason) != "",
		ResourceType: in.Resource.Type, Patient: in.Resource.Patient,
		Categories: nonNil(in.Resource.Categories), Labels: nonNil(in.Resource.Labels), AuthorOrgs: nonNil(in.Resource.AuthorOrgs)}
	v := in.value()
	eval := func(q rego.PreparedEvalQuery) (any, error) {
		rs, err := q.Eval(ctx, rego.EvalParsedInput(v))
		if err != nil || len(rs) == 0 || len(rs[0].Expressions) == 0 {
			return nil, err
		}
		return rs[0].Expressions[0].Value, nil
	}
	rc, err := eval(e.explain.roleClass)
	if err != nil {
		return f, fmt.Errorf("policy %s: explain: %w", e.revision, err)
	}
	f.RoleClass, _ = rc.(string)
	org, err := eval(e.explain.org)
	if err != nil {
		return f, fmt.Errorf("policy %s: explain: %w", e.revision, err)
	}
	if m, ok := org.(map[string]any); ok {
		f.OrgName, _ = m["name"].(string)
		f.OrgKind, _ = m["kind"].(string)
	}
	vis, err := eval(e.explain.visible)
	if err != nil {
		return f, fmt.Errorf("policy %s: explain: %w", e.revision, err)
	}
	f.VisibleCategories = []string{}
	if vs, ok := vis.([]any); ok {
		for _, c := range vs {
			if s, ok := c.(string); ok {
				f.VisibleCategories = append(f.VisibleCategories, s)
			}
		}
	}
	slices.Sort(f.VisibleCategories)
	dsa, _ := parseAgreement(e.data)
	f.PurposeMeaning = dsa.purposeWords(in.Subject.Purpose)
	fact := func(v, k bool) string {
		switch {
		case !k:
			return FactNotWorkedOut
		case v:
			return FactYes
		}
		return FactNo
	}
	c := in.Context
	f.Relationship = fact(c.Related || slices.Contains(c.RelatedPatients, in.Resource.Patient) && in.Resource.Patient != "", known.Related)
	f.Objection = fact(c.Objected || slices.Contains(c.ObjectedPatients, in.Resource.Patient) && in.Resource.Patient != "", known.Objected)
	f.KnownToCouncil = fact(c.KnownToCouncil || slices.Contains(c.KnownPatients, in.Resource.Patient) && in.Resource.Patient != "", known.KnownToCouncil)
	f.Self = fact(c.Self || slices.Contains(c.SelfPatients, in.Resource.Patient) && in.Resource.Patient != "", known.Self)
	f.ProviderNamed = fact(c.ProviderNamed, known.ProviderNamed)
	return f, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pointerWords says what a redacted JSON pointer removes.
func pointerWords(p string) string {
	switch p {
	case "/text":
		return "the narrative (the human-readable summary)"
	case "/note":
		return "the notes"
	case "/code/text":
		return "the free-text wording of what was recorded"
	case "/description":
		return "the description"
	case "/activity":
		return "the planned activities"
	case "/supportingInfo":
		return "the supporting information"
	}
	return "the part of the record at " + p
}

// obligationWords says what an obligation makes the gateway do.
func obligationWords(o string) string {
	switch o {
	case "audit-break-glass":
		return "The access is recorded in the audit trail as emergency (break glass) access."
	case "review-break-glass":
		return "An information governance lead reviews the access afterwards and records whether it was justified (AuditEvent $review)."
	}
	return "The gateway must honour " + o + "."
}

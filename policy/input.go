package policy

import (
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// Actions the policy knows. Any other action is denied.
const (
	ActionRead      = "read"
	ActionSearch    = "search"
	ActionHistory   = "history"
	ActionWrite     = "write"
	ActionOperation = "operation"
)

// Subject kinds.
const (
	SubjectUser   = "user"
	SubjectSystem = "system"
	SubjectPerson = "person"
)

// Input is the document the policy decides on (input in Rego).
type Input struct {
	// Action is read, search, history, write or operation.
	Action string `json:"action"`
	// Operation names the operation of action operation, e.g.
	// "$who-accessed" (see Engine.DecideOperation).
	Operation string   `json:"operation,omitempty"`
	Subject   Subject  `json:"subject"`
	Resource  Resource `json:"resource"`
	Context   Context  `json:"context"`
	// Stored is the version held now, for a write that changes or
	// deletes one (input.stored; absent on a create). For a delete,
	// Resource is the stored version too. A decision with a stored
	// version is evaluated in full, never by plan (writes are few).
	Stored *Resource `json:"stored,omitempty"`
}

// Subject is who is asking. Organisation kind and role class are looked up
// in the data sharing agreement, never taken from the token.
type Subject struct {
	// Kind is user, system or person.
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// Org is the ODS code of the organisation the subject acts for.
	Org string `json:"org"`
	// Role is the SDS job role code, e.g. R8000.
	Role string `json:"role"`
	// Purpose is a v3-ActReason code: TREAT, COC, ETREAT, BTG, HPAYMT,
	// HOPERAT, PUBHLTH, HRESCH or PATRQT.
	Purpose          string `json:"purpose"`
	BreakGlassReason string `json:"break_glass_reason"`
	// NHSNumber is set for kind person only.
	NHSNumber string `json:"nhs_number,omitempty"`
}

// Resource is the resource a request touches: its type and id plus the
// attributes the policy decides on. Searches leave the attributes empty.
type Resource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	ResourceAttributes
}

// ResourceAttributes are the facts about a resource the policy uses. The
// store saves them on each document (pat, acl.cat, acl.sec, acl.org).
type ResourceAttributes struct {
	// Patient is "Patient/<id>" or "" for records about no one person.
	Patient string `json:"patient"`
	// Categories are record categories from [Categories].
	Categories []string `json:"categories"`
	// Labels are meta.security codings as "system|code".
	Labels []string `json:"labels"`
	// AuthorOrgs are the ODS codes of the organisations that wrote the
	// record (meta.tag with system [SourceOrgSystem]).
	AuthorOrgs []string `json:"author_orgs"`
}

// Context holds facts the gateway computes about the subject and the
// patient. The booleans describe one resource's patient; in a search the
// gateway passes the *Patients lists instead ("Patient/<id>" each).
type Context struct {
	Related        bool `json:"related"`
	Objected       bool `json:"objected"`
	Self           bool `json:"self"`
	KnownToCouncil bool `json:"known_to_council"`
	ProviderNamed  bool `json:"provider_named"`

	// SharedConsent and SharedDuty are the record categories the caller,
	// as a third party a Consent names (fhir/facts share.go), may see
	// now: category -> patients ("Patient/<id>"), on the person's
	// consent and on the council's legal duty (Care Act 2014 s42). One
	// resource's context lists its patient only; a search's every
	// patient shared with the caller.
	SharedConsent map[string][]string `json:"shared_consent,omitempty"`
	SharedDuty    map[string][]string `json:"shared_duty,omitempty"`

	RelatedPatients  []string `json:"related_patients,omitempty"`
	ObjectedPatients []string `json:"objected_patients,omitempty"`
	KnownPatients    []string `json:"known_patients,omitempty"`
	SelfPatients     []string `json:"self_patients,omitempty"`

	// RelatedSet, ObjectedSet and KnownSet name the patients of
	// RelatedPatients, ObjectedPatients and KnownPatients by their
	// access facts instead of listing them, for a search on an engine
	// that tests membership of the facts in the query itself (a
	// caller's caseload is not carried in the request). Only
	// [Engine.Filter] reads them, and only by a plan.
	RelatedSet, ObjectedSet, KnownSet *cond.FactSet `json:"-"`
}

// hasSets reports whether c names patients by fact sets.
func (c *Context) hasSets() bool {
	return c.RelatedSet != nil || c.ObjectedSet != nil || c.KnownSet != nil
}

// Decision is the policy's answer about one resource.
type Decision struct {
	Allow bool `json:"allow"`
	// Reasons are rule ids: the rules that allowed, or those that failed.
	// The audit trail keeps them all.
	Reasons []string `json:"reasons"`
	// Disclosed are the rule ids of a refusal the caller may be told:
	// the policy leaves out those that would disclose something about
	// the person (deny.rego). A refusal whose policy says nothing of it
	// discloses only "DEFAULT-deny".
	Disclosed []string `json:"disclosed"`
	// Redactions are JSON pointers (RFC 6901) to remove from the resource
	// before it leaves, e.g. "/note".
	Redactions []string `json:"redactions"`
	// Obligations the gateway must honour, e.g. "audit-break-glass".
	Obligations []string `json:"obligations"`
	// Revision is the policy revision that decided.
	Revision string `json:"revision"`
}

// The functions below build the input as an ast.Value directly: cheaper
// than having OPA convert a Go map on every evaluation.

func strs(ss []string) *ast.Term {
	ts := make([]*ast.Term, len(ss))
	for i, s := range ss {
		ts[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(ts...)
}

func item(k string, v *ast.Term) [2]*ast.Term { return [2]*ast.Term{ast.StringTerm(k), v} }

func (s Subject) term() *ast.Term {
	return ast.ObjectTerm(
		item("kind", ast.StringTerm(s.Kind)),
		item("id", ast.StringTerm(s.ID)),
		item("org", ast.StringTerm(s.Org)),
		item("role", ast.StringTerm(s.Role)),
		item("purpose", ast.StringTerm(s.Purpose)),
		item("break_glass_reason", ast.StringTerm(s.BreakGlassReason)),
		item("nhs_number", ast.StringTerm(s.NHSNumber)),
	)
}

func (r ResourceAttributes) term(typ, id string) *ast.Term {
	return ast.ObjectTerm(
		item("type", ast.StringTerm(typ)),
		item("id", ast.StringTerm(id)),
		item("patient", ast.StringTerm(r.Patient)),
		item("categories", strs(r.Categories)),
		item("labels", strs(r.Labels)),
		item("author_orgs", strs(r.AuthorOrgs)),
	)
}

func (c Context) term() *ast.Term {
	items := [][2]*ast.Term{
		item("related", ast.BooleanTerm(c.Related)),
		item("objected", ast.BooleanTerm(c.Objected)),
		item("self", ast.BooleanTerm(c.Self)),
		item("known_to_council", ast.BooleanTerm(c.KnownToCouncil)),
		item("provider_named", ast.BooleanTerm(c.ProviderNamed)),
	}
	lists := []struct {
		k string
		v []string
	}{
		{"related_patients", c.RelatedPatients},
		{"objected_patients", c.ObjectedPatients},
		{"known_patients", c.KnownPatients},
		{"self_patients", c.SelfPatients},
	}
	for _, l := range lists {
		if l.v != nil {
			items = append(items, item(l.k, strs(l.v)))
		}
	}
	items = append(items, item("shared_consent", sharesTerm(c.SharedConsent)), item("shared_duty", sharesTerm(c.SharedDuty)))
	return ast.ObjectTerm(items...)
}

// sharesTerm is category -> patients as an object (empty when none).
func sharesTerm(m map[string][]string) *ast.Term {
	items := make([][2]*ast.Term, 0, len(m))
	for cat, ps := range m {
		items = append(items, item(cat, strs(ps)))
	}
	return ast.ObjectTerm(items...)
}

// value is the input for one decision.
func (in Input) value() ast.Value {
	v := ast.NewObject(
		item("action", ast.StringTerm(in.Action)),
		item("subject", in.Subject.term()),
		item("resource", in.Resource.term(in.Resource.Type, in.Resource.ID)),
		item("context", in.Context.term()),
	)
	if in.Stored != nil {
		v.Insert(ast.StringTerm("stored"), in.Stored.term(in.Stored.Type, in.Stored.ID))
	}
	return v
}

// operationValue is the input for an operation's decision.
func (in Input) operationValue() ast.Value {
	v := in.value().(ast.Object)
	v.Insert(ast.StringTerm("operation"), ast.StringTerm(in.Operation))
	return v
}

// pageValue is the input for a page: input.resources and input.contexts.
func pageValue(base Input, resources []ResourceAttributes, contexts []Context) ast.Value {
	rs := make([]*ast.Term, len(resources))
	cs := make([]*ast.Term, len(resources))
	for i, r := range resources {
		rs[i] = r.term(base.Resource.Type, "")
		if contexts != nil {
			cs[i] = contexts[i].term()
		} else {
			cs[i] = base.Context.term()
		}
	}
	return ast.NewObject(
		item("action", ast.StringTerm(base.Action)),
		item("subject", base.Subject.term()),
		item("resources", ast.ArrayTerm(rs...)),
		item("contexts", ast.ArrayTerm(cs...)),
	)
}

// filterValue is the input for a search filter: no resource.
func (in Input) filterValue() ast.Value {
	return ast.NewObject(
		item("action", ast.StringTerm(in.Action)),
		item("subject", in.Subject.term()),
		item("context", in.Context.term()),
	)
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
	"github.com/socialcare-fhir/gateway/policy"
)

// Identifier and code systems the relationship facts are looked up by.
const (
	odsSystem       = "https://fhir.nhs.uk/Id/ods-organization-code"
	nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
)

// access is what one request knows about who is asking: the identity, the
// policy version pinned for the request, and the facts about patients that
// the policy needs, worked out once per request.
type access struct {
	server *Server
	id     *auth.Identity
	engine *policy.Engine
	// facts are about every patient (organisation-wide searches); among
	// are about some patients each (a search naming its patients, a page,
	// one resource), reused for any of their patients.
	facts *patientFacts
	among []*patientFacts
	trail *trail
}

// patientFacts are the patients ("Patient/<id>") the caller's organisation has
// each kind of relationship with, and those who objected to sharing. have
// says which have been worked out: only those the policy needs are. When
// among is set, the facts are about those patients only.
type patientFacts struct {
	have                                          policy.Facts
	among                                         []string
	related, known, objected, self, providerNamed map[string]bool
	// sharedConsent and sharedDuty are what Consents share with the
	// caller as a named third party now: record category -> patients.
	sharedConsent, sharedDuty map[string][]string
}

func (a *access) subject() policy.Subject {
	return policy.Subject{Kind: a.id.Kind, ID: a.id.Subject, Org: a.id.Org, Role: a.id.Role,
		Purpose: a.id.Purpose, BreakGlassReason: a.id.BreakGlassReason, NHSNumber: a.id.NHSNumber}
}

// needs is what the policy needs to know about patients to decide action
// for the caller.
func (a *access) needs(ctx context.Context, action string) policy.Facts {
	return a.engine.Needs(ctx, action, a.subject())
}

// load works out the facts in need about every patient, those not worked
// out yet in this request.
func (a *access) load(ctx context.Context, need policy.Facts) (*patientFacts, error) {
	if a.facts == nil {
		a.facts = &patientFacts{}
	}
	return a.facts, a.fill(ctx, a.facts, need)
}

// loadAmong works out the facts in need about some patients: the same
// answers as load gives for them, from one lookup of their facts, or none
// when a lookup of this request already covered them. With no patients it
// is load.
func (a *access) loadAmong(ctx context.Context, need policy.Facts, patients []string) (*patientFacts, error) {
	covers := func(f *patientFacts) bool { return f != nil && f.have.Union(need) == f.have }
	if len(patients) == 0 || covers(a.facts) {
		return a.load(ctx, need)
	}
	for _, f := range a.among {
		if covers(f) && !slices.ContainsFunc(patients, func(p string) bool { return !slices.Contains(f.among, p) }) {
			return f, nil
		}
	}
	f := &patientFacts{among: slices.Compact(slices.Sorted(slices.Values(patients)))}
	a.among = append(a.among, f)
	return f, a.fill(ctx, f, need)
}

// loadFor works out the facts in need about one patient ("" for a
// resource about no patient, which has none): loadAmong of the patient.
func (a *access) loadFor(ctx context.Context, need policy.Facts, patient string) (*patientFacts, error) {
	return a.loadAmong(ctx, need, []string{patient})
}

// fill works out the facts in need that f lacks: the caller's own Patient
// by NHS number (a person's token), and the rest in one lookup of the
// access facts the store keeps per patient (about f.among only, when set)
// (with the organisation's resources, found by ODS code).
func (a *access) fill(ctx context.Context, f *patientFacts, need policy.Facts) error {
	var err error
	if need.Self && !f.have.Self {
		f.self = map[string]bool{}
		if a.id.NHSNumber != "" {
			if f.self, err = a.patients(ctx, f, "Patient", url.Values{"identifier": {nhsNumberSystem + "|" + a.id.NHSNumber}}); err != nil {
				return err
			}
		}
		f.have.Self = true
	}
	// The kinds of fact each policy fact is made of.
	var kinds []string
	var got policy.Facts
	if need.Related && !f.have.Related {
		kinds = append(kinds, relatedKinds...)
		got.Related = true
	}
	if need.KnownToCouncil && !f.have.KnownToCouncil {
		kinds = append(kinds, knownKinds...)
		got.KnownToCouncil = true
	}
	if need.ProviderNamed && !f.have.ProviderNamed {
		kinds = append(kinds, facts.Referral)
		got.ProviderNamed = true
	}
	if need.Objected && !f.have.Objected {
		kinds = append(kinds, facts.Objection)
		got.Objected = true
	}
	actor := a.thirdParty()
	if need.Shared && !f.have.Shared {
		f.sharedConsent, f.sharedDuty = map[string][]string{}, map[string][]string{}
		if actor != "" {
			kinds = append(kinds, facts.ShareKinds...)
		}
		got.Shared = true
	}
	if len(kinds) > 0 {
		// Those facts about the patients for the caller's organisation,
		// found by its ODS code, and what is shared with the caller as a
		// third party, in one lookup of the facts the store keeps beside
		// the resources.
		fs, err := a.server.store.Facts(ctx, facts.Query{Patients: f.among, ODS: a.id.Org, Kinds: kinds, Actor: actor})
		if err != nil {
			return err
		}
		if got.Shared {
			for _, g := range facts.Grants(fs, time.Now()) {
				m := f.sharedConsent
				if g.Duty {
					m = f.sharedDuty
				}
				m[g.Category] = append(m[g.Category], g.Patient)
			}
		}
		sum := facts.Summarise(fs, a.relationshipSince())
		if got.Related {
			f.related = sum.Related
		}
		if got.KnownToCouncil {
			f.known = sum.Known
		}
		if got.ProviderNamed {
			f.providerNamed = sum.ProviderNamed
		}
		if got.Objected {
			f.objected = sum.Objected
		}
		f.have = f.have.Union(got)
	}
	return nil
}

// thirdParty is the identifier ("system|value") by which a Consent names
// the caller as a third party to share with: a person's NHS number (NHS
// login); none for staff, who see records under the agreement.
func (a *access) thirdParty() string {
	if a.id.Kind != auth.KindPerson || a.id.NHSNumber == "" {
		return ""
	}
	return facts.NHSNumberSystem + "|" + a.id.NHSNumber
}

// patients is the set of patient compartments of typ's resources matching
// params, among f's patients when it has them.
func (a *access) patients(ctx context.Context, f *patientFacts, typ string, params url.Values) (map[string]bool, error) {
	ps, err := a.server.store.Patients(ctx, mustQuery(typ, params), f.among...)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(ps))
	for _, p := range ps {
		set[p] = true
	}
	return set, nil
}

// mustQuery parses a query the gateway wrote itself; a failure is a bug.
func mustQuery(typ string, params url.Values) *search.Query {
	q, err := search.Parse(typ, params, search.Options{})
	if err != nil {
		panic(fmt.Sprintf("gateway: internal query %s?%s: %v", typ, params.Encode(), err))
	}
	return q
}

// contextFor is the policy context for one resource's patient.
func (f *patientFacts) contextFor(patient string) policy.Context {
	return policy.Context{Related: f.related[patient], Objected: f.objected[patient], Self: f.self[patient],
		KnownToCouncil: f.known[patient], ProviderNamed: f.providerNamed[patient],
		SharedConsent: sharedOf(f.sharedConsent, patient), SharedDuty: sharedOf(f.sharedDuty, patient)}
}

// sharedOf is shared (category -> patients) limited to patient.
func sharedOf(shared map[string][]string, patient string) map[string][]string {
	var out map[string][]string
	for cat, ps := range shared {
		if patient != "" && slices.Contains(ps, patient) {
			if out == nil {
				out = map[string][]string{}
			}
			out[cat] = []string{patient}
		}
	}
	return out
}

// searchContext is the policy context of a search: lists, not booleans.
func (f *patientFacts) searchContext() policy.Context {
	list := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return policy.Context{RelatedPatients: list(f.related), ObjectedPatients: list(f.objected),
		KnownPatients: list(f.known), SelfPatients: list(f.self), SharedConsent: f.sharedConsent, SharedDuty: f.sharedDuty}
}

// decide asks the policy about one stored version. A refusal is a 403
// naming the rules; an allowed resource comes back with its redactions
// applied. The version is decoded only to be redacted when the engine
// kept its access attributes beside it.
func (a *access) decide(ctx context.Context, action string, v *store.Version) ([]byte, policy.Decision, error) {
	attrs, obj, err := versionAttrs(v)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	d, err := a.decideAttrs(ctx, action, v.Type, v.ID, attrs, nil)
	if err != nil {
		return nil, d, err
	}
	if len(d.Redactions) == 0 {
		return v.JSON, d, nil
	}
	if obj == nil {
		if obj, err = decodeVersion(v); err != nil {
			return nil, d, err
		}
	}
	body, err := redact(v.JSON, obj, d.Redactions)
	return body, d, err
}

// versionAttrs are the access attributes of a stored version: those the
// engine kept beside it, else from its content (then obj is the decoded
// content; else nil).
func versionAttrs(v *store.Version) (attrs policy.ResourceAttributes, obj map[string]any, err error) {
	if v.Attrs != nil {
		return *v.Attrs, nil, nil
	}
	if obj, err = decodeVersion(v); err != nil {
		return attrs, nil, err
	}
	return policy.Attributes(v.Type, obj), obj, nil
}

func decodeVersion(v *store.Version) (map[string]any, error) {
	obj, err := fhir.DecodeObject(v.JSON)
	if err != nil {
		return nil, fmt.Errorf("decode stored %s/%s: %w", v.Type, v.ID, err)
	}
	return obj, nil
}

// decideObject is decideAttrs for a resource's content.
func (a *access) decideObject(ctx context.Context, action, typ, id string, obj map[string]any) (policy.Decision, error) {
	return a.decideAttrs(ctx, action, typ, id, policy.Attributes(typ, obj), nil)
}

// storedAttrs are the access attributes of a stored version: kept beside
// it by the engine, or else read from its JSON.
func storedAttrs(v *store.Version) (policy.ResourceAttributes, error) {
	if v.Attrs != nil {
		return *v.Attrs, nil
	}
	obj, err := fhir.DecodeObject(v.JSON)
	if err != nil {
		return policy.ResourceAttributes{}, fmt.Errorf("decode stored %s/%s: %w", v.Type, v.ID, err)
	}
	return policy.Attributes(v.Type, obj), nil
}

// storedInput is the stored version as the policy's input.stored.
func storedInput(v *store.Version) (*policy.Resource, error) {
	at, err := storedAttrs(v)
	if err != nil {
		return nil, err
	}
	return &policy.Resource{Type: v.Type, ID: v.ID, ResourceAttributes: at}, nil
}

// mayWrite decides a create (cur nil) or an update of the stored version
// cur with res. The gateway first stamps res with its authors (meta.tag
// source-organisation, see stampAuthors): the caller's organisation, the
// authors of cur, and those res names itself, which the policy judges
// (WRITE-7-source). The decision sees cur as input.stored (WRITE-7-
// provider-own, WRITE-7-labels).
func (a *access) mayWrite(ctx context.Context, res *fhir.Resource, cur *store.Version) error {
	var stored *policy.Resource
	authors := []string{a.id.Org}
	if cur != nil {
		var err error
		if stored, err = storedInput(cur); err != nil {
			return err
		}
		authors = slices.Concat(stored.AuthorOrgs, authors)
	}
	stampAuthors(res.Object, authors)
	_, err := a.decideAttrs(ctx, policy.ActionWrite, res.Type, res.ID, policy.Attributes(res.Type, res.Object), stored)
	return err
}

// stampAuthors makes the source-organisation tags of a resource those it
// names, then each of authors it lacks, each once: an update never drops an
// earlier author, and the writer is always named.
func stampAuthors(obj map[string]any, authors []string) {
	meta, _ := obj["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	named := map[string]bool{}
	kept := make([]any, 0, len(tags)+len(authors))
	for _, t := range tags {
		m, _ := t.(map[string]any)
		if m["system"] == policy.SourceOrgSystem {
			code, _ := m["code"].(string)
			if named[code] {
				continue
			}
			named[code] = true
		}
		kept = append(kept, t)
	}
	for _, org := range authors {
		if org != "" && !named[org] { // a person's token names no organisation
			named[org] = true
			kept = append(kept, map[string]any{"system": policy.SourceOrgSystem, "code": org})
		}
	}
	meta["tag"] = kept
}

// decideAttrs asks the policy about one resource, by its access
// attributes, with the stored version it would change (a write; nil
// otherwise); a refusal is a 403 naming the rules.
func (a *access) decideAttrs(ctx context.Context, action, typ, id string, attrs policy.ResourceAttributes, stored *policy.Resource) (policy.Decision, error) {
	var seen func() // notes the last decision's input for the audit record
	decide := func(need policy.Facts) (policy.Decision, error) {
		f, err := a.loadFor(ctx, need, attrs.Patient)
		if err != nil {
			return policy.Decision{}, err
		}
		pc := f.contextFor(attrs.Patient)
		d, err := a.engine.Decide(ctx, policy.Input{Action: action, Subject: a.subject(),
			Resource: policy.Resource{Type: typ, ID: id, ResourceAttributes: attrs}, Context: pc, Stored: stored})
		if err != nil {
			return d, fmt.Errorf("policy decision: %w", err)
		}
		if stored == nil {
			seen = func() { a.trail.noteInput(action, typ, &attrs, &pc, f.have, d.Allow) }
		}
		return d, nil
	}
	need := a.needs(ctx, action)
	d, err := decide(need)
	if err == nil && !d.Allow && need != policy.AllFacts {
		// The refusal stands; its reasons may name rules on facts not
		// looked up yet, so they come from every fact.
		d, err = decide(policy.AllFacts)
	}
	if err != nil {
		return d, err
	}
	if seen != nil {
		seen()
	}
	return d, a.conclude(ctx, typ, id, attrs, d)
}

// conclude notes the decision d about one resource for the audit record
// (with the resource's patient, allowed or not) and turns a refusal into
// its 403.
func (a *access) conclude(ctx context.Context, typ, id string, attrs policy.ResourceAttributes, d policy.Decision) error {
	if !d.Allow {
		if err := a.knowSelf(ctx); err != nil {
			return err
		}
	}
	a.trail.noteDecision(typ, id, attrs, d)
	if !d.Allow {
		return refused(d)
	}
	return nil
}

// knowSelf works out, for a person, which Patient they are, so that the
// audit record of a refused attempt tells their own record from another
// person's (an attempt on another's record goes into that person's
// access report). Others have no Patient: nothing is looked up.
func (a *access) knowSelf(ctx context.Context) error {
	if a.id.Kind != auth.KindPerson {
		return nil
	}
	_, err := a.load(ctx, policy.Facts{Self: true})
	return err
}

// selfPatient is the Patient a person is, when this request worked it out.
func (a *access) selfPatient() string {
	for _, f := range append([]*patientFacts{a.facts}, a.among...) {
		if f == nil {
			continue
		}
		for p, yes := range f.self {
			if yes {
				return p
			}
		}
	}
	return ""
}

// mayWriteAtAll refuses, before any body is read, a caller the policy lets
// write nothing of typ whatever it sends (the refusal names the rules and
// is audited like any other).
func (a *access) mayWriteAtAll(ctx context.Context, typ string) error {
	if !a.engine.NeverFor(ctx, policy.ActionWrite, a.subject(), typ) {
		return nil
	}
	_, err := a.decideAttrs(ctx, policy.ActionWrite, typ, "", policy.ResourceAttributes{}, nil)
	if err == nil {
		return fmt.Errorf("policy: a subject with no write path was allowed to write %s", typ)
	}
	return err
}

// mayChange says whether the caller may update or delete the stored
// version v: only what it may read, and may write as it is now, as a
// change of itself (input.stored is v: a delete, and the half of an update
// that judges what is there now, on its patient's facts, whatever the
// caller sends instead).
func (a *access) mayChange(ctx context.Context, v *store.Version) error {
	if _, _, err := a.decide(ctx, policy.ActionRead, v); err != nil {
		return err
	}
	stored, err := storedInput(v)
	if err != nil {
		return err
	}
	_, err = a.decideAttrs(ctx, policy.ActionWrite, v.Type, v.ID, stored.ResourceAttributes, stored)
	return err
}

// refused is the 403 for a policy refusal: the rule ids the policy lets
// the caller be told (Decision.Disclosed), no content. The audit record
// keeps every reason.
func refused(d policy.Decision) *fhir.Error {
	return &fhir.Error{Status: http.StatusForbidden, Issues: []fhir.Issue{{Severity: "error", Code: "forbidden",
		Diagnostics: fmt.Sprintf("access refused by the data sharing policy (rules: %s; policy revision %s)", strings.Join(d.Disclosed, ", "), d.Revision)}}}
}

// decidePage decides every resource of a page, drops the refused ones and
// redacts the rest.
func (a *access) decidePage(ctx context.Context, action string, versions []*store.Version) ([]*store.Version, error) {
	return a.decideVersions(ctx, action, versions, true)
}

// decideVersions is decidePage; with note false the allowed resources are
// not added to the request's audit trail (a report reading a whole record
// names only what it reports).
func (a *access) decideVersions(ctx context.Context, action string, versions []*store.Version, note bool) ([]*store.Version, error) {
	if len(versions) == 0 {
		return nil, nil
	}
	// The attributes the policy decides on come with each version when
	// the engine keeps them (then a resource is decoded only to be
	// redacted), else from its JSON.
	objs := make([]map[string]any, len(versions))
	obj := func(i int) (map[string]any, error) {
		if objs[i] == nil {
			o, err := decodeVersion(versions[i])
			if err != nil {
				return nil, err
			}
			objs[i] = o
		}
		return objs[i], nil
	}
	byType := map[string][]int{}
	all := make([]policy.ResourceAttributes, len(versions))
	var patients []string
	for i, v := range versions {
		byType[v.Type] = append(byType[v.Type], i)
		if v.Attrs != nil {
			all[i] = *v.Attrs
		} else {
			o, err := obj(i)
			if err != nil {
				return nil, err
			}
			all[i] = policy.Attributes(v.Type, o)
		}
		if p := all[i].Patient; p != "" && !slices.Contains(patients, p) {
			patients = append(patients, p)
		}
	}
	// Each resource is decided on its own patient's facts: those of the
	// page's patients are all it needs (a page about no patient, such as
	// directory resources, needs the facts of none).
	if len(patients) == 0 {
		patients = []string{""}
	}
	f, err := a.loadAmong(ctx, a.needs(ctx, action), patients)
	if err != nil {
		return nil, err
	}
	keep := make([]*store.Version, len(versions))
	for typ, idx := range byType {
		// The engine decides a page by the caller's specialised plan, a
		// few Go predicates per resource; only refusals are evaluated in
		// full.
		attrs := make([]policy.ResourceAttributes, len(idx))
		ctxs := make([]policy.Context, len(idx))
		for j, i := range idx {
			attrs[j] = all[i]
			ctxs[j] = f.contextFor(attrs[j].Patient)
		}
		ds, err := a.engine.DecideMany(ctx, policy.Input{Action: action, Subject: a.subject(), Resource: policy.Resource{Type: typ}}, attrs, ctxs)
		if err != nil {
			return nil, fmt.Errorf("policy decision: %w", err)
		}
		for j, i := range idx {
			d := ds[j]
			a.trail.noteInput(action, typ, &attrs[j], &ctxs[j], f.have, d.Allow)
			if !d.Allow {
				continue // already kept out by the database filter, or a rule the filter does not carry
			}
			if note {
				a.trail.noteDecision(typ, versions[i].ID, attrs[j], d)
			}
			body := versions[i].JSON
			if len(d.Redactions) > 0 {
				o, err := obj(i)
				if err != nil {
					return nil, err
				}
				if body, err = redact(versions[i].JSON, o, d.Redactions); err != nil {
					return nil, err
				}
			}
			c := *versions[i]
			c.JSON = body
			keep[i] = &c
		}
	}
	return slices.DeleteFunc(keep, func(v *store.Version) bool { return v == nil }), nil
}

// restrict is the store.Restrict of a search q: the policy's filter for
// the caller, compiled into the database query. A policy that cannot be
// compiled fails the search (closed). When q names the patients whose
// resources it wants (patient=, subject=Patient/...), the filter of every
// type is built from those patients' facts only, and also requires the
// resource's patient to be one of them (or, for included resources, none),
// so it can never allow more than the filter built from every patient's
// facts.
func (a *access) restrict(action string, q *search.Query) store.Restrict {
	return a.restrictTo(action, q.Type, pinnedPatients(q))
}

// restrictTo is the store.Restrict of a search of typ limited to the
// pinned patients (none: not limited).
func (a *access) restrictTo(action, searched string, pinned []string) store.Restrict {
	return func(ctx context.Context, typ string) (*cond.Node, error) {
		if len(pinned) == 0 && a.server.joinsFacts() {
			filter, err := a.factSetFilter(ctx, action, typ)
			if !errors.Is(err, policy.ErrUntranslatable) {
				return filter, err
			}
			// A policy that cannot be specialised takes the lists.
		}
		// Included resources of a search naming its patients are held to
		// those patients too, or to none (a Practitioner, an
		// Organization), so that the request reads no other patients'
		// facts.
		f, err := a.loadAmong(ctx, a.needs(ctx, action), pinned)
		if err != nil {
			return nil, err
		}
		filter, err := a.engine.Filter(ctx, policy.Input{Action: action, Subject: a.subject(),
			Resource: policy.Resource{Type: typ}, Context: f.searchContext()})
		if errors.Is(err, policy.ErrDenyAll) {
			return matchNothing, nil
		}
		if err != nil {
			return nil, fmt.Errorf("policy filter for %s: %w", typ, err)
		}
		if len(f.among) > 0 {
			pats := f.among
			if typ != searched {
				pats = append(slices.Clone(pats), "")
			}
			return cond.AllOf(filter, cond.OneOf(cond.AccessPatient, pats)), nil
		}
		return filter, nil
	}
}

// The kinds of fact each policy fact is made of (see facts.Summarise).
var (
	relatedKinds  = []string{facts.GP, facts.EpisodeActive, facts.CareTeam, facts.Encounter, facts.ReferralActive}
	knownKinds    = []string{facts.Episode}
	objectedKinds = []string{facts.Objection}
)

// relationshipSince is when the relationship window began: an encounter
// that ended before it no longer relates.
func (a *access) relationshipSince() time.Time {
	return time.Now().Add(-a.server.cfg.RelationshipWindow).UTC().Truncate(24 * time.Hour)
}

// factSetFilter is the policy's filter for a search of typ over the
// whole of the caller's caseload, with the patients named by their facts
// (cond.FactSet) rather than listed, for an engine that tests membership
// of the facts in the query: the request reads none of the caseload's
// facts itself (the page's own are read to decide it).
func (a *access) factSetFilter(ctx context.Context, action, typ string) (*cond.Node, error) {
	need := a.needs(ctx, action)
	f, err := a.load(ctx, policy.Facts{Self: need.Self, Shared: need.Shared})
	if err != nil {
		return nil, err
	}
	pc := policy.Context{SelfPatients: slices.Sorted(maps.Keys(f.self)), SharedConsent: f.sharedConsent, SharedDuty: f.sharedDuty}
	if need.Related {
		pc.RelatedSet = &cond.FactSet{Kinds: relatedKinds, ODS: a.id.Org, Since: a.relationshipSince().UnixMilli()}
	}
	if need.KnownToCouncil {
		pc.KnownSet = &cond.FactSet{Kinds: knownKinds, ODS: a.id.Org}
	}
	if need.Objected {
		pc.ObjectedSet = &cond.FactSet{Kinds: objectedKinds}
	}
	filter, err := a.engine.Filter(ctx, policy.Input{Action: action, Subject: a.subject(), Resource: policy.Resource{Type: typ}, Context: pc})
	if errors.Is(err, policy.ErrDenyAll) {
		return matchNothing, nil
	}
	if err != nil && !errors.Is(err, policy.ErrUntranslatable) {
		return nil, fmt.Errorf("policy filter for %s: %w", typ, err)
	}
	return filter, err
}

// pinnedPatients are the patients a search is limited to by a condition
// of its top-level conjunction on its patient parameter (sp.patient), or
// none.
func pinnedPatients(q *search.Query) []string {
	n := q.Filter
	if n == nil {
		return nil
	}
	conj := []*cond.Node{n}
	if n.Op == cond.And {
		conj = n.Kids
	}
	for _, c := range conj {
		if c.Field != "sp.patient" {
			continue
		}
		var vs []any
		switch c.Op {
		case cond.Eq:
			vs = []any{c.Value}
		case cond.In:
			vs = c.Values
		default:
			continue
		}
		var out []string
		for _, v := range vs {
			p, ok := v.(string)
			if !ok || !strings.HasPrefix(p, "Patient/") {
				return nil
			}
			out = append(out, p)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return nil
}

var matchNothing = cond.Never()

// redact removes the JSON pointers from a resource; with none it returns
// the stored bytes as they are.
func redact(stored []byte, obj map[string]any, pointers []string) ([]byte, error) {
	if len(pointers) == 0 {
		return stored, nil
	}
	for _, p := range pointers {
		fhir.RemovePointer(obj, p)
	}
	return fhir.MarshalResource(obj)
}

// decideHistory decides each version of a history page. A deletion has no
// content to decide on: it is shown only beside an allowed version of the
// same resource in the page.
func (a *access) decideHistory(ctx context.Context, versions []*store.Version) ([]*store.Version, error) {
	var live []*store.Version
	for _, v := range versions {
		if !v.Deleted {
			live = append(live, v)
		}
	}
	allowed, err := a.decidePage(ctx, policy.ActionHistory, live)
	if err != nil {
		return nil, err
	}
	ok := map[string]*store.Version{}
	shown := map[string]bool{}
	for _, v := range allowed {
		ok[v.ID+"/"+fmt.Sprint(v.VersionID)] = v
		shown[v.ID] = true
	}
	var out []*store.Version
	for _, v := range versions {
		switch {
		case v.Deleted && shown[v.ID]:
			out = append(out, v)
		case !v.Deleted && ok[v.ID+"/"+fmt.Sprint(v.VersionID)] != nil:
			out = append(out, ok[v.ID+"/"+fmt.Sprint(v.VersionID)])
		}
	}
	return out, nil
}

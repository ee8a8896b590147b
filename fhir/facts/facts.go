// Package facts derives the access facts about patients from the
// resources that establish them: which organisations a person has a care
// relationship with, which councils know them, which providers their care
// packages name, and whether they objected to sharing. The access policy
// decides on these facts (policy.Context); the storage engines keep them
// per patient, written in the same write as the resource they come from,
// so that a request reads them with one lookup instead of querying the
// clinical collections.
//
// A fact is derived from the same search values (search.Index) the
// gateway's relationship queries used to match, so the two agree:
//
//	Patient.generalPractitioner          -> gp            (org)
//	EpisodeOfCare.managingOrganization   -> episode       (org; any status: known to the council)
//	  ... with status active             -> episode-active
//	CareTeam.participant.member, active  -> care-team     (org)
//	Encounter.serviceProvider with date  -> encounter     (org, until = the end of its period)
//	ServiceRequest.performer             -> referral      (org; any status: the provider a package names)
//	  ... with status active             -> referral-active
//	Consent, category objection, active  -> objection     (no org)
//	Consent, category consent, permit    -> share, share-duty (see share.go:
//	                                        read from the resource itself)
//	Organization.identifier (ODS code)   -> ods           (org: itself; code: the ODS code; no patient)
//
// Each fact belongs to every patient in the resource's compartment. The
// ods facts are how a caller's organisation (an ODS code in its token)
// is found: a request looks up its organisation's Organization resources
// and their patients' facts in the same lookup.
// Encounter facts carry the end of the encounter, so the relationship
// window (-relationship-window) is applied when deciding, never when
// writing: a relationship ends by itself as time passes.
package facts

import (
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// Kinds of fact.
const (
	GP             = "gp"
	Episode        = "episode"
	EpisodeActive  = "episode-active"
	CareTeam       = "care-team"
	Encounter      = "encounter"
	Referral       = "referral"
	ReferralActive = "referral-active"
	Objection      = "objection"
	ODS            = "ods"
)

// OrgKinds are the kinds of fact that name an organisation about a
// patient.
var OrgKinds = []string{GP, Episode, EpisodeActive, CareTeam, Encounter, Referral, ReferralActive}

// ODSSystem is the identifier system of ODS organisation codes.
const ODSSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

// ObjectionToken is the Consent category (system|code) of an objection to
// sharing, as the social care translator writes it.
const ObjectionToken = "https://socialcare-fhir.example.org/CodeSystem/sharing-decision|objection"

// Fact is one access fact about a patient.
type Fact struct {
	Patient string // "Patient/<id>"
	Kind    string
	Org     string // "Organization/<id>"; empty for an objection
	// Until is when an encounter ends (the end of its period; open
	// periods end far in the future), in milliseconds since the epoch;
	// zero for other kinds.
	Until int64
	// Code is an ods fact's ODS code, a share fact's third party
	// ("system|value"); empty for other kinds.
	Code string
	// From is when a share begins (milliseconds since the epoch; 0 for
	// other kinds). A share fact's Until is when it ends (see share.go).
	From int64
}

// Types are the resource types that establish facts.
var Types = []string{"Patient", "EpisodeOfCare", "CareTeam", "Encounter", "ServiceRequest", "Consent", "Organization"}

// Establishes reports whether resources of type t establish facts.
func Establishes(t string) bool { return slices.Contains(Types, t) }

// Of returns the facts a resource establishes, in a stable order.
func Of(resourceType string, resource map[string]any) []Fact {
	if !Establishes(resourceType) {
		return nil
	}
	sp, patients := search.Index(resourceType, resource)
	id, _ := resource["id"].(string)
	return FromResource(resourceType, id, resource, sp, patients)
}

// FromResource is Of from the resource, its id, search values and
// compartment: the facts of FromIndex and the share facts, which come
// from elements no search parameter indexes (share.go).
func FromResource(resourceType, id string, resource map[string]any, sp bson.M, patients []string) []Fact {
	out := FromIndex(resourceType, id, sp, patients)
	if resourceType != "Consent" {
		return out
	}
	out = append(out, shares(resource, patients)...)
	sortFacts(out)
	return slices.Compact(out)
}

// FromIndex is Of from the resource's id, search values and compartment.
func FromIndex(resourceType, id string, sp bson.M, patients []string) []Fact {
	var out []Fact
	add := func(kind, param string, until int64) {
		for _, org := range orgs(sp, param) {
			for _, p := range patients {
				out = append(out, Fact{Patient: p, Kind: kind, Org: org, Until: until})
			}
		}
	}
	active := slices.Contains(tokens(sp, "status", "c"), "active")
	switch resourceType {
	case "Patient":
		add(GP, "general-practitioner", 0)
	case "EpisodeOfCare":
		add(Episode, "organization", 0)
		if active {
			add(EpisodeActive, "organization", 0)
		}
	case "CareTeam":
		if active {
			add(CareTeam, "participant", 0)
		}
	case "Encounter":
		if d := doc(sp["date"]); d != nil {
			if hi, ok := d["hi"].(bson.DateTime); ok {
				add(Encounter, "service-provider", int64(hi))
			}
		}
	case "ServiceRequest":
		add(Referral, "performer", 0)
		if active {
			add(ReferralActive, "performer", 0)
		}
	case "Organization":
		for _, sc := range tokens(sp, "identifier", "sc") {
			if code, ok := strings.CutPrefix(sc, ODSSystem+"|"); ok && code != "" {
				out = append(out, Fact{Kind: ODS, Org: "Organization/" + id, Code: code})
			}
		}
	case "Consent":
		if active && slices.Contains(tokens(sp, "category", "sc"), ObjectionToken) {
			for _, p := range patients {
				out = append(out, Fact{Patient: p, Kind: Objection})
			}
		}
	}
	sortFacts(out)
	return slices.Compact(out)
}

// sortFacts sorts facts by patient, kind, organisation, code and period.
func sortFacts(fs []Fact) {
	slices.SortFunc(fs, func(a, b Fact) int {
		if c := strings.Compare(a.Patient+"\x00"+a.Kind+"\x00"+a.Org+"\x00"+a.Code, b.Patient+"\x00"+b.Kind+"\x00"+b.Org+"\x00"+b.Code); c != 0 {
			return c
		}
		if a.From != b.From {
			return cmpInt(a.From, b.From)
		}
		return cmpInt(a.Until, b.Until)
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func orgs(sp bson.M, param string) []string {
	refs := strList(sp[param])
	var out []string
	for _, r := range refs {
		if strings.HasPrefix(r, "Organization/") {
			out = append(out, r)
		}
	}
	return out
}

func tokens(sp bson.M, param, part string) []string {
	return strList(doc(sp[param])[part])
}

// doc reads a document as search.Index gives it (bson.M) or as it comes
// back from MongoDB (bson.D).
func doc(v any) map[string]any {
	switch x := v.(type) {
	case bson.M:
		return x
	case map[string]any:
		return x
	case bson.D:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.Key] = e.Value
		}
		return m
	}
	return nil
}

// strList reads a list of strings as search.Index gives it ([]string) or
// as it comes back from a MongoDB document (bson.A), when a head read from
// the database has its facts written again.
func strList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case bson.A:
		return strs([]any(x))
	case []any:
		return strs(x)
	}
	return nil
}

func strs(vs []any) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Query selects facts: those about Patients (all patients when empty)
// that name one of Orgs or an organisation with the ODS code ODS, plus
// every objection about them, plus the ods facts of ODS (which say what
// those organisations are). Orgs and ODS empty select objections only.
// An engine answers with one fact per patient, kind and organisation (and
// code), whatever number of resources establish it, with the latest Until
// among them (see Merge).
type Query struct {
	Patients []string
	Orgs     []string
	ODS      string
	// Kinds, when set, limits the facts to these kinds (the ods facts of
	// ODS always come).
	Kinds []string
	// Actor, when set ("system|value"), also selects the share facts
	// naming that third party (about Patients, when set), if Kinds
	// allows.
	Actor string
}

// Wants reports whether q selects facts of kind k.
func (q Query) Wants(k string) bool { return len(q.Kinds) == 0 || slices.Contains(q.Kinds, k) }

// orgKinds are the OrgKinds q selects.
func (q Query) OrgKinds() []string {
	var out []string
	for _, k := range OrgKinds {
		if q.Wants(k) {
			out = append(out, k)
		}
	}
	return out
}

// Merge is fs with one fact per patient, kind, organisation, code and
// start (From), the one with the latest Until, in a stable order.
func Merge(fs []Fact) []Fact {
	type key struct {
		p, k, o, c string
		from       int64
	}
	latest := map[key]int64{}
	var keys []key
	for _, f := range fs {
		k := key{f.Patient, f.Kind, f.Org, f.Code, f.From}
		u, ok := latest[k]
		if !ok {
			keys = append(keys, k)
		}
		if !ok || f.Until > u {
			latest[k] = f.Until
		}
	}
	out := make([]Fact, len(keys))
	for i, k := range keys {
		out[i] = Fact{Patient: k.p, Kind: k.k, Org: k.o, Code: k.c, From: k.from, Until: latest[k]}
	}
	sortFacts(out)
	return out
}

// Orgs are the organisations the ods facts among fs name.
func Orgs(fs []Fact) []string {
	var out []string
	for _, f := range fs {
		if f.Kind == ODS && !slices.Contains(out, f.Org) {
			out = append(out, f.Org)
		}
	}
	return out
}

// Summary is what a request's facts say, per patient, for the caller's
// organisation.
type Summary struct {
	Related, Known, Objected, ProviderNamed map[string]bool
}

// Summarise reads facts as the policy needs them: an encounter counts
// when it ended after since (the start of the relationship window).
func Summarise(fs []Fact, since time.Time) Summary {
	s := Summary{Related: map[string]bool{}, Known: map[string]bool{}, Objected: map[string]bool{}, ProviderNamed: map[string]bool{}}
	cut := since.UnixMilli()
	for _, f := range fs {
		switch f.Kind {
		case GP, EpisodeActive, CareTeam, ReferralActive:
			s.Related[f.Patient] = true
		case Encounter:
			if f.Until > cut {
				s.Related[f.Patient] = true
			}
		case Objection:
			s.Objected[f.Patient] = true
		}
		switch f.Kind {
		case Episode:
			s.Known[f.Patient] = true
		case Referral:
			s.ProviderNamed[f.Patient] = true
		}
	}
	return s
}

// SetQuery is the facts query that answers a fact set (package cond).
func SetQuery(s *cond.FactSet) Query {
	return Query{ODS: s.ODS, Orgs: s.Orgs, Kinds: s.Kinds}
}

// Members are the patients of a fact set among the facts its SetQuery
// answered, sorted.
func Members(s *cond.FactSet, fs []Fact) []string {
	var out []string
	for _, f := range fs {
		if f.Patient != "" && slices.Contains(s.Kinds, f.Kind) && (f.Until == 0 || f.Until > s.Since) {
			out = append(out, f.Patient)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

package facts

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// Sharing with a named third party (issue 13). A Consent in the shape
// docs/consent-to-share.md describes gives one share fact per patient and
// record category it covers:
//
//	Patient: the person the Consent is about
//	Kind:    share (the person's consent) or share-duty (the council's
//	         legal duty, Care Act 2014 s42 safeguarding)
//	Org:     the record category covered (not an organisation: a share
//	         names a person by identifier, not an Organization resource)
//	Code:    the third party, "system|value" of the actor's identifier
//	From:    the start of provision.period (0: from the beginning)
//	Until:   the end of provision.period, exclusive: a date ends at the
//	         following midnight UTC (OpenEnd: no end)
//
// The period is applied when deciding, never when writing, so a share
// begins and ends by itself as time passes; a withdrawal (status inactive,
// provision.type deny) or a deletion leaves no fact.
const (
	Share     = "share"
	ShareDuty = "share-duty"
)

// ShareKinds are the kinds of share fact.
var ShareKinds = []string{Share, ShareDuty}

// Code systems and codes of the consent-to-share shape.
const (
	// SharingDecisionSystem is the project code system of Consent
	// categories: objection, consent (to share with a named third party).
	SharingDecisionSystem = policy.CodeSystemBase + "sharing-decision"
	// SharingBasisSystem is the project code system of the basis for a
	// share HL7 has no code for: safeguarding-duty.
	SharingBasisSystem = policy.CodeSystemBase + "sharing-basis"
	// BasisSafeguardingDuty: the council's duty to make safeguarding
	// enquiries (Care Act 2014 s42), recorded in Consent.policyRule.
	BasisSafeguardingDuty = "safeguarding-duty"
	// ActCodeSystem holds OPTIN, the policyRule of a share on the
	// person's consent.
	ActCodeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	// NHSNumberSystem identifies a third party who signs in with NHS
	// login (a carer, an advocate).
	NHSNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
)

// ConsentToShareToken is the Consent category (system|code) of consent to
// share with a named third party.
const ConsentToShareToken = SharingDecisionSystem + "|consent"

// OpenEnd is the Until of a share with no end.
const OpenEnd = int64(1<<62 - 1)

// IsShare reports whether k is a kind of share fact.
func IsShare(k string) bool { return k == Share || k == ShareDuty }

// Grant is what a share fact lets its third party see now.
type Grant struct {
	Patient  string
	Category string
	// Duty is true when the basis is the council's legal duty.
	Duty bool
}

// Grants are the share facts among fs in force at now (From <= now <
// Until), one per patient, category and basis, in a stable order.
func Grants(fs []Fact, now time.Time) []Grant {
	t := now.UnixMilli()
	var out []Grant
	for _, f := range fs {
		if IsShare(f.Kind) && f.From <= t && t < f.Until {
			out = append(out, Grant{Patient: f.Patient, Category: f.Org, Duty: f.Kind == ShareDuty})
		}
	}
	slices.SortFunc(out, func(a, b Grant) int {
		if c := strings.Compare(a.Patient+"\x00"+a.Category, b.Patient+"\x00"+b.Category); c != 0 {
			return c
		}
		return boolCmp(a.Duty, b.Duty)
	})
	return slices.Compact(out)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// shares are the share facts of a Consent: none unless it is active, a
// permit, of the consent-to-share category, names its third parties by
// identifier and the record categories it covers.
func shares(resource map[string]any, patients []string) []Fact {
	if resource["status"] != "active" || !hasCoding(resource["category"], SharingDecisionSystem, "consent") {
		return nil
	}
	prov, _ := resource["provision"].(map[string]any)
	if prov == nil || prov["type"] != "permit" {
		return nil
	}
	kind := Share
	if hasCoding(resource["policyRule"], SharingBasisSystem, BasisSafeguardingDuty) {
		kind = ShareDuty
	}
	from, until := int64(0), OpenEnd
	if p, _ := prov["period"].(map[string]any); p != nil {
		if s, _ := p["start"].(string); s != "" {
			if lo, _, ok := search.DateRange(s); ok {
				from = lo.UnixMilli()
			}
		}
		if e, _ := p["end"].(string); e != "" {
			if _, hi, ok := search.DateRange(e); ok {
				until = hi.UnixMilli() // half-open: the end's whole day (or second) is in
			}
		}
	}
	var cats []string
	for _, c := range anyList(prov["class"]) {
		m, _ := c.(map[string]any)
		if code, _ := m["code"].(string); m["system"] == policy.CategorySystem && code != "" {
			cats = append(cats, code)
		}
	}
	var out []Fact
	for _, a := range ActorIdentifiers(resource) {
		for _, cat := range cats {
			for _, p := range patients {
				out = append(out, Fact{Patient: p, Kind: kind, Org: cat, Code: a, From: from, Until: until})
			}
		}
	}
	return out
}

// ActorIdentifiers are the third parties a Consent's provision names by
// an identifier the gateway can match to a caller ("system|value"; an NHS
// number, for a person who signs in with NHS login).
func ActorIdentifiers(resource map[string]any) []string {
	prov, _ := resource["provision"].(map[string]any)
	var out []string
	for _, a := range anyList(prov["actor"]) {
		m, _ := a.(map[string]any)
		ref, _ := m["reference"].(map[string]any)
		id, _ := ref["identifier"].(map[string]any)
		sys, _ := id["system"].(string)
		val, _ := id["value"].(string)
		if sys == NHSNumberSystem && val != "" {
			out = append(out, sys+"|"+val)
		}
	}
	return out
}

func hasCoding(v any, system, code string) bool {
	concepts := anyList(v)
	if m, ok := v.(map[string]any); ok {
		concepts = []any{m}
	}
	for _, c := range concepts {
		cc, _ := c.(map[string]any)
		for _, cd := range anyList(cc["coding"]) {
			m, _ := cd.(map[string]any)
			if m["system"] == system && m["code"] == code {
				return true
			}
		}
	}
	return false
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

// SafeguardingDutyURI is the legal authority a share on the council's
// duty records in Consent.policy.uri: the Care Act 2014, section 42
// (enquiry by local authority), on legislation.gov.uk.
const SafeguardingDutyURI = "https://www.legislation.gov.uk/ukpga/2014/23/section/42"

// ParticipationSystem holds IRCP, the information recipient: the role of
// the third party a Consent shares with.
const ParticipationSystem = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

// notShareable are the record categories no Consent shares: they are not
// part of a person's care record.
var notShareable = []string{policy.CatDirectory, policy.CatAudit, policy.CatCohort}

// CheckShare reports every way a Consent of the consent-to-share category
// (ConsentToShareToken) departs from the shape the gateway reads
// (docs/consent-to-share.md), as issues naming each element; other
// Consents, and other resources, have none. A Consent that is not active
// is checked too, so that a withdrawal is still readable. A consent that
// lists no record categories (provision.class) records a third party
// without sharing anything through the gateway (an organisation the
// council shares with by other means); one that lists some must name its
// third party by NHS number.
func CheckShare(resourceType string, resource map[string]any) []fhir.Issue {
	if resourceType != "Consent" || !hasCoding(resource["category"], SharingDecisionSystem, "consent") {
		return nil
	}
	var out []fhir.Issue
	add := func(code, expr, msg string) {
		out = append(out, fhir.Issue{Severity: "error", Code: code, Diagnostics: msg, Expression: []string{expr}})
	}
	if !hasCoding(resource["scope"], "http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy") {
		add("value", "Consent.scope", "A consent to share has scope patient-privacy (http://terminology.hl7.org/CodeSystem/consentscope).")
	}
	if _, ok := resource["patient"].(map[string]any); !ok {
		add("required", "Consent.patient", "A consent to share names the person whose records it shares (Consent.patient).")
	}
	optIn := hasCoding(resource["policyRule"], ActCodeSystem, "OPTIN")
	duty := hasCoding(resource["policyRule"], SharingBasisSystem, BasisSafeguardingDuty)
	switch {
	case optIn == duty:
		add("value", "Consent.policyRule", "A consent to share records its basis in policyRule: OPTIN ("+ActCodeSystem+") for the person's consent, or "+
			BasisSafeguardingDuty+" ("+SharingBasisSystem+") for the council's legal duty; exactly one of them.")
	case duty && !hasPolicyURI(resource, SafeguardingDutyURI):
		add("required", "Consent.policy", "A share under the council's legal duty names the law in Consent.policy.uri: "+SafeguardingDutyURI+" (Care Act 2014 s42).")
	}
	prov, _ := resource["provision"].(map[string]any)
	if prov == nil {
		add("required", "Consent.provision", "A consent to share needs a provision: its type (permit, or deny to withdraw), the third party (actor) and the record categories (class).")
		return out
	}
	if t, _ := prov["type"].(string); t != "permit" && t != "deny" {
		add("required", "Consent.provision.type", "A consent to share's provision.type is permit, or deny when it is withdrawn.")
	}
	if _, nested := prov["provision"]; nested {
		add("not-supported", "Consent.provision.provision", "Nested provisions are not read by the gateway; record each share as its own Consent.")
	}
	actors := anyList(prov["actor"])
	if len(actors) != 1 {
		add("value", "Consent.provision.actor", "A consent to share names exactly one third party (provision.actor); record each third party as its own Consent.")
	}
	matchable := false
	for i, a := range actors {
		m, _ := a.(map[string]any)
		path := "Consent.provision.actor[" + strconv.Itoa(i) + "]"
		if !hasCoding(m["role"], ParticipationSystem, "IRCP") {
			add("value", path+".role", "The third party's role is IRCP, information recipient ("+ParticipationSystem+").")
		}
		ref, _ := m["reference"].(map[string]any)
		id, _ := ref["identifier"].(map[string]any)
		switch sys, _ := id["system"].(string); {
		case sys == NHSNumberSystem:
			matchable = true
		case sys == ODSSystem:
		case id != nil:
			add("value", path+".reference.identifier", "Name the third party by NHS number ("+NHSNumberSystem+") or, for an organisation, ODS code ("+ODSSystem+").")
		case ref["reference"] == nil:
			add("required", path+".reference", "Name the third party: by NHS number (reference.identifier) for a person who signs in with NHS login, or by a reference.")
		}
	}
	classes := anyList(prov["class"])
	if len(classes) > 0 && !matchable && len(actors) == 1 {
		add("business-rule", "Consent.provision.actor[0].reference.identifier", "The gateway shares record categories (provision.class) only with a third party it can recognise when they sign in: name them by NHS number ("+NHSNumberSystem+").")
	}
	for i, c := range classes {
		m, _ := c.(map[string]any)
		code, _ := m["code"].(string)
		path := "Consent.provision.class[" + strconv.Itoa(i) + "]"
		switch {
		case m["system"] != policy.CategorySystem:
			add("value", path+".system", "A record category's system is "+policy.CategorySystem+".")
		case !slices.Contains(policy.Categories(), code):
			add("code-invalid", path+".code", "Unknown record category; use one of: "+strings.Join(ShareableCategories(), ", ")+".")
		case slices.Contains(notShareable, code):
			add("business-rule", path+".code", "Record category "+code+" is not part of a person's record and cannot be shared; use one of: "+strings.Join(ShareableCategories(), ", ")+".")
		}
	}
	return out
}

// ShareableCategories are the record categories a Consent may share.
func ShareableCategories() []string {
	var out []string
	for _, c := range policy.Categories() {
		if !slices.Contains(notShareable, c) {
			out = append(out, c)
		}
	}
	return out
}

func hasPolicyURI(resource map[string]any, uri string) bool {
	for _, p := range anyList(resource["policy"]) {
		if m, _ := p.(map[string]any); m["uri"] == uri {
			return true
		}
	}
	return false
}

package socialcare

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/policy"
)

// medication translates help with one dose into a MedicationAdministration:
// completed when taken, not-done with the reason otherwise.
func (b *builder) medication(m *Medication) {
	b.begin(&m.Entry)
	au := b.actor(m.Author)
	out, _ := medicationOutcomes.canonical(m.Outcome)
	sup, _ := supportLevels.canonical(m.Support)
	med := concept(m.Medicine.Text)
	if m.Medicine.DMDCode != "" {
		med = concept(m.Medicine.Text, coding(SystemDMD, m.Medicine.DMDCode, m.Medicine.Text))
	}
	o := obj{
		"meta":                      meta("MedicationAdministration"),
		"identifier":                b.sourceIdentifier("medication", m.ID),
		"status":                    "completed",
		"category":                  concept("", coding(CSMedicationSupport, sup, supportDisplay[sup])),
		"medicationCodeableConcept": med,
		"subject":                   b.patient,
		"effectiveDateTime":         m.Time,
		"performer":                 list(obj{"actor": au.who}),
	}
	if out != "taken" {
		o["status"] = "not-done"
		o["statusReason"] = list(concept(m.Reason, coding(CSMedicationOutcome, out, outcomeDisplay[out])))
	} else if m.Reason != "" {
		o["note"] = list(obj{"text": m.Reason})
	}
	if m.VisitID != "" {
		o["context"] = b.visits[m.VisitID]
	}
	// R4 (mad-1) wants a dosage to carry a dose quantity (or a rate): the
	// record's words become one when they read as an amount ("Two
	// tablets", "5 ml"); otherwise they are kept as a note, with no
	// dosage.
	if q := doseQuantity(m.Dose); q != nil {
		d := obj{"text": m.Dose, "dose": q}
		if m.Route != "" {
			d["route"] = concept(m.Route)
		}
		o["dosage"] = d
	} else if m.Dose != "" || m.Route != "" {
		var words []string
		if m.Dose != "" {
			words = append(words, "Dose: "+m.Dose)
		}
		if m.Route != "" {
			words = append(words, "Route: "+m.Route)
		}
		notes, _ := o["note"].([]any)
		o["note"] = append(notes, obj{"text": strings.Join(words, "; ")})
	}
	r := b.add(gMedication, "MedicationAdministration", b.id("MedicationAdministration", m.ID), o)
	b.provenance("medication", &m.Entry, r)
}

// doseWords are the amounts a dose is said in.
var doseWords = map[string]float64{"half": 0.5, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}

// doseQuantity reads a dose said as an amount and a unit ("Two tablets",
// "2.5 ml", "500mg", "Half a tablet") as a Quantity (value and the unit as
// said, no code: the words are not a UCUM unit); nil when it is not one.
func doseQuantity(dose string) obj {
	f := strings.Fields(strings.TrimSpace(dose))
	if len(f) == 0 {
		return nil
	}
	var value float64
	var unit string
	if v, ok := doseWords[strings.ToLower(f[0])]; ok {
		value, unit = v, strings.Join(f[1:], " ")
		if v == 0.5 && len(f) > 1 && (strings.EqualFold(f[1], "a") || strings.EqualFold(f[1], "an")) {
			unit = strings.Join(f[2:], " ")
		}
	} else {
		num := f[0]
		i := strings.IndexFunc(num, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		rest := f[1:]
		if i > 0 { // "500mg"
			rest = append([]string{num[i:]}, rest...)
			num = num[:i]
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || v <= 0 {
			return nil
		}
		value, unit = v, strings.Join(rest, " ")
	}
	if unit == "" {
		return nil
	}
	return obj{"value": json.Number(strconv.FormatFloat(value, 'f', -1, 64)), "unit": unit}
}

var supportDisplay = map[string]string{"prompt": "Prompted", "assist": "Assisted", "administer": "Administered"}

var outcomeDisplay = map[string]string{"taken": "Taken", "refused": "Refused", "missed": "Missed", "not-available": "Not available"}

var incidentDisplay = map[string]string{
	"fall": "Fall", "injury": "Injury", "medication-error": "Medication error",
	"safeguarding-concern": "Safeguarding concern", "other": "Other incident",
}

// incident translates an incident or accident into an AdverseEvent, plus a
// Flag when it raises a safeguarding concern.
func (b *builder) incident(in *Incident) {
	b.begin(&in.Entry)
	au := b.actor(in.Author)
	typ, _ := incidentTypes.canonical(in.Type)
	harm, _ := harmLevels.canonical(in.Harm)
	codings := []obj{coding(CSIncidentType, typ, incidentDisplay[typ])}
	if typ == "fall" {
		codings = append(codings, coding(SystemSNOMED, snomedFall, "Fall"))
	}
	exts := []any{
		ext(ExtHarm, "valueCoding", coding(CSHarm, harm, "")),
		ext(ExtIncidentNarrative, "valueString", in.Description),
	}
	if in.ActionTaken != "" {
		exts = append(exts, ext(ExtActionTaken, "valueString", in.ActionTaken))
	}
	for _, p := range in.PeopleInformed {
		exts = append(exts, ext(ExtPeopleInformed, "valueString", p))
	}
	o := obj{
		"identifier":   b.sourceIdentifier("incident", in.ID)[0],
		"extension":    exts,
		"actuality":    "actual",
		"event":        concept(incidentDisplay[typ], codings...),
		"subject":      b.patient,
		"date":         in.Time,
		"recordedDate": in.Recorded,
		"recorder":     au.who,
	}
	switch harm {
	case "low":
		o["severity"] = concept("", coding("http://terminology.hl7.org/CodeSystem/adverse-event-severity", "mild", "Mild"))
	case "moderate":
		o["severity"] = concept("", coding("http://terminology.hl7.org/CodeSystem/adverse-event-severity", "moderate", "Moderate"))
	case "severe", "death":
		o["severity"] = concept("", coding("http://terminology.hl7.org/CodeSystem/adverse-event-severity", "severe", "Severe"))
	}
	if harm == "death" {
		o["outcome"] = concept("", coding("http://terminology.hl7.org/CodeSystem/adverse-event-outcome", "fatal", "Fatal"))
	}
	if in.VisitID != "" {
		o["encounter"] = b.visits[in.VisitID]
	}
	safeguarding := typ == "safeguarding-concern"
	if safeguarding {
		setMeta(o, "", secRestricted(), secSafeguarding())
	}
	targets := []obj{b.add(gAdverseEvent, "AdverseEvent", b.id("AdverseEvent", in.ID), o)}
	if safeguarding {
		f := obj{
			"identifier": b.sourceIdentifier("incident", in.ID),
			"status":     "active",
			"category":   list(concept("", coding(csFlagCategory, "safety", "Safety"))),
			"code":       concept("Safeguarding concern", coding(CSFlagCode, "safeguarding-concern", "Safeguarding concern")),
			"subject":    b.patient,
			"period":     obj{"start": in.Time},
			"author":     au.who,
		}
		if in.VisitID != "" {
			f["encounter"] = b.visits[in.VisitID]
		}
		setMeta(f, "", secRestricted(), secSafeguarding())
		targets = append(targets, b.add(gFlag, "Flag", b.id("Flag", "incident|"+in.ID), f))
	}
	b.provenance("incident", &in.Entry, targets...)
}

var changeCodes = map[string][2]string{
	"circumstances":      {"change-in-circumstances", "Change in circumstances"},
	"health":             {"change-in-health", "Change in health"},
	"physical-condition": {"change-in-physical-condition", "Change in physical condition"},
	"care-needs":         {"change-in-care-needs", "Change in care needs"},
}

// change translates a change in circumstances or health into an
// Observation marked fact or opinion.
func (b *builder) change(c *Change) {
	b.begin(&c.Entry)
	au := b.actor(c.Author)
	typ, _ := changeTypes.canonical(c.Type)
	kind := "fact"
	if c.Kind != "" {
		kind, _ = statementKinds.canonical(c.Kind)
	}
	cats := []any{statementCategory(kind)}
	if typ == "circumstances" {
		cats = append(cats, concept("", coding(csObsCategory, "social-history", "Social History")))
	}
	cc := changeCodes[typ]
	o := obj{
		"identifier":        b.sourceIdentifier("change", c.ID),
		"status":            "final",
		"category":          cats,
		"code":              concept("", coding(CSObservation, cc[0], cc[1])),
		"subject":           b.patient,
		"effectiveDateTime": c.Time,
		"performer":         list(au.who),
		"valueString":       c.Description,
	}
	if kind == "opinion" {
		setMeta(o, "Observation", secOpinion())
	} else {
		setMeta(o, "Observation")
	}
	r := b.add(gChangeObservation, "Observation", b.id("Observation", "change|"+c.ID), o)
	b.provenance("change", &c.Entry, r)
}

// transaction translates money handled on the person's behalf into a Basic
// resource labelled personal-finance.
func (b *builder) transaction(t *Transaction) {
	b.begin(&t.Entry)
	au := b.actor(t.Author)
	handler := au
	if t.HandledBy != nil {
		handler = b.actor(t.HandledBy)
	}
	dir, _ := directions.canonical(t.Direction)
	exts := []any{
		ext(ExtAmount, "valueMoney", obj{"value": t.Amount, "currency": "GBP"}),
		ext(ExtDirection, "valueCoding", coding(CSTransactionDir, dir, "")),
		ext(ExtPurpose, "valueString", t.Purpose),
	}
	if t.ReceiptReference != "" {
		exts = append(exts, ext(ExtReceipt, "valueString", t.ReceiptReference))
	}
	o := obj{
		"identifier": b.sourceIdentifier("transaction", t.ID),
		"extension":  exts,
		"code":       concept("", coding(CSBasicType, "financial-transaction", "Financial transaction on the person's behalf")),
		"subject":    b.patient,
		"created":    t.Date,
		"author":     handler.who,
	}
	setMeta(o, "", secFinance())
	r := b.add(gBasic, "Basic", b.id("Basic", t.ID), o)
	b.provenance("transaction", &t.Entry, r)
}

// sharing translates an objection to sharing, or consent to share with a
// named third party, into a Consent.
func (b *builder) sharing(s *SharingDecision) {
	b.begin(&s.Entry)
	typ, _ := decisionTypes.canonical(s.Type)
	provision := obj{"type": "deny"}
	rule := coding(csActCode, "OPTOUT", "opt-out")
	display := "Objection to sharing"
	var security []obj
	targets := make([]obj, 0, 2)
	var policies []any
	if typ == "consent" {
		provision["type"] = "permit"
		rule = coding(csActCode, "OPTIN", "opt-in")
		if basis, _ := sharingBases.canonical(s.Basis); basis == facts.BasisSafeguardingDuty {
			rule = coding(facts.SharingBasisSystem, facts.BasisSafeguardingDuty, "Council's duty to make safeguarding enquiries")
			policies = list(obj{"uri": facts.SafeguardingDutyURI})
		}
		display = "Consent to share with a third party"
		tp := b.thirdParty(s)
		targets = append(targets, tp)
		ref := obj{"reference": tp["reference"]}
		if s.ThirdParty.NHSNumber != "" {
			// The identifier is how the third party is recognised when
			// they sign in (fhir/facts share.go).
			ref["identifier"] = obj{"system": facts.NHSNumberSystem, "value": s.ThirdParty.NHSNumber}
		}
		provision["actor"] = list(obj{
			"role":      concept("", coding(csParticipation, "IRCP", "information recipient")),
			"reference": ref,
		})
		if len(s.Covers) > 0 {
			classes := make([]obj, len(s.Covers))
			for i, c := range s.Covers {
				classes[i] = obj{"system": policy.CategorySystem, "code": c}
			}
			provision["class"] = list(classes...)
		}
		security = append(security, secThirdParty())
	}
	if s.Start != "" || s.End != "" {
		provision["period"] = period(s.Start, s.End)
	}
	if s.Purpose != "" {
		provision["extension"] = list(ext(ExtSharingPurpose, "valueString", s.Purpose))
	}
	o := obj{
		"identifier": b.sourceIdentifier("sharing-decision", s.ID),
		"status":     "active",
		"scope":      concept("", coding(csConsentScope, "patient-privacy", "Privacy Consent")),
		"category": list(
			concept("", coding(csLOINC, "59284-0", "Patient Consent")),
			concept("", coding(CSSharingDecision, typ, display))),
		"patient":      b.patient,
		"dateTime":     s.Date,
		"performer":    list(b.patient),
		"organization": list(b.senderOrg),
		"policyRule":   concept("", rule),
		"provision":    provision,
	}
	if policies != nil {
		o["policy"] = policies
	}
	setMeta(o, "", security...)
	r := b.add(gConsent, "Consent", b.id("Consent", s.ID), o)
	b.provenance("sharing-decision", &s.Entry, append([]obj{r}, targets...)...)
}

func (b *builder) thirdParty(s *SharingDecision) obj {
	tp := s.ThirdParty
	if kind, _ := thirdPartyKinds.canonical(tp.Kind); kind == "person" {
		ids := b.sourceIdentifier("third-party", s.ID)
		if tp.NHSNumber != "" {
			ids = append(ids, obj{"system": facts.NHSNumberSystem, "value": tp.NHSNumber})
		}
		o := obj{
			"identifier": ids,
			"patient":    b.patient,
			"name":       list(obj{"text": tp.Name}),
		}
		if tp.Relationship != "" {
			o["relationship"] = list(concept(tp.Relationship))
		}
		setMeta(o, "RelatedPerson", secThirdParty())
		return b.add(gRelatedPerson, "RelatedPerson", b.id("RelatedPerson", "third-party|"+s.ID), o)
	}
	if tp.ODS != "" {
		return b.organisation(tp.ODS, tp.Name)
	}
	return b.addOnce(gOrganization, "Organization", b.id("Organization", "third-party|"+s.ID), func() obj {
		return obj{"identifier": b.sourceIdentifier("third-party", s.ID), "name": tp.Name}
	})
}

package socialcare

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/socialcare-fhir/gateway/fhir"
)

// obj is a FHIR JSON object under construction.
type obj = map[string]any

// group is a position in the output order: resources that others reference
// come first, Provenance last.
type group int

const (
	gOrganization group = iota
	gPractitioner
	gPractitionerRole
	gPatient
	gRelatedPerson
	gEpisode
	gPlanObservation
	gGoal
	gServiceRequest
	gCarePlan
	gAssessment
	gEncounter
	gNoteObservation
	gMedication
	gAdverseEvent
	gFlag
	gChangeObservation
	gBasic
	gConsent
	gProvenance
	numGroups
)

// builder accumulates the resources of one record.
type builder struct {
	rec    *Record
	sender string
	// writer is the ODS code of the organisation that wrote the entry being
	// translated: its author's organisation, else the sender.
	writer string
	groups [numGroups][]fhir.Resource
	seen   map[string]bool // ids of shared resources already emitted
	actors map[Author]actor
	byRef  map[string]obj // "Type/id" -> resource

	patient   obj
	senderOrg obj
	episode   obj
	lines     map[string]obj // package line id -> ServiceRequest reference
	visits    map[string]obj // visit id -> Encounter reference
}

// id derives a resource id from the sending organisation, a kind and the
// source's key: 32 lowercase hex characters of SHA-256, a valid FHIR id.
func (b *builder) id(kind, key string) string {
	h := sha256.New()
	h.Write([]byte(b.sender))
	h.Write([]byte{'|'})
	h.Write([]byte(kind))
	h.Write([]byte{'|'})
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// groupCategories is an immutable table: the record category (the access
// policy's vocabulary, CSRecordCategory) a group's resources are tagged
// with. Groups whose resource type alone names its category (Patient,
// Flag, Consent, Provenance, ...) are not tagged.
var groupCategories = [numGroups]string{
	gPlanObservation:   CategoryCarePlan,
	gGoal:              CategoryCarePlan,
	gEpisode:           CategoryCarePackage,
	gServiceRequest:    CategoryCarePackage,
	gCarePlan:          CategoryCarePlan,
	gAssessment:        CategoryCarePlan,
	gEncounter:         CategoryVisit,
	gNoteObservation:   CategoryVisit,
	gChangeObservation: CategoryCarePlan,
	gBasic:             CategoryFinancial,
}

// begin makes e's author's organisation the writer of the resources that
// follow, until the next entry.
func (b *builder) begin(e *Entry) {
	b.writer = ""
	if e.Author != nil {
		b.writer = e.Author.Organisation
	}
}

// tag sets meta.tag: the organisation that wrote the resource
// (CSSourceOrganisation) and, for groups that need one, its record category
// (CSRecordCategory). Organizations are the sender's: it is the sender that
// names them.
func (b *builder) tag(g group, o obj) {
	src := b.writer
	if src == "" || g == gOrganization {
		src = b.sender
	}
	tags := []any{coding(CSSourceOrganisation, src, "")}
	if cat := groupCategories[g]; cat != "" {
		tags = append(tags, coding(CSRecordCategory, cat, ""))
	}
	m, _ := o["meta"].(obj)
	if m == nil {
		m = obj{}
		o["meta"] = m
	}
	m["tag"] = tags
}

// add appends a resource to its group, giving it resourceType, id and its
// meta.tag.
func (b *builder) add(g group, typ, id string, o obj) obj {
	o["resourceType"] = typ
	o["id"] = id
	b.tag(g, o)
	b.groups[g] = append(b.groups[g], fhir.Resource{Type: typ, ID: id, Object: o})
	b.byRef[typ+"/"+id] = o
	return ref(typ, id)
}

// lookup returns the resource a reference made by this builder points at.
func (b *builder) lookup(r obj) obj {
	s, _ := r["reference"].(string)
	return b.byRef[s]
}

// addOnce adds a shared resource (organisation, practitioner) the first time
// its id is seen and returns its reference either way.
func (b *builder) addOnce(g group, typ, id string, mk func() obj) obj {
	key := typ + "/" + id
	if !b.seen[key] {
		b.seen[key] = true
		b.add(g, typ, id, mk())
	}
	return ref(typ, id)
}

func (b *builder) resources() []fhir.Resource {
	n := 0
	for _, g := range b.groups {
		n += len(g)
	}
	out := make([]fhir.Resource, 0, n)
	for _, g := range b.groups {
		out = append(out, g...)
	}
	return out
}

// sourceIdentifier is the identifier that carries a source id.
func (b *builder) sourceIdentifier(kind, value string) []any {
	return []any{obj{"system": SystemSourceID + b.sender + "/" + kind, "value": value}}
}

func ref(typ, id string) obj { return obj{"reference": typ + "/" + id} }

func coding(system, code, display string) obj {
	c := obj{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

func concept(text string, codings ...obj) obj {
	c := obj{}
	if len(codings) > 0 {
		l := make([]any, len(codings))
		for i, x := range codings {
			l[i] = x
		}
		c["coding"] = l
	}
	if text != "" {
		c["text"] = text
	}
	return c
}

func list(items ...obj) []any {
	l := make([]any, len(items))
	for i, x := range items {
		l[i] = x
	}
	return l
}

func strs(items []string) []any {
	l := make([]any, len(items))
	for i, x := range items {
		l[i] = x
	}
	return l
}

func period(start, end string) obj {
	p := obj{}
	if start != "" {
		p["start"] = start
	}
	if end != "" {
		p["end"] = end
	}
	return p
}

func ext(url, valueKey string, value any) obj {
	return obj{"url": url, valueKey: value}
}

// meta returns a meta element with an optional UK Core profile and security
// labels, or nil when both are empty.
func meta(profile string, security ...obj) obj {
	m := obj{}
	if profile != "" {
		m["profile"] = []any{ukCoreProfile + profile}
	}
	if len(security) > 0 {
		m["security"] = list(security...)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func setMeta(o obj, profile string, security ...obj) {
	if m := meta(profile, security...); m != nil {
		o["meta"] = m
	}
}

// Security labels.
func secRestricted() obj   { return coding(csConfidentiality, "R", "restricted") }
func secPatientLoc() obj   { return coding(csActCode, "PATLOC", "patient location") }
func secSafeguarding() obj { return coding(CSSecurity, LabelSafeguarding, "Safeguarding") }
func secFinance() obj      { return coding(CSSecurity, LabelPersonalFinance, "Personal finance") }
func secOpinion() obj      { return coding(CSSecurity, LabelProfessionalOpinion, "Professional opinion") }
func secThirdParty() obj   { return coding(CSSecurity, LabelThirdParty, "Third-party confidential") }

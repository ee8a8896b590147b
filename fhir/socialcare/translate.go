package socialcare

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Translate turns a record that [Decode] accepted into FHIR R4 resources.
//
// Every resource has an id derived from the sending organisation and the
// source's own ids, and its content depends only on the record, so sending
// the same record again yields identical resources. Resources come in
// dependency order: Organization, Practitioner, PractitionerRole, Patient,
// RelatedPerson, EpisodeOfCare, then the entries, and one Provenance per
// entry last. They carry no meta.versionId or meta.lastUpdated: the store
// sets those.
func Translate(rec *Record) ([]fhir.Resource, error) {
	if rec == nil {
		return nil, errors.New("socialcare: translate: nil record")
	}
	if rec.Source.Organisation == "" || rec.Person.ID == "" {
		return nil, errors.New("socialcare: translate: record has not been validated (no sending organisation or person id)")
	}
	b := &builder{
		rec:    rec,
		sender: rec.Source.Organisation,
		seen:   make(map[string]bool, 8),
		actors: make(map[Author]actor, 4),
		byRef:  make(map[string]obj, 64),
		lines:  make(map[string]obj, len(rec.CarePackage)),
		visits: make(map[string]obj, len(rec.Visits)),
	}
	b.senderOrg = b.organisation(rec.Source.Organisation, rec.Source.OrganisationName)
	// Providers first, so that an organisation that is both a provider and
	// an author's employer carries its CQC location id whatever the order.
	for i := range rec.CarePackage {
		if p := rec.CarePackage[i].Provider; p != nil {
			b.provider(p)
		}
	}
	b.person(&rec.Person)
	if rec.Episode != nil {
		b.episodeOfCare(rec.Episode)
	}
	for i := range rec.CarePackage {
		b.packageLine(&rec.CarePackage[i])
	}
	if rec.CarePlan != nil {
		b.carePlan(rec.CarePlan)
	}
	for i := range rec.Assessments {
		b.assessment(&rec.Assessments[i])
	}
	for i := range rec.Visits {
		b.visit(&rec.Visits[i])
	}
	for i := range rec.Medications {
		b.medication(&rec.Medications[i])
	}
	for i := range rec.Incidents {
		b.incident(&rec.Incidents[i])
	}
	for i := range rec.Changes {
		b.change(&rec.Changes[i])
	}
	for i := range rec.Transactions {
		b.transaction(&rec.Transactions[i])
	}
	for i := range rec.SharingDecisions {
		b.sharing(&rec.SharingDecisions[i])
	}
	return b.resources(), nil
}

// organisation returns a reference to the Organization with an ODS code.
func (b *builder) organisation(ods, name string) obj {
	return b.addOnce(gOrganization, "Organization", b.id("Organization", "ods|"+ods), func() obj {
		o := obj{"identifier": list(obj{"system": SystemODS, "value": ods})}
		if name != "" {
			o["name"] = name
		}
		setMeta(o, "Organization")
		return o
	})
}

// actor is who did something: a PractitionerRole and its organisation, or
// only the organisation when no person is named.
type actor struct {
	who  obj // PractitionerRole, or Organization
	org  obj // Organization
	role string
}

func (b *builder) actor(a *Author) actor {
	if a == nil { // only in records that did not pass Decode
		return actor{who: b.senderOrg, org: b.senderOrg}
	}
	if got, ok := b.actors[*a]; ok {
		return got
	}
	got := b.newActor(a)
	b.actors[*a] = got
	return got
}

func (b *builder) newActor(a *Author) actor {
	// A practitioner is written by the organisation they work for.
	prev := b.writer
	b.writer = a.Organisation
	defer func() { b.writer = prev }()
	org := b.organisation(a.Organisation, a.OrganisationName)
	if a.ID == "" {
		return actor{who: org, org: org, role: a.Role}
	}
	prac := b.addOnce(gPractitioner, "Practitioner", b.id("Practitioner", a.ID), func() obj {
		o := obj{"identifier": b.sourceIdentifier("staff", a.ID)}
		if a.Name != "" {
			o["name"] = list(obj{"text": a.Name})
		}
		setMeta(o, "Practitioner")
		return o
	})
	key := a.ID + "|" + a.Organisation + "|" + a.SDSJobRole + "|" + a.Role
	role := b.addOnce(gPractitionerRole, "PractitionerRole", b.id("PractitionerRole", key), func() obj {
		o := obj{"practitioner": prac, "organization": org}
		if a.Role != "" || a.SDSJobRole != "" {
			c := concept(a.Role)
			if a.SDSJobRole != "" {
				c = concept(a.Role, coding(SystemSDSJobRole, a.SDSJobRole, ""))
			}
			o["code"] = list(c)
		}
		setMeta(o, "PractitionerRole")
		return o
	})
	return actor{who: role, org: org, role: a.Role}
}

// provenance records who made an entry, when, and its signature.
func (b *builder) provenance(kind string, e *Entry, targets ...obj) {
	au := b.actor(e.Author)
	agent := obj{
		"type": concept("", coding(csProvAgentType, "author", "Author")),
		"who":  au.who,
	}
	if au.who["reference"] != au.org["reference"] {
		agent["onBehalfOf"] = au.org
	}
	if au.role != "" {
		agent["role"] = list(concept(au.role))
	}
	entities := []any{obj{"role": "source", "what": obj{"identifier": b.sourceIdentifier(kind, e.ID)[0]}}}
	if rid := b.rec.Source.RecordID; rid != "" {
		entities = append(entities, obj{"role": "source", "what": obj{"identifier": b.sourceIdentifier("record", rid)[0]}})
	}
	// The person's record is what every entry adds to: the Patient is a
	// target too, so that Provenance?patient= finds an entry's provenance
	// and access to it follows the person's record.
	if b.patient != nil && !slices.ContainsFunc(targets, func(t obj) bool { return t["reference"] == b.patient["reference"] }) {
		targets = append(slices.Clone(targets), b.patient)
	}
	o := obj{
		"target":   list(targets...),
		"recorded": e.Recorded,
		"agent":    list(agent),
		"entity":   entities,
	}
	if sec := b.labelsOf(targets); len(sec) > 0 {
		o["meta"] = obj{"security": sec}
	}
	if e.Signed {
		o["signature"] = list(obj{
			"type": list(coding("urn:iso-astm:E1762-95:2013", "1.2.840.10065.1.12.1.1", "Author's Signature")),
			"when": e.SignedAt,
			"who":  au.who,
		})
	}
	b.add(gProvenance, "Provenance", b.id("Provenance", kind+"|"+e.ID), o)
}

func (b *builder) person(p *Person) {
	b.begin(&p.Entry)
	if b.rec.Subject != "" {
		// The record joins a Patient already held: its entries point at
		// it, and the sender's own view of the person makes no Patient.
		typ, id, _ := strings.Cut(b.rec.Subject, "/")
		b.patient = ref(typ, id)
	} else {
		b.patient = b.add(gPatient, "Patient", b.id("Patient", p.ID), b.patientObject(p))
	}
	b.personEntries(p)
}

// patientObject is the Patient the record's person makes.
func (b *builder) patientObject(p *Person) obj {
	ids := []any{}
	if p.NHSNumber != "" {
		nhs := obj{"system": SystemNHSNumber, "value": p.NHSNumber}
		if code, ok := nhsStatusCode(p.NHSNumberStatus); ok {
			nhs["extension"] = list(ext(ExtNHSVerify, "valueCodeableConcept", concept("", coding(CSNHSVerify, code, ""))))
		}
		ids = append(ids, nhs)
	}
	ids = append(ids, b.sourceIdentifier("person", p.ID)...)
	gender, _ := genders.canonical(p.Gender)
	o := obj{
		"identifier":           ids,
		"gender":               gender,
		"birthDate":            p.BirthDate,
		"managingOrganization": b.senderOrg,
	}
	if p.Name != nil {
		name := obj{"use": "official", "family": p.Name.Family}
		if len(p.Name.Given) > 0 {
			name["given"] = strs(p.Name.Given)
		}
		o["name"] = list(name)
	}
	var security []obj
	if a := p.Address; a != nil {
		ad := obj{"use": "home", "postalCode": a.Postcode}
		if len(a.Lines) > 0 {
			ad["line"] = strs(a.Lines)
		}
		if a.City != "" {
			ad["city"] = a.City
		}
		o["address"] = list(ad)
		if a.Restricted {
			security = append(security, secRestricted(), secPatientLoc())
		}
	}
	if p.GPPractice != "" {
		o["generalPractitioner"] = list(b.organisation(p.GPPractice, ""))
	}
	if p.DeathDate != "" {
		o["deceasedDateTime"] = p.DeathDate
	}
	if c := p.Communication; c != nil {
		if c.Language != "" {
			o["communication"] = list(obj{
				"language":  concept("", coding("urn:ietf:bcp:47", c.Language, "")),
				"preferred": true,
			})
		}
		if c.InterpreterNeeded {
			o["extension"] = list(ext("http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired", "valueBoolean", true))
		}
	}
	setMeta(o, "Patient", security...)
	return o
}

// personEntries are what the person's entry makes besides the Patient:
// contacts, the primary support reason, communication needs.
func (b *builder) personEntries(p *Person) {
	targets := []obj{b.patient}
	for i := range p.Contacts {
		targets = append(targets, b.contact(&p.Contacts[i]))
	}
	if p.PrimarySupportReason != "" {
		psr, _ := cldPrimarySupportReasons.canonical(p.PrimarySupportReason)
		targets = append(targets, b.add(gPlanObservation, "Observation", b.id("Observation", "psr|"+p.ID), obj{
			"meta":                 meta("Observation"),
			"status":               "final",
			"category":             list(concept("", coding(csObsCategory, "social-history", "Social History"))),
			"code":                 concept("", coding(CSObservation, "primary-support-reason", "Primary support reason")),
			"subject":              b.patient,
			"valueCodeableConcept": concept("", coding(CSCLDPSR, psr, psr)),
		}))
	}
	if c := p.Communication; c != nil {
		au := b.actor(p.Author)
		for i, need := range c.Needs {
			targets = append(targets, b.add(gFlag, "Flag", b.id("Flag", "communication|"+p.ID+"|"+strconv.Itoa(i)), obj{
				"status":  "active",
				"code":    concept(need, coding(CSFlagCode, "communication-need", "Communication need")),
				"subject": b.patient,
				"author":  au.who,
			}))
		}
	}
	b.provenance("person", &p.Entry, targets...)
}

func (b *builder) contact(c *Contact) obj {
	rels := make([]any, 0, len(c.Roles)+1)
	for _, r := range c.Roles {
		r, _ = contactRoles.canonical(r)
		switch r {
		case "next-of-kin":
			rels = append(rels, concept("", coding(csRoleClass, "NOK", "next of kin")))
		case "unpaid-carer":
			rels = append(rels, concept("", coding(CSRelationship, r, "Unpaid carer")))
		case "lasting-power-of-attorney":
			rels = append(rels, concept("", coding(CSRelationship, r, "Lasting power of attorney")))
		}
	}
	if c.Relationship != "" {
		rels = append(rels, concept(c.Relationship))
	}
	name := obj{"family": c.Name.Family}
	if len(c.Name.Given) > 0 {
		name["given"] = strs(c.Name.Given)
	}
	o := obj{
		"identifier":   b.sourceIdentifier("contact", c.ID),
		"active":       true,
		"patient":      b.patient,
		"relationship": rels,
		"name":         list(name),
	}
	if c.Phone != "" {
		o["telecom"] = list(obj{"system": "phone", "value": c.Phone})
	}
	if c.LPAType != "" {
		t, _ := lpaTypes.canonical(c.LPAType)
		o["extension"] = list(ext(ExtLPAType, "valueCode", t))
	}
	setMeta(o, "RelatedPerson")
	return b.add(gRelatedPerson, "RelatedPerson", b.id("RelatedPerson", c.ID), o)
}

func (b *builder) episodeOfCare(e *Episode) {
	b.begin(&e.Entry)
	status, _ := episodeStatuses.canonical(e.Status)
	b.episode = b.add(gEpisode, "EpisodeOfCare", b.id("EpisodeOfCare", e.ID), obj{
		"identifier":           b.sourceIdentifier("episode", e.ID),
		"status":               status,
		"type":                 list(concept("", coding(SystemSNOMED, snomedSocialService, "Social services"))),
		"patient":              b.patient,
		"managingOrganization": b.senderOrg,
		"period":               period(e.Start, e.End),
	})
	b.provenance("episode", &e.Entry, b.episode)
}

// labelsOf returns the security labels of the target resources, each once,
// so that an entry's Provenance is as protected as the entry.
func (b *builder) labelsOf(targets []obj) []any {
	var out []any
	seen := map[string]bool{}
	for _, t := range targets {
		r := b.lookup(t)
		m, _ := r["meta"].(obj)
		sec, _ := m["security"].([]any)
		for _, l := range sec {
			c := l.(obj)
			key := c["system"].(string) + "|" + c["code"].(string)
			if !seen[key] {
				seen[key] = true
				out = append(out, l)
			}
		}
	}
	return out
}

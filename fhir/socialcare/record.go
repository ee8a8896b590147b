package socialcare

import (
	"encoding/json"
	"slices"
)

// SchemaVersion is the version of the social care record format. Every
// record carries it in "schemaVersion"; a record of another version is
// rejected.
const SchemaVersion = "1.0"

// Record is one person's social care record as a social care system sends
// it. The JSON Schema returned by [Schema] describes the same fields; the
// field documentation there and in docs/social-care-record.md is the
// contract.
//
// Dates are "YYYY-MM-DD"; times are RFC 3339 date-times with a UTC offset.
// Every entry carries the source system's own id, which becomes a FHIR
// identifier, so re-sending an entry updates it instead of duplicating it.
type Record struct {
	SchemaVersion    string            `json:"schemaVersion"`
	Source           Source            `json:"source"`
	Person           Person            `json:"person"`
	Episode          *Episode          `json:"episode,omitempty"`
	CarePlan         *CarePlan         `json:"carePlan,omitempty"`
	CarePackage      []PackageLine     `json:"carePackage,omitempty"`
	Assessments      []Assessment      `json:"assessments,omitempty"`
	Visits           []Visit           `json:"visits,omitempty"`
	Medications      []Medication      `json:"medications,omitempty"`
	Incidents        []Incident        `json:"incidents,omitempty"`
	Changes          []Change          `json:"changes,omitempty"`
	Transactions     []Transaction     `json:"transactions,omitempty"`
	SharingDecisions []SharingDecision `json:"sharingDecisions,omitempty"`

	// Subject, when set ("Patient/<id>"), is the Patient already held
	// that the record is about: the record's entries join that person's
	// record and no Patient of the sender's own is made (a commissioned
	// provider's record joins the council's Patient). Never read from
	// the JSON: the gateway sets it from what it holds.
	Subject string `json:"-"`
}

// Source says who sent the record.
type Source struct {
	// System is the name of the sending software.
	System string `json:"system"`
	// Organisation is the sending organisation's ODS code.
	Organisation string `json:"organisation"`
	// OrganisationName is the sending organisation's name.
	OrganisationName string `json:"organisationName,omitempty"`
	// RecordID is the sending system's id for this record, if it has one.
	RecordID string `json:"recordId,omitempty"`
	// SentAt is when the record was sent. It is not copied into resources,
	// so an unchanged re-send does not create new versions.
	SentAt string `json:"sentAt"`
}

// Entry holds what every entry of a record carries: the source's own id,
// who recorded it, when, and whether and when it was signed.
type Entry struct {
	ID       string  `json:"id"`
	Author   *Author `json:"author"`
	Recorded string  `json:"recorded"`
	Signed   bool    `json:"signed,omitempty"`
	SignedAt string  `json:"signedAt,omitempty"`
}

// Author is a member of staff, or an organisation when no person is known.
type Author struct {
	// ID is the source system's staff id.
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
	// SDSJobRole is an NHS SDS job role code such as "R1460", if known.
	SDSJobRole string `json:"sdsJobRole,omitempty"`
	// Organisation is the ODS code of the organisation the author works for.
	Organisation     string `json:"organisation"`
	OrganisationName string `json:"organisationName,omitempty"`
}

// Name is a person's name.
type Name struct {
	Given  []string `json:"given,omitempty"`
	Family string   `json:"family"`
}

// Address is a postal address.
type Address struct {
	Lines    []string `json:"lines,omitempty"`
	City     string   `json:"city,omitempty"`
	Postcode string   `json:"postcode"`
	// Restricted marks an address that must not be disclosed widely (for
	// example a refuge).
	Restricted bool `json:"restricted,omitempty"`
}

// Person is the person the record is about. Its Entry.ID is the council's
// person id.
type Person struct {
	Entry
	NHSNumber string `json:"nhsNumber,omitempty"`
	// NHSNumberStatus is the NHS number verification status code (01-08),
	// or one of the retired word codes.
	NHSNumberStatus      string         `json:"nhsNumberStatus,omitempty"`
	Name                 *Name          `json:"name,omitempty"`
	BirthDate            string         `json:"birthDate"`
	Gender               string         `json:"gender"`
	Address              *Address       `json:"address,omitempty"`
	GPPractice           string         `json:"gpPractice,omitempty"`
	DeathDate            string         `json:"deathDate,omitempty"`
	Contacts             []Contact      `json:"contacts,omitempty"`
	PrimarySupportReason string         `json:"primarySupportReason,omitempty"`
	Communication        *Communication `json:"communication,omitempty"`
}

// Contact is someone close to the person.
type Contact struct {
	ID   string `json:"id"`
	Name Name   `json:"name"`
	// Roles: next-of-kin, unpaid-carer, lasting-power-of-attorney.
	Roles []string `json:"roles"`
	// Relationship in words, for example "daughter".
	Relationship string `json:"relationship,omitempty"`
	// LPAType: health-and-welfare or property-and-financial-affairs.
	LPAType string `json:"lpaType,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// Communication holds the person's communication needs.
type Communication struct {
	// Language is a BCP 47 language tag, for example "en" or "pa".
	Language          string   `json:"language,omitempty"`
	InterpreterNeeded bool     `json:"interpreterNeeded,omitempty"`
	Needs             []string `json:"needs,omitempty"`
}

// Episode is the council's involvement with the person.
type Episode struct {
	Entry
	Status string `json:"status"`
	Start  string `json:"start"`
	End    string `json:"end,omitempty"`
}

// CarePlan is the care and support plan.
type CarePlan struct {
	Entry
	Status           string           `json:"status"`
	Start            string           `json:"start"`
	End              string           `json:"end,omitempty"`
	Needs            []Need           `json:"needs,omitempty"`
	Outcomes         []Outcome        `json:"outcomes,omitempty"`
	PlannedSupport   []PlannedSupport `json:"plannedSupport,omitempty"`
	AgreedWithPerson *bool            `json:"agreedWithPerson,omitempty"`
	NextReviewDate   string           `json:"nextReviewDate,omitempty"`
}

// Need is an assessed need in the plan.
type Need struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Outcome is an outcome the person wants (a goal).
type Outcome struct {
	ID         string   `json:"id"`
	Text       string   `json:"text"`
	Status     string   `json:"status,omitempty"`
	NeedIDs    []string `json:"needIds,omitempty"`
	TargetDate string   `json:"targetDate,omitempty"`
}

// PlannedSupport is support the plan describes in words.
type PlannedSupport struct {
	ID            string `json:"id"`
	Text          string `json:"text"`
	PackageLineID string `json:"packageLineId,omitempty"`
}

// PackageLine is one line of the care package (the "care grid").
type PackageLine struct {
	Entry
	Status              string        `json:"status,omitempty"`
	ServiceType         string        `json:"serviceType"`
	ServiceComponent    string        `json:"serviceComponent,omitempty"`
	DeliveryMechanism   string        `json:"deliveryMechanism,omitempty"`
	Provider            *Provider     `json:"provider,omitempty"`
	Start               string        `json:"start"`
	End                 string        `json:"end,omitempty"`
	PlannedHoursPerWeek json.Number   `json:"plannedHoursPerWeek,omitempty"`
	PlannedUnitsPerWeek json.Number   `json:"plannedUnitsPerWeek,omitempty"`
	VisitPattern        *VisitPattern `json:"visitPattern,omitempty"`
}

// Provider is the organisation delivering a service.
type Provider struct {
	ODS           string `json:"ods,omitempty"`
	CQCLocationID string `json:"cqcLocationId,omitempty"`
	Name          string `json:"name,omitempty"`
}

// VisitPattern is when planned visits happen.
type VisitPattern struct {
	// Days: mon, tue, wed, thu, fri, sat, sun.
	Days []string `json:"days,omitempty"`
	// Times are "HH:MM" local times.
	Times           []string `json:"times,omitempty"`
	MinutesPerVisit int      `json:"minutesPerVisit,omitempty"`
	CarersPerVisit  int      `json:"carersPerVisit,omitempty"`
}

// Assessment is an assessment or a review.
type Assessment struct {
	Entry
	// Type: assessment or review.
	Type           string `json:"type"`
	AssessmentType string `json:"assessmentType,omitempty"`
	// Setting: home, virtual or office.
	Setting string `json:"setting,omitempty"`
	Start   string `json:"start"`
	End     string `json:"end,omitempty"`
	// Outcome is a Client Level Data event outcome.
	Outcome string `json:"outcome,omitempty"`
}

// Visit is a home-care visit.
type Visit struct {
	Entry
	PackageLineID string `json:"packageLineId,omitempty"`
	// Worker is who visited; the author when absent.
	Worker *Author `json:"worker,omitempty"`
	// Status: completed, in-progress, planned, missed, cancelled.
	Status       string   `json:"status"`
	PlannedStart string   `json:"plannedStart,omitempty"`
	PlannedEnd   string   `json:"plannedEnd,omitempty"`
	ActualStart  string   `json:"actualStart,omitempty"`
	ActualEnd    string   `json:"actualEnd,omitempty"`
	Services     []string `json:"services,omitempty"`
	Notes        []Note   `json:"notes,omitempty"`
	Occurrences  []Note   `json:"occurrences,omitempty"`
}

// Note is free text marked as fact or as opinion.
type Note struct {
	// Kind: fact or opinion.
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Medicine names a medicine by dm+d code and text.
type Medicine struct {
	DMDCode string `json:"dmdCode,omitempty"`
	Text    string `json:"text"`
}

// Medication is help given with one dose of a medicine.
type Medication struct {
	Entry
	VisitID  string   `json:"visitId,omitempty"`
	Medicine Medicine `json:"medicine"`
	Dose     string   `json:"dose,omitempty"`
	Route    string   `json:"route,omitempty"`
	Time     string   `json:"time"`
	// Support: prompt, assist, administer.
	Support string `json:"support"`
	// Outcome: taken, refused, missed, not-available.
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// Incident is an incident or accident.
type Incident struct {
	Entry
	// Type: fall, injury, medication-error, safeguarding-concern, other.
	Type        string `json:"type"`
	VisitID     string `json:"visitId,omitempty"`
	Time        string `json:"time"`
	Description string `json:"description"`
	// Harm: none, low, moderate, severe, death.
	Harm           string   `json:"harm"`
	ActionTaken    string   `json:"actionTaken,omitempty"`
	PeopleInformed []string `json:"peopleInformed,omitempty"`
}

// Change is a change in the person's circumstances or health.
type Change struct {
	Entry
	// Type: circumstances, health, physical-condition, care-needs.
	Type        string `json:"type"`
	Time        string `json:"time"`
	Description string `json:"description"`
	// Kind: fact (the default) or opinion.
	Kind string `json:"kind,omitempty"`
}

// Transaction is money handled on the person's behalf.
type Transaction struct {
	Entry
	Date string `json:"date"`
	// Amount in pounds, positive, at most two decimal places.
	Amount json.Number `json:"amount"`
	// Currency must be GBP when given.
	Currency string `json:"currency,omitempty"`
	// Direction: paid-out or received.
	Direction        string  `json:"direction"`
	Purpose          string  `json:"purpose"`
	ReceiptReference string  `json:"receiptReference,omitempty"`
	HandledBy        *Author `json:"handledBy,omitempty"`
}

// SharingDecision is the person's objection to sharing, or their consent
// to share with a named third party.
type SharingDecision struct {
	Entry
	// Type: objection or consent.
	Type       string      `json:"type"`
	Date       string      `json:"date"`
	Start      string      `json:"start,omitempty"`
	End        string      `json:"end,omitempty"`
	ThirdParty *ThirdParty `json:"thirdParty,omitempty"`
	Purpose    string      `json:"purpose,omitempty"`
	// Covers are the record categories a consent shares with the third
	// party (docs/consent-to-share.md).
	Covers []string `json:"covers,omitempty"`
	// Basis of a consent: consent (the default) or safeguarding-duty
	// (the council's legal duty, Care Act 2014 s42).
	Basis string `json:"basis,omitempty"`
}

// ThirdParty is who a person consented to share with.
type ThirdParty struct {
	// Kind: organisation or person.
	Kind         string `json:"kind"`
	Name         string `json:"name"`
	ODS          string `json:"ods,omitempty"`
	Relationship string `json:"relationship,omitempty"`
	// NHSNumber is a person's, so that they are recognised when they
	// sign in with NHS login.
	NHSNumber string `json:"nhsNumber,omitempty"`
}

// Organisations are the ODS codes of the organisations the record names as
// the authors of its entries, the workers of its visits and the handlers of
// its transactions: the organisations its resources are attributed to
// (meta.tag source-organisation, see docs/social-care-mapping.md), each
// once, in the order first named, the sending organisation first. Care
// package providers are not among them: a provider named by a package line
// did not write it.
func (r *Record) Organisations() []string {
	out := []string{r.Source.Organisation}
	add := func(a *Author) {
		if a != nil && a.Organisation != "" && !slices.Contains(out, a.Organisation) {
			out = append(out, a.Organisation)
		}
	}
	add(r.Person.Author)
	if r.Episode != nil {
		add(r.Episode.Author)
	}
	if r.CarePlan != nil {
		add(r.CarePlan.Author)
	}
	for i := range r.CarePackage {
		add(r.CarePackage[i].Author)
	}
	for i := range r.Assessments {
		add(r.Assessments[i].Author)
	}
	for i := range r.Visits {
		add(r.Visits[i].Author)
		add(r.Visits[i].Worker)
	}
	for i := range r.Medications {
		add(r.Medications[i].Author)
	}
	for i := range r.Incidents {
		add(r.Incidents[i].Author)
	}
	for i := range r.Changes {
		add(r.Changes[i].Author)
	}
	for i := range r.Transactions {
		add(r.Transactions[i].Author)
		add(r.Transactions[i].HandledBy)
	}
	for i := range r.SharingDecisions {
		add(r.SharingDecisions[i].Author)
	}
	return out
}

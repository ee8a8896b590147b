package socialcare

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// clockSkew is how far ahead of now a time may be before it counts as "in
// the future": sending systems' clocks are not perfectly in step.
const clockSkew = 5 * time.Minute

var (
	odsPattern      = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	cqcPattern      = regexp.MustCompile(`^1-[0-9]{6,12}$`)
	sdsRolePattern  = regexp.MustCompile(`^R[0-9]{4}$`)
	postcodePattern = regexp.MustCompile(`^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$`)
	dmdPattern      = regexp.MustCompile(`^[0-9]{6,18}$`)
	hhmmPattern     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	amountPattern   = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)
	langPattern     = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9\-._:/]{1,100}$`)
)

// validator collects every problem of a record.
type validator struct {
	now    time.Time
	issues []fhir.Issue
	// ids seen per kind, to catch duplicates and dangling references.
	ids map[string]map[string]bool
}

func validate(rec *Record, now time.Time) []fhir.Issue {
	v := &validator{now: now, ids: map[string]map[string]bool{}}
	v.record(rec)
	return v.issues
}

func (v *validator) add(code, path, format string, args ...any) {
	v.issues = append(v.issues, issue(code, path, fmt.Sprintf(format, args...)))
}

func (v *validator) required(path, val, what string) bool {
	if strings.TrimSpace(val) == "" {
		v.add("required", path, "%s is required.", what)
		return false
	}
	return true
}

func (v *validator) enum(path, val string, list codeList, what string) string {
	if val == "" {
		return ""
	}
	c, ok := list.canonical(val)
	if !ok {
		v.add("value", path, "Unknown %s. Use one of: %s.", what, strings.Join(list, "; "))
	}
	return c
}

func (v *validator) ods(path, code, what string) {
	if code != "" && !odsPattern.MatchString(code) {
		v.add("value", path, "%s must be an ODS code: 3 to 10 capital letters and digits.", what)
	}
}

// date checks a "YYYY-MM-DD" date; notFuture rejects dates after today.
func (v *validator) date(path, val string, notFuture bool) (time.Time, bool) {
	if val == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, val)
	if err != nil {
		v.add("value", path, "This must be a date written YYYY-MM-DD, for example 2024-03-31.")
		return time.Time{}, false
	}
	if notFuture && t.After(v.now.Add(clockSkew)) {
		v.add("value", path, "This date is in the future. Check the date, and the sending system's clock.")
	}
	return t, true
}

// dateTime checks an RFC 3339 date-time with seconds and a UTC offset.
func (v *validator) dateTime(path, val string, notFuture bool) (time.Time, bool) {
	if val == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, val)
	if err != nil {
		v.add("value", path, "This must be a date and time with seconds and a UTC offset, for example 2024-03-31T09:15:00Z or 2024-06-01T09:15:00+01:00.")
		return time.Time{}, false
	}
	if notFuture && t.After(v.now.Add(clockSkew)) {
		v.add("value", path, "This time is in the future. Check the time, and the sending system's clock.")
	}
	return t, true
}

// dateOrDateTime accepts either form; dates count as the start of the day.
func (v *validator) dateOrDateTime(path, val string, notFuture bool) (time.Time, bool) {
	if len(val) == len(time.DateOnly) {
		return v.date(path, val, notFuture)
	}
	return v.dateTime(path, val, notFuture)
}

func (v *validator) order(startPath string, start, end time.Time, okStart, okEnd bool, endPath, what string) {
	if okStart && okEnd && end.Before(start) {
		v.add("business-rule", endPath, "%s ends before it starts. Check %s and %s.", what, lastName(startPath), lastName(endPath))
	}
}

func lastName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func (v *validator) id(path, kind, id string) {
	if !v.required(path, id, "The source system's id") {
		return
	}
	if !idPattern.MatchString(id) {
		v.add("value", path, "The id must be 1 to 100 letters, digits or - . _ : / characters.")
		return
	}
	seen := v.ids[kind]
	if seen == nil {
		seen = map[string]bool{}
		v.ids[kind] = seen
	}
	if seen[id] {
		v.add("business-rule", path, "This id is used by another %s entry in the same record; each entry needs its own id.", kind)
	}
	seen[id] = true
}

func (v *validator) author(path string, a *Author, optional bool) {
	if a == nil {
		if !optional {
			v.add("required", path, "The author is required: who recorded this entry (name, role and organisation).")
		}
		return
	}
	if v.required(path+".organisation", a.Organisation, "The author's organisation (ODS code)") {
		v.ods(path+".organisation", a.Organisation, "The author's organisation")
	}
	if a.SDSJobRole != "" && !sdsRolePattern.MatchString(a.SDSJobRole) {
		v.add("value", path+".sdsJobRole", "The SDS job role must be a code such as R1460.")
	}
	if a.ID != "" && !idPattern.MatchString(a.ID) {
		v.add("value", path+".id", "The staff id must be 1 to 100 letters, digits or - . _ : / characters.")
	}
	if a.ID == "" && a.Name != "" {
		v.add("required", path+".id", "A named author needs the source system's staff id, so that the same person is recognised across records.")
	}
}

// entry checks what every entry carries.
func (v *validator) entry(path, kind string, e *Entry) {
	v.id(join(path, "id"), kind, e.ID)
	v.author(join(path, "author"), e.Author, false)
	if v.required(join(path, "recorded"), e.Recorded, "The time the entry was recorded") {
		v.dateTime(join(path, "recorded"), e.Recorded, true)
	}
	if e.Signed {
		if v.required(join(path, "signedAt"), e.SignedAt, "A signed entry's signing time") {
			v.dateTime(join(path, "signedAt"), e.SignedAt, true)
		}
	} else if e.SignedAt != "" {
		v.add("business-rule", join(path, "signedAt"), "signedAt is given but signed is not true; set signed to true or remove signedAt.")
	}
}

func (v *validator) record(rec *Record) {
	if rec.SchemaVersion != SchemaVersion {
		if rec.SchemaVersion == "" {
			v.add("required", "schemaVersion", "schemaVersion is required; this gateway accepts %q.", SchemaVersion)
		} else {
			v.add("not-supported", "schemaVersion", "Record format version is not supported; this gateway accepts %q.", SchemaVersion)
		}
	}
	v.source(&rec.Source)
	v.person(&rec.Person)
	if rec.Episode != nil {
		v.episode(rec.Episode)
	}
	for i := range rec.CarePackage {
		v.packageLine(fmt.Sprintf("carePackage[%d]", i), &rec.CarePackage[i])
	}
	if rec.CarePlan != nil {
		v.carePlan(rec.CarePlan)
	}
	for i := range rec.Assessments {
		v.assessment(fmt.Sprintf("assessments[%d]", i), &rec.Assessments[i])
	}
	for i := range rec.Visits {
		v.visit(fmt.Sprintf("visits[%d]", i), &rec.Visits[i])
	}
	for i := range rec.Medications {
		v.medication(fmt.Sprintf("medications[%d]", i), &rec.Medications[i])
	}
	for i := range rec.Incidents {
		v.incident(fmt.Sprintf("incidents[%d]", i), &rec.Incidents[i])
	}
	for i := range rec.Changes {
		v.change(fmt.Sprintf("changes[%d]", i), &rec.Changes[i])
	}
	for i := range rec.Transactions {
		v.transaction(fmt.Sprintf("transactions[%d]", i), &rec.Transactions[i])
	}
	for i := range rec.SharingDecisions {
		v.sharing(fmt.Sprintf("sharingDecisions[%d]", i), &rec.SharingDecisions[i])
	}
}

func (v *validator) source(s *Source) {
	v.required("source.system", s.System, "The sending system's name")
	if v.required("source.organisation", s.Organisation, "The sending organisation's ODS code") {
		v.ods("source.organisation", s.Organisation, "The sending organisation")
	}
	if v.required("source.sentAt", s.SentAt, "The time the record was sent") {
		v.dateTime("source.sentAt", s.SentAt, true)
	}
	if s.RecordID != "" && !idPattern.MatchString(s.RecordID) {
		v.add("value", "source.recordId", "The record id must be 1 to 100 letters, digits or - . _ : / characters.")
	}
}

func (v *validator) person(p *Person) {
	v.entry("person", "person", &p.Entry)
	if p.NHSNumber != "" {
		if !fhir.ValidNHSNumber(p.NHSNumber) {
			v.add("value", "person.nhsNumber", "The NHS number is not valid: it must be 10 digits whose last digit matches the Modulus 11 check. Check it against the person's NHS record, or leave it out and set nhsNumberStatus.")
		}
	}
	if p.NHSNumberStatus != "" {
		if _, ok := nhsStatusCode(p.NHSNumberStatus); !ok {
			v.add("value", "person.nhsNumberStatus", "Unknown NHS number verification status. Use a code 01 to 08 (01 means present and verified).")
		}
	}
	if p.NHSNumber == "" && p.NHSNumberStatus == "01" {
		v.add("business-rule", "person.nhsNumberStatus", "Status 01 (present and verified) needs an NHS number.")
	}
	if p.Name != nil && v.required("person.name.family", p.Name.Family, "The person's family name") {
		for i, g := range p.Name.Given {
			v.required(fmt.Sprintf("person.name.given[%d]", i), g, "A given name")
		}
	}
	var birth, death time.Time
	var okBirth, okDeath bool
	if v.required("person.birthDate", p.BirthDate, "The person's date of birth") {
		birth, okBirth = v.date("person.birthDate", p.BirthDate, true)
	}
	if v.required("person.gender", p.Gender, "The person's gender (male, female, other or unknown)") {
		v.enum("person.gender", p.Gender, genders, "gender")
	}
	if a := p.Address; a != nil {
		if v.required("person.address.postcode", a.Postcode, "The postcode") && !postcodePattern.MatchString(strings.ToUpper(a.Postcode)) {
			v.add("value", "person.address.postcode", "This is not a UK postcode, for example SE1 7EH.")
		}
	}
	v.ods("person.gpPractice", p.GPPractice, "The GP practice")
	if p.DeathDate != "" {
		death, okDeath = v.dateOrDateTime("person.deathDate", p.DeathDate, true)
		v.order("person.birthDate", birth, death, okBirth, okDeath, "person.deathDate", "The person's life")
	}
	for i := range p.Contacts {
		v.contact(fmt.Sprintf("person.contacts[%d]", i), &p.Contacts[i])
	}
	if p.PrimarySupportReason != "" {
		v.enum("person.primarySupportReason", p.PrimarySupportReason, cldPrimarySupportReasons, "primary support reason (Client Level Data list)")
	}
	if c := p.Communication; c != nil {
		if c.Language != "" && !langPattern.MatchString(c.Language) {
			v.add("value", "person.communication.language", "The language must be a BCP 47 tag such as en, pa or en-GB.")
		}
		for i, n := range c.Needs {
			v.required(fmt.Sprintf("person.communication.needs[%d]", i), n, "A communication need")
		}
	}
}

func (v *validator) contact(path string, c *Contact) {
	v.id(path+".id", "contact", c.ID)
	v.required(path+".name.family", c.Name.Family, "The contact's family name")
	if len(c.Roles) == 0 {
		v.add("required", path+".roles", "Say what the contact is: next-of-kin, unpaid-carer and/or lasting-power-of-attorney.")
	}
	lpa := false
	for i, r := range c.Roles {
		if v.enum(fmt.Sprintf("%s.roles[%d]", path, i), r, contactRoles, "contact role") == "lasting-power-of-attorney" {
			lpa = true
		}
	}
	if c.LPAType != "" {
		v.enum(path+".lpaType", c.LPAType, lpaTypes, "lasting power of attorney type")
		if !lpa {
			v.add("business-rule", path+".lpaType", "lpaType is given but the contact's roles do not include lasting-power-of-attorney.")
		}
	}
}

func (v *validator) episode(e *Episode) {
	v.entry("episode", "episode", &e.Entry)
	if v.required("episode.status", e.Status, "The status of the council's involvement") {
		v.enum("episode.status", e.Status, episodeStatuses, "episode status")
	}
	v.period("episode", e.Start, e.End, true, "The council's involvement")
}

// period checks start (required when requireStart) and end dates or
// date-times, and that end is not before start.
func (v *validator) period(path, start, end string, requireStart bool, what string) {
	var s, e time.Time
	var okS, okE bool
	if start == "" {
		if requireStart {
			v.add("required", join(path, "start"), "%s needs a start date.", what)
		}
	} else {
		s, okS = v.dateOrDateTime(join(path, "start"), start, false)
	}
	if end != "" {
		e, okE = v.dateOrDateTime(join(path, "end"), end, false)
	}
	v.order(join(path, "start"), s, e, okS, okE, join(path, "end"), what)
}

func (v *validator) carePlan(cp *CarePlan) {
	v.entry("carePlan", "carePlan", &cp.Entry)
	if v.required("carePlan.status", cp.Status, "The plan's status") {
		v.enum("carePlan.status", cp.Status, planStatuses, "plan status")
	}
	v.period("carePlan", cp.Start, cp.End, true, "The plan")
	v.date("carePlan.nextReviewDate", cp.NextReviewDate, false)
	needs := map[string]bool{}
	for i, n := range cp.Needs {
		p := fmt.Sprintf("carePlan.needs[%d]", i)
		v.id(p+".id", "need", n.ID)
		v.required(p+".text", n.Text, "The need's description")
		needs[n.ID] = true
	}
	for i, o := range cp.Outcomes {
		p := fmt.Sprintf("carePlan.outcomes[%d]", i)
		v.id(p+".id", "outcome", o.ID)
		v.required(p+".text", o.Text, "The outcome's description")
		v.enum(p+".status", o.Status, goalStatuses, "outcome status")
		v.date(p+".targetDate", o.TargetDate, false)
		for j, id := range o.NeedIDs {
			if !needs[id] {
				v.add("business-rule", fmt.Sprintf("%s.needIds[%d]", p, j), "This need id is not one of the plan's needs.")
			}
		}
	}
	for i, s := range cp.PlannedSupport {
		p := fmt.Sprintf("carePlan.plannedSupport[%d]", i)
		v.id(p+".id", "plannedSupport", s.ID)
		v.required(p+".text", s.Text, "The planned support's description")
		if s.PackageLineID != "" && !v.ids["carePackage"][s.PackageLineID] {
			v.add("business-rule", p+".packageLineId", "This is not the id of a care package line in this record.")
		}
	}
}

func (v *validator) packageLine(path string, l *PackageLine) {
	v.entry(path, "carePackage", &l.Entry)
	v.enum(path+".status", l.Status, lineStatuses, "care package line status")
	if v.required(path+".serviceType", l.ServiceType, "The Client Level Data service type") {
		v.enum(path+".serviceType", l.ServiceType, cldServiceTypes, "service type (Client Level Data list)")
	}
	v.enum(path+".serviceComponent", l.ServiceComponent, cldServiceComponents, "service component (Client Level Data list)")
	v.enum(path+".deliveryMechanism", l.DeliveryMechanism, cldDeliveryMechanisms, "delivery mechanism (Client Level Data list)")
	if pr := l.Provider; pr != nil {
		if pr.ODS == "" && pr.CQCLocationID == "" {
			v.add("required", path+".provider", "The provider needs an ODS code or a CQC location id.")
		}
		v.ods(path+".provider.ods", pr.ODS, "The provider")
		if pr.CQCLocationID != "" && !cqcPattern.MatchString(pr.CQCLocationID) {
			v.add("value", path+".provider.cqcLocationId", "A CQC location id looks like 1-123456789.")
		}
	}
	v.period(path, l.Start, l.End, true, "The care package line")
	v.quantity(path+".plannedHoursPerWeek", l.PlannedHoursPerWeek)
	v.quantity(path+".plannedUnitsPerWeek", l.PlannedUnitsPerWeek)
	if l.PlannedHoursPerWeek != "" && l.PlannedUnitsPerWeek != "" {
		v.add("business-rule", path+".plannedUnitsPerWeek", "Give planned hours or planned units per week, not both.")
	}
	if vp := l.VisitPattern; vp != nil {
		for i, d := range vp.Days {
			v.enum(fmt.Sprintf("%s.visitPattern.days[%d]", path, i), d, weekDays, "day")
		}
		for i, t := range vp.Times {
			if !hhmmPattern.MatchString(t) {
				v.add("value", fmt.Sprintf("%s.visitPattern.times[%d]", path, i), "A visit time must be written HH:MM, for example 08:30.")
			}
		}
		if vp.MinutesPerVisit < 0 || vp.MinutesPerVisit > 24*60 {
			v.add("value", path+".visitPattern.minutesPerVisit", "Minutes per visit must be between 0 and 1440.")
		}
		if vp.CarersPerVisit < 0 || vp.CarersPerVisit > 10 {
			v.add("value", path+".visitPattern.carersPerVisit", "Carers per visit must be between 0 and 10.")
		}
	}
}

func (v *validator) quantity(path string, n json.Number) {
	if n == "" {
		return
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 {
		v.add("value", path, "This must be a number from 0 upwards.")
	}
}

func (v *validator) assessment(path string, a *Assessment) {
	v.entry(path, "assessment", &a.Entry)
	if v.required(path+".type", a.Type, "The type (assessment or review)") {
		v.enum(path+".type", a.Type, assessmentTypes, "type")
	}
	v.enum(path+".setting", a.Setting, settings, "setting")
	v.period(path, a.Start, a.End, true, "The assessment or review")
	v.enum(path+".outcome", a.Outcome, cldEventOutcomes, "event outcome (Client Level Data list)")
}

func (v *validator) visit(path string, vi *Visit) {
	v.entry(path, "visit", &vi.Entry)
	if vi.PackageLineID != "" && !v.ids["carePackage"][vi.PackageLineID] {
		v.add("business-rule", path+".packageLineId", "This is not the id of a care package line in this record.")
	}
	v.author(path+".worker", vi.Worker, true)
	status := ""
	if v.required(path+".status", vi.Status, "The visit status") {
		status = v.enum(path+".status", vi.Status, visitStatuses, "visit status")
	}
	ps, okPS := v.dateTime(path+".plannedStart", vi.PlannedStart, false)
	pe, okPE := v.dateTime(path+".plannedEnd", vi.PlannedEnd, false)
	v.order(path+".plannedStart", ps, pe, okPS, okPE, path+".plannedEnd", "The planned visit")
	as, okAS := v.dateTime(path+".actualStart", vi.ActualStart, true)
	ae, okAE := v.dateTime(path+".actualEnd", vi.ActualEnd, true)
	v.order(path+".actualStart", as, ae, okAS, okAE, path+".actualEnd", "The visit")
	switch status {
	case "completed":
		v.required(path+".actualStart", vi.ActualStart, "A completed visit's actual start time")
		v.required(path+".actualEnd", vi.ActualEnd, "A completed visit's actual end time")
	case "in-progress":
		v.required(path+".actualStart", vi.ActualStart, "A visit in progress's actual start time")
	case "planned", "missed", "cancelled":
		if vi.PlannedStart == "" {
			v.add("required", path+".plannedStart", "A %s visit needs its planned start time.", status)
		}
		if vi.ActualStart != "" {
			v.add("business-rule", path+".actualStart", "A %s visit cannot have an actual start time.", status)
		}
	}
	for i, s := range vi.Services {
		v.required(fmt.Sprintf("%s.services[%d]", path, i), s, "A service provided")
	}
	v.notes(path+".notes", vi.Notes)
	v.notes(path+".occurrences", vi.Occurrences)
}

func (v *validator) notes(path string, notes []Note) {
	for i, n := range notes {
		p := fmt.Sprintf("%s[%d]", path, i)
		if v.required(p+".kind", n.Kind, "Whether the note is fact or opinion (kind)") {
			v.enum(p+".kind", n.Kind, statementKinds, "note kind")
		}
		v.required(p+".text", n.Text, "The note's text")
	}
}

func (v *validator) visitRef(path, id string) {
	if id != "" && !v.ids["visit"][id] {
		v.add("business-rule", path, "This is not the id of a visit in this record.")
	}
}

func (v *validator) medication(path string, m *Medication) {
	v.entry(path, "medication", &m.Entry)
	v.visitRef(path+".visitId", m.VisitID)
	v.required(path+".medicine.text", m.Medicine.Text, "The medicine's name")
	if m.Medicine.DMDCode != "" && !dmdPattern.MatchString(m.Medicine.DMDCode) {
		v.add("value", path+".medicine.dmdCode", "A dm+d code is 6 to 18 digits; leave it out if the medicine has none.")
	}
	if v.required(path+".time", m.Time, "The time of the dose") {
		v.dateTime(path+".time", m.Time, true)
	}
	if v.required(path+".support", m.Support, "The level of support (prompt, assist or administer)") {
		v.enum(path+".support", m.Support, supportLevels, "level of support")
	}
	if v.required(path+".outcome", m.Outcome, "The outcome (taken, refused, missed or not-available)") {
		if o := v.enum(path+".outcome", m.Outcome, medicationOutcomes, "medication outcome"); o != "" && o != "taken" {
			v.required(path+".reason", m.Reason, "The reason the dose was "+strings.ReplaceAll(o, "-", " "))
		}
	}
}

func (v *validator) incident(path string, in *Incident) {
	v.entry(path, "incident", &in.Entry)
	v.visitRef(path+".visitId", in.VisitID)
	if v.required(path+".type", in.Type, "The incident type") {
		v.enum(path+".type", in.Type, incidentTypes, "incident type")
	}
	if v.required(path+".time", in.Time, "The time of the incident") {
		v.dateTime(path+".time", in.Time, true)
	}
	v.required(path+".description", in.Description, "What happened (description)")
	if v.required(path+".harm", in.Harm, "The harm (none, low, moderate, severe or death)") {
		v.enum(path+".harm", in.Harm, harmLevels, "harm level")
	}
	for i, p := range in.PeopleInformed {
		v.required(fmt.Sprintf("%s.peopleInformed[%d]", path, i), p, "Who was told")
	}
}

func (v *validator) change(path string, c *Change) {
	v.entry(path, "change", &c.Entry)
	if v.required(path+".type", c.Type, "The type of change") {
		v.enum(path+".type", c.Type, changeTypes, "change type")
	}
	if v.required(path+".time", c.Time, "When the change happened or was noticed") {
		v.dateOrDateTime(path+".time", c.Time, true)
	}
	v.required(path+".description", c.Description, "The description of the change")
	v.enum(path+".kind", c.Kind, statementKinds, "kind")
}

func (v *validator) transaction(path string, t *Transaction) {
	v.entry(path, "transaction", &t.Entry)
	if v.required(path+".date", t.Date, "The date of the transaction") {
		v.date(path+".date", t.Date, true)
	}
	if t.Amount == "" {
		v.add("required", path+".amount", "The amount in pounds is required.")
	} else if strings.HasPrefix(string(t.Amount), "-") {
		v.add("value", path+".amount", "The amount must not be negative; record money coming in with direction \"received\".")
	} else if !amountPattern.MatchString(string(t.Amount)) {
		v.add("value", path+".amount", "The amount must be pounds with at most two decimal places, for example 12.50.")
	} else if f, _ := strconv.ParseFloat(string(t.Amount), 64); f == 0 {
		v.add("value", path+".amount", "The amount must be more than zero.")
	}
	if t.Currency != "" && t.Currency != "GBP" {
		v.add("value", path+".currency", "Only pounds sterling (GBP) are accepted.")
	}
	if v.required(path+".direction", t.Direction, "The direction (paid-out or received)") {
		v.enum(path+".direction", t.Direction, directions, "direction")
	}
	v.required(path+".purpose", t.Purpose, "The purpose of the transaction")
	v.author(path+".handledBy", t.HandledBy, true)
}

func (v *validator) sharing(path string, s *SharingDecision) {
	v.entry(path, "sharingDecision", &s.Entry)
	typ := ""
	if v.required(path+".type", s.Type, "The type of decision (objection or consent)") {
		typ = v.enum(path+".type", s.Type, decisionTypes, "decision type")
	}
	if v.required(path+".date", s.Date, "The date the decision was made") {
		v.date(path+".date", s.Date, true)
	}
	v.period(path, s.Start, s.End, false, "The decision")
	switch {
	case typ == "consent" && s.ThirdParty == nil:
		v.add("required", path+".thirdParty", "Consent to share needs the third party it names.")
	case typ == "objection" && s.ThirdParty != nil:
		v.add("business-rule", path+".thirdParty", "An objection applies to all sharing; remove thirdParty.")
	}
	if tp := s.ThirdParty; tp != nil {
		if v.required(path+".thirdParty.kind", tp.Kind, "The third party's kind (organisation or person)") {
			v.enum(path+".thirdParty.kind", tp.Kind, thirdPartyKinds, "third party kind")
		}
		v.required(path+".thirdParty.name", tp.Name, "The third party's name")
		v.ods(path+".thirdParty.ods", tp.ODS, "The third party")
		if tp.NHSNumber != "" {
			if kind, _ := thirdPartyKinds.canonical(tp.Kind); kind != "person" {
				v.add("business-rule", path+".thirdParty.nhsNumber", "Only a person third party has an NHS number.")
			} else if !fhir.ValidNHSNumber(tp.NHSNumber) {
				v.add("value", path+".thirdParty.nhsNumber", "The third party's NHS number is not valid: it must be 10 digits whose last digit matches the Modulus 11 check.")
			}
		}
	}
	if typ != "consent" && (len(s.Covers) > 0 || s.Basis != "") {
		v.add("business-rule", path+".covers", "Only a consent to share covers record categories or has a basis; remove covers and basis.")
	}
	if s.Basis != "" {
		v.enum(path+".basis", s.Basis, sharingBases, "basis")
	}
	for i, c := range s.Covers {
		if !slices.Contains(facts.ShareableCategories(), c) {
			v.add("value", fmt.Sprintf("%s.covers[%d]", path, i), "Unknown or unshareable record category; use one of: %s.", strings.Join(facts.ShareableCategories(), ", "))
		}
	}
	if len(s.Covers) > 0 && s.ThirdParty != nil && s.ThirdParty.NHSNumber == "" {
		v.add("required", path+".thirdParty.nhsNumber", "A consent that covers record categories names the third party by NHS number, so that they are recognised when they sign in with NHS login.")
	}
}

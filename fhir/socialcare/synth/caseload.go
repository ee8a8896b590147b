package synth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// Options say what [Caseload] makes.
type Options struct {
	// People is how many people (records), 1 to [MaxPeople].
	People int
	// Months is how many months of visits, doses and events come before
	// End, 1 to [MaxMonths].
	Months int
	// Seed chooses the people; the same seed, End and Months give the same
	// records, and person i is the same whatever People is.
	Seed uint64
	// End is the day after the last day of activity (its date in UTC is
	// used; zero means today). Every time in the records is before it, so
	// it must not be after today.
	End time.Time
}

// MaxMonths is the longest history [Caseload] makes: twelve months of the
// busiest profile (four visits a day with two medication rounds) is about
// 2 MB of record and 9 MB of FHIR, under the gateway's 15 MB limit on one
// record's translation.
const MaxMonths = 12

// The organisations of the caseload. Every one is in the policy's data
// sharing agreement (policy/data.json) with the kind its role here needs:
// the council sends every record; GP practices are registered practices;
// home-care agencies and care homes are named as providers of care package
// lines and write their visits, doses and notes; the community trust runs
// the reablement service (a care package line it provides, with its own
// visits) and community nurses who take part in reviews; the acute trust's
// discharge team assesses people leaving hospital.
type org struct{ ods, name, cqc string }

var (
	councilOrg     = org{Council, councilName, ""}
	homeCareOrgs   = []org{{HomeCare, homeCareName, providerCQCID}, {"CP001", "Brightside Home Care", ""}}
	careHomeOrgs   = []org{{CareHome, careHomeName, ""}, {"CP002", "Oakview Residential Care", ""}}
	communityTrust = org{"RYQ", "Community trust RYQ", ""}
	acuteTrust     = org{"RJ1", "Guy's and St Thomas'", ""}
	// gpPractices: the fixtures' practice twice as often as each other.
	gpPractices = []string{GPPractice, GPPractice, "G81001", "G81002"}
)

func (o org) provider() *socialcare.Provider {
	return &socialcare.Provider{ODS: o.ods, CQCLocationID: o.cqc, Name: o.name}
}

// A pool is a kind of staff: each team of size people serves per people
// in a row (person i is served by team i/per), so the directory grows with
// the caseload as it would in life.
type pool struct {
	code, role, sds string
	per, size       int
}

var (
	poolSocialWorker  = pool{"SW", "Social worker", "R1330", 30, 1}
	poolCareWorker    = pool{"CW", "Care worker", "R1460", 12, 3}
	poolReablement    = pool{"RW", "Reablement support worker", "R1450", 12, 3}
	poolCareAssistant = pool{"CA", "Care assistant", "R1460", 20, 2}
	poolSeniorCarer   = pool{"SC", "Senior carer", "R1460", 20, 1}
	poolNurse         = pool{"DN", "Community nurse", "R0700", 30, 1}
	poolTherapist     = pool{"OT", "Occupational therapist", "", 30, 1}
)

var (
	staffGiven  = []string{"Sam", "Alex", "Jo", "Chris", "Pat", "Robin", "Charlie", "Jamie", "Kim", "Lee", "Morgan", "Toni", "Ashley", "Frankie", "Jess", "Dev"}
	staffFamily = []string{"Carer", "Support", "Helper", "Aide", "Visitor", "Kindly", "Steady", "Goodhand", "Caring", "Warmley", "Tender", "Patience", "Homely"}
)

// staffID is member k of the team of pool p at o that serves person i.
func staffID(o org, p pool, i, k int) string {
	return fmt.Sprintf("%s-%s-%05d-%d", o.ods, p.code, i/p.per, k)
}

// staff returns member k of person i's team from pool p at o. The same
// member always has the same name and role, so their Practitioner and
// PractitionerRole are the same in every record.
func staff(o org, p pool, i, k int) *socialcare.Author {
	n := (i/p.per)*p.size + k + len(p.code)*7 + len(o.ods)*3
	return &socialcare.Author{
		ID:   staffID(o, p, i, k),
		Name: staffGiven[n%len(staffGiven)] + " " + staffFamily[(n/len(staffGiven))%len(staffFamily)],
		Role: p.role, SDSJobRole: p.sds, Organisation: o.ods, OrganisationName: o.name,
	}
}

func team(o org, p pool, i int) []*socialcare.Author {
	out := make([]*socialcare.Author, p.size)
	for k := range out {
		out[k] = staff(o, p, i, k)
	}
	return out
}

// A profile is the kind of support a person gets.
type profile int

const (
	// profileHomeCare: a long-term home-care package, one to four visits a
	// day, often with medication prompts.
	profileHomeCare profile = iota
	// profileReablement: up to six weeks of reablement by the community
	// trust after a hospital stay, assessed on discharge by the acute
	// trust.
	profileReablement
	// profileResidential: a care home place, with two medicine rounds a
	// day and a weekly note by the home's staff.
	profileResidential
	// profileDirectPayment: a direct payment that pays a personal
	// assistant; no provider sends records, so only the council's own
	// entries appear.
	profileDirectPayment
)

type slot struct {
	profile profile
	calls   int // home visits a day
}

// slots is the caseload mix, in twentieths: every block of twenty people
// in a row (0-19, 20-39, ...) has exactly these, in an order the seed
// shuffles. A quarter get one visit a day, a fifth two, a tenth three, a
// tenth four (with two carers); a tenth are in reablement, 15% in a care
// home, a tenth have a direct payment.
var slots = [20]slot{
	{profileHomeCare, 1}, {profileHomeCare, 1}, {profileHomeCare, 1}, {profileHomeCare, 1}, {profileHomeCare, 1},
	{profileHomeCare, 2}, {profileHomeCare, 2}, {profileHomeCare, 2}, {profileHomeCare, 2},
	{profileHomeCare, 3}, {profileHomeCare, 3},
	{profileHomeCare, 4}, {profileHomeCare, 4},
	{profileReablement, 2}, {profileReablement, 2},
	{profileResidential, 0}, {profileResidential, 0}, {profileResidential, 0},
	{profileDirectPayment, 0}, {profileDirectPayment, 0},
}

// Rates of the events the generator draws day by day or visit by visit.
// [EstimateCaseload] uses the same numbers.
const (
	pMissed       = 0.01  // a visit is missed
	pCancelled    = 0.005 // a visit is cancelled (the person is out)
	pCompleted    = 1 - pMissed - pCancelled
	pOpinion      = 0.1    // a completed visit has a note of opinion too
	pOccurrence   = 0.02   // a completed visit has a significant occurrence
	pFall         = 0.0015 // a person at home falls, a day
	pFallHome     = 0.002  // a person in a care home falls, a day
	pFallChange   = 0.5    // a fall is followed by a change in physical condition
	pSafeguarding = 0.0001 // a safeguarding concern is raised, a day
	pChange       = 0.01   // a change in health or care needs is noted, a day (home care, reablement)
	pChangeDP     = 0.005  // the same for a person with a direct payment (noted by the social worker)
)

// visitTimes are the visits of a home-care day by how many there are,
// with minutes per visit.
var visitTimes = map[int]struct {
	times   []string
	minutes int
}{
	1: {[]string{"08:00"}, 60},
	2: {[]string{"08:00", "18:00"}, 45},
	3: {[]string{"08:00", "12:30", "18:00"}, 45},
	4: {[]string{"07:30", "12:30", "17:00", "21:00"}, 30},
}

var reablementTimes = []string{"08:30", "17:30"}

// A plan is the part of a person that decides how many resources their
// record makes: drawn first from the person's random numbers, so that
// [EstimateCaseload] can draw it for every person without building the
// records.
type plan struct {
	i                int
	pid              string
	slot             slot
	gp               string
	provider         org // zero for a direct payment
	lineStart        time.Time
	from             time.Time // first day of activity in the window
	morning, evening int       // medicines in the morning and evening rounds
	support          string
	contacts         int
	objection        bool
	consent          bool
	restricted       bool
	needs            int // communication needs
	shopping         bool
	shopDay, weekly  time.Weekday
}

// gen is one run of the generator.
type gen struct {
	seed        uint64
	end, start  time.Time // the window of activity: [start, end)
	days        int
	block       int
	order       []int // slots of block, shuffled
	blockLoaded bool
}

func newGen(opt Options, today time.Time) (*gen, error) {
	if opt.People < 1 || opt.People > MaxPeople {
		return nil, fmt.Errorf("synth: people must be 1 to %d", MaxPeople)
	}
	if opt.Months < 1 || opt.Months > MaxMonths {
		return nil, fmt.Errorf("synth: months must be 1 to %d", MaxMonths)
	}
	today = midnight(today)
	end := today
	if !opt.End.IsZero() {
		end = midnight(opt.End)
	}
	if end.After(today) {
		return nil, errors.New("synth: the end date is after today; records must not be in the future")
	}
	start := end.AddDate(0, -opt.Months, 0)
	return &gen{seed: opt.Seed, end: end, start: start, days: int(end.Sub(start).Hours()+0.5) / 24}, nil
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// mix is SplitMix64's finaliser of a and b: well-spread seeds for
// neighbouring people.
func mix(a, b uint64) uint64 {
	z := a + b*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// slotOf is person i's slot in the caseload mix.
func (g *gen) slotOf(i int) slot {
	if b := i / len(slots); !g.blockLoaded || b != g.block {
		r := rand.New(rand.NewPCG(mix(g.seed, 0xb10c), uint64(b)))
		g.order, g.block, g.blockLoaded = r.Perm(len(slots)), b, true
	}
	return slots[g.order[i%len(slots)]]
}

// plan draws person i's plan, and returns the random numbers that the rest
// of the person is drawn from.
func (g *gen) plan(i int) (*plan, *rand.Rand) {
	rng := rand.New(rand.NewPCG(mix(g.seed, uint64(i)), mix(^g.seed, uint64(i))))
	p := &plan{i: i, pid: fmt.Sprintf("P%06d", 100000+i), slot: g.slotOf(i), from: g.start}
	p.gp = gpPractices[rng.IntN(len(gpPractices))]
	longTerm := g.start.AddDate(0, 0, -(14 + rng.IntN(5*365)))
	switch p.slot.profile {
	case profileHomeCare:
		p.provider = homeCareOrgs[rng.IntN(len(homeCareOrgs))]
		p.lineStart = longTerm
		if rng.IntN(10) < 7 {
			p.morning = 1 + rng.IntN(3)
			if p.slot.calls >= 2 && rng.IntN(2) == 0 {
				p.evening = 1
			}
		}
		p.support = []string{"prompt", "prompt", "prompt", "assist", "assist", "administer"}[rng.IntN(6)]
	case profileReablement:
		p.provider = communityTrust
		discharge := g.end.AddDate(0, 0, -(2 + rng.IntN(42)))
		p.lineStart = discharge.AddDate(0, 0, 1)
		if p.lineStart.After(p.from) {
			p.from = p.lineStart
		}
		if rng.IntN(2) == 0 {
			p.morning = 1
		}
		p.support = "prompt"
	case profileResidential:
		p.provider = careHomeOrgs[rng.IntN(len(careHomeOrgs))]
		p.lineStart = longTerm
		p.morning, p.evening = 2+rng.IntN(3), 1+rng.IntN(2)
		p.support = "administer"
	case profileDirectPayment:
		p.lineStart = longTerm
	}
	switch r := rng.IntN(100); {
	case r < 35:
	case r < 85:
		p.contacts = 1
	default:
		p.contacts = 2
	}
	p.objection = rng.IntN(100) < 2
	p.consent = rng.IntN(100) < 3 && !p.objection
	p.restricted = rng.IntN(100) < 1
	if rng.IntN(100) < 5 {
		p.needs = 1 + rng.IntN(2)
	}
	p.shopping = p.slot.profile == profileHomeCare && rng.IntN(100) < 15
	p.shopDay, p.weekly = time.Weekday(rng.IntN(7)), time.Weekday(rng.IntN(7))
	return p, rng
}

// Caseload calls fn with opt.People synthetic people shaped like a
// council's adult social care caseload, one record each, in order; it
// holds one person at a time. Everyone is sent by the council (SYN01),
// registered with one of the policy's GP practices and has an active
// episode and a care and support plan. Most have a care package line
// naming a provider, with home visits (one to four a day) or care-home
// medicine rounds over the months before opt.End; some are in
// reablement with the community trust (RYQ) after a discharge assessment
// by the acute trust (RJ1); a few have a direct payment. Person i has
// the NHS number [NHSNumberAt](i). Caseload stops at the first error fn
// returns.
func Caseload(opt Options, fn func(*socialcare.Record) error) error {
	g, err := newGen(opt, time.Now())
	if err != nil {
		return err
	}
	for i := 0; i < opt.People; i++ {
		p, rng := g.plan(i)
		if err := fn(g.build(p, rng)); err != nil {
			return err
		}
	}
	return nil
}

var (
	femaleNames = []string{"Margaret", "Joan", "Irene", "Doris", "Edna", "Vera", "Ada", "Nora", "Patricia", "Sheila", "Brenda", "Maureen", "Jean", "Sylvia"}
	maleNames   = []string{"Arthur", "Dennis", "Stanley", "Walter", "Harold", "Leonard", "Cyril", "Albert", "Kenneth", "Derek", "Roy", "Frank", "Ernest", "Clifford"}
	youngNames  = [2][]string{{"Priya", "Aisha", "Chloe", "Kemi", "Sophie", "Hannah"}, {"Daniel", "Tom", "Liam", "Kwame", "Ravi", "Owen"}}
	surnames    = []string{"Testperson", "Sampleton", "Fixture", "Synthwood", "Mockford", "Exampleby", "Dummer", "Placeholt", "Trialson", "Specimen", "Modelle", "Pretendle"}
	roads       = []string{"Example Road", "Sample Street", "Test Lane", "Fixture Close", "Mock Avenue", "Placeholder Way"}
	morningMeds = []socialcare.Medicine{{Text: "Paracetamol 500mg tablets"}, {Text: "Amlodipine 5mg tablets"}, {Text: "Furosemide 40mg tablets"}, {Text: "Lansoprazole 30mg capsules"}, {Text: "Ramipril 2.5mg capsules"}, {Text: "Metformin 500mg tablets"}}
	eveningMeds = []socialcare.Medicine{{Text: "Simvastatin 20mg tablets"}, {Text: "Donepezil 10mg tablets"}, {Text: "Senna 7.5mg tablets"}}
)

func at(day time.Time, h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// build makes the record of plan p, drawing its details from rng.
func (g *gen) build(p *plan, rng *rand.Rand) *socialcare.Record {
	i, pid := p.i, p.pid
	sw := staff(councilOrg, poolSocialWorker, i, 0)
	episodeStart := p.lineStart.AddDate(0, 0, -30)
	if p.slot.profile == profileReablement {
		episodeStart = p.lineStart.AddDate(0, 0, -1) // the discharge day
	}
	opened := at(episodeStart, 10, 0)
	nhs, _ := NHSNumberAt(i)
	rec := &socialcare.Record{
		SchemaVersion: socialcare.SchemaVersion,
		Source: socialcare.Source{
			System: "Synthetic Case Management 1.0", Organisation: Council, OrganisationName: councilName,
			RecordID: "REC-" + pid, SentAt: g.end.Format(time.RFC3339),
		},
		Person: socialcare.Person{
			Entry:           entry(pid, sw, opened, false),
			NHSNumber:       nhs,
			NHSNumberStatus: "01",
			GPPractice:      p.gp,
		},
		Episode: &socialcare.Episode{Entry: entry("EP-"+pid, sw, opened, false), Status: "active", Start: day(episodeStart)},
	}
	g.demographics(rec, p, rng)

	lineID := "CG-" + pid + "-1"
	line := socialcare.PackageLine{
		Entry:  entry(lineID, sw, at(p.lineStart, -3*24+11, 0), true),
		Status: "active", DeliveryMechanism: "CASSR Commissioned Support", Start: day(p.lineStart),
	}
	var times []string
	minutes := 0
	switch p.slot.profile {
	case profileHomeCare:
		vt := visitTimes[p.slot.calls]
		times, minutes = vt.times, vt.minutes
		line.ServiceType, line.ServiceComponent = "Long term support: Community", "Home support or domiciliary care"
		line.Provider = p.provider.provider()
		line.PlannedHoursPerWeek = json.Number(strconv.FormatFloat(float64(len(times)*7*minutes)/60, 'f', -1, 64))
		carers := 1
		if p.slot.calls == 4 {
			carers = 2
		}
		line.VisitPattern = &socialcare.VisitPattern{Days: allDays, Times: times, MinutesPerVisit: minutes, CarersPerVisit: carers}
	case profileReablement:
		times, minutes = reablementTimes, 45
		line.Entry = entry(lineID, sw, at(p.lineStart, -24+16, 30), true)
		line.ServiceType, line.ServiceComponent = "Short term support: ST-Max", "Reablement"
		line.Provider = p.provider.provider()
		line.End = day(p.lineStart.AddDate(0, 0, 42))
		line.PlannedUnitsPerWeek = "14"
		line.VisitPattern = &socialcare.VisitPattern{Days: allDays, Times: times, MinutesPerVisit: minutes, CarersPerVisit: 1}
	case profileResidential:
		line.ServiceType = "Long term support: Residential care"
		if rng.IntN(3) == 0 {
			line.ServiceType = "Long term support: Nursing care"
		}
		line.Provider = p.provider.provider()
		line.PlannedUnitsPerWeek = "7"
	case profileDirectPayment:
		line.ServiceType, line.ServiceComponent, line.DeliveryMechanism = "Long term support: Community", "Direct payment", "Direct Payment"
		line.PlannedHoursPerWeek = json.Number([]string{"8", "12", "20"}[rng.IntN(3)])
	}
	rec.CarePackage = []socialcare.PackageLine{line}

	review := g.end.AddDate(0, 0, -(1 + rng.IntN(365)))
	if min := p.lineStart.AddDate(0, 0, 7); review.Before(min) {
		review = min
	}
	rec.CarePlan = g.carePlan(p, sw, lineID, review)
	rec.Assessments = g.assessments(p, sw, review, rng)

	var events dayEvents
	events.p, events.rec, events.rng = p, rec, rng
	switch p.slot.profile {
	case profileHomeCare, profileReablement:
		var workers []*socialcare.Author
		if p.slot.profile == profileHomeCare {
			workers = team(p.provider, poolCareWorker, i)
		} else {
			workers = team(p.provider, poolReablement, i)
		}
		meds := pick(morningMeds, p.morning, rng)
		evening := pick(eveningMeds, p.evening, rng)
		for d := 0; d < g.days; d++ {
			date := g.start.AddDate(0, 0, d)
			if date.Before(p.from) {
				continue
			}
			first := len(rec.Visits)
			for c, t := range times {
				w := workers[(d+c)%len(workers)]
				v := visit(rec, p, lineID, date, c, len(times), t, minutes, w, rng)
				switch {
				case c == 0 && len(meds) > 0:
					doses(rec, p, v, meds, w, rng)
				case c == len(times)-1 && len(evening) > 0:
					doses(rec, p, v, evening, w, rng)
				}
			}
			events.homeDay(date, &rec.Visits[first], workers[d%len(workers)])
		}
	case profileResidential:
		carers := team(p.provider, poolCareAssistant, i)
		senior := staff(p.provider, poolSeniorCarer, i, 0)
		meds := pick(morningMeds, p.morning, rng)
		evening := pick(eveningMeds, p.evening, rng)
		for d := 0; d < g.days; d++ {
			date := g.start.AddDate(0, 0, d)
			round(rec, p, date, 8, meds, carers[d%len(carers)], rng)
			round(rec, p, date, 20, evening, carers[(d+1)%len(carers)], rng)
			events.careHomeDay(date, senior)
		}
	case profileDirectPayment:
		for d := 0; d < g.days; d++ {
			if rng.Float64() < pChangeDP {
				date := g.start.AddDate(0, 0, d)
				events.change(sw, date, 11, "circumstances", "Phoned to say their personal assistant is leaving next month; looking for a new one.", "fact")
			}
		}
	}
	g.sharing(rec, p, sw, episodeStart, rng)
	return rec
}

var allDays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// pick returns n medicines from list, starting at a random one.
func pick(list []socialcare.Medicine, n int, rng *rand.Rand) []socialcare.Medicine {
	if n == 0 {
		return nil
	}
	start := rng.IntN(len(list))
	out := make([]socialcare.Medicine, n)
	for k := range out {
		out[k] = list[(start+k)%len(list)]
	}
	return out
}

func (g *gen) demographics(rec *socialcare.Record, p *plan, rng *rand.Rand) {
	per := &rec.Person
	female := rng.IntN(10) < 6
	age := 65 + rng.IntN(35)
	young := p.slot.profile == profileDirectPayment || rng.IntN(10) == 0
	if young {
		age = 18 + rng.IntN(47)
	}
	given := maleNames
	if female {
		given = femaleNames
	}
	per.Gender = "male"
	if female {
		per.Gender = "female"
	}
	if young {
		given = youngNames[1]
		if female {
			given = youngNames[0]
		}
	}
	family := surnames[rng.IntN(len(surnames))]
	per.Name = &socialcare.Name{Given: []string{given[rng.IntN(len(given))]}, Family: family}
	per.BirthDate = fmt.Sprintf("%04d-%02d-%02d", g.end.Year()-age-1, 1+rng.IntN(12), 1+rng.IntN(28))
	per.Address = &socialcare.Address{
		Lines: []string{fmt.Sprintf("%d %s", 1+rng.IntN(120), roads[rng.IntN(len(roads))])}, City: "London",
		Postcode: fmt.Sprintf("SE%d %dZZ", 1+rng.IntN(28), rng.IntN(10)), Restricted: p.restricted,
	}
	switch {
	case young && p.slot.profile == profileDirectPayment:
		per.PrimarySupportReason = []string{"Learning Disability Support", "Learning Disability Support", "Mental Health Support", "Physical Support: Personal care support"}[rng.IntN(4)]
	case p.slot.profile == profileReablement:
		per.PrimarySupportReason = "Physical Support: Access & mobility only"
	default:
		per.PrimarySupportReason = []string{"Physical Support: Personal care support", "Physical Support: Personal care support",
			"Physical Support: Access & mobility only", "Support with Memory & Cognition", "Support with Memory & Cognition",
			"Sensory Support: Support for hearing impairment", "Sensory Support: Support for visual impairment", "Mental Health Support"}[rng.IntN(8)]
	}
	relations := []string{"Daughter", "Son", "Niece", "Nephew"}
	if age < 60 {
		relations = []string{"Mother", "Father", "Sister", "Brother"}
	}
	for c := 0; c < p.contacts; c++ {
		ct := socialcare.Contact{
			ID:    fmt.Sprintf("C-%s-%d", p.pid, c+1),
			Name:  socialcare.Name{Given: []string{staffGiven[rng.IntN(len(staffGiven))]}, Family: family},
			Phone: fmt.Sprintf("01632 960%03d", rng.IntN(1000)),
		}
		if c == 0 {
			ct.Roles, ct.Relationship = []string{"next-of-kin"}, relations[rng.IntN(len(relations))]
			if rng.IntN(4) == 0 {
				ct.Roles = append(ct.Roles, "lasting-power-of-attorney")
				ct.LPAType = []string{"health-and-welfare", "property-and-financial-affairs"}[rng.IntN(2)]
			}
		} else {
			ct.Roles, ct.Relationship = []string{"unpaid-carer"}, "Neighbour"
			ct.Name.Family = surnames[rng.IntN(len(surnames))]
		}
		per.Contacts = append(per.Contacts, ct)
	}
	if p.needs > 0 {
		per.Communication = &socialcare.Communication{Language: []string{"pa", "bn", "so", "pl", "yo"}[rng.IntN(5)], InterpreterNeeded: true}
		texts := []string{"Needs an interpreter for assessments and reviews.", "Hard of hearing: face them and speak clearly.", "Prefers written information in large print."}
		for k := 0; k < p.needs; k++ {
			per.Communication.Needs = append(per.Communication.Needs, texts[k])
		}
	}
}

// carePlanParts are the needs and outcomes of a plan for p.
func carePlanParts(p *plan) ([]socialcare.Need, []socialcare.Outcome, string) {
	switch p.slot.profile {
	case profileReablement:
		return []socialcare.Need{
				{ID: "N1", Text: "Needs to regain confidence washing and dressing after a hospital stay."},
				{ID: "N2", Text: "Needs to relearn making hot drinks and simple meals safely."},
			}, []socialcare.Outcome{
				{ID: "O1", Text: "To manage my own personal care again.", NeedIDs: []string{"N1"}},
				{ID: "O2", Text: "To make my own breakfast.", NeedIDs: []string{"N2"}},
			}, "The community reablement team visits twice a day for up to six weeks."
	case profileResidential:
		return []socialcare.Need{
				{ID: "N1", Text: "Needs support day and night with personal care."},
				{ID: "N2", Text: "Needs all medicines given by staff."},
			}, []socialcare.Outcome{
				{ID: "O1", Text: "To feel settled and safe where I live.", NeedIDs: []string{"N1", "N2"}},
			}, "A permanent place at the care home."
	case profileDirectPayment:
		return []socialcare.Need{
				{ID: "N1", Text: "Needs support to go out and take part in the community."},
				{ID: "N2", Text: "Needs help to plan and cook meals."},
			}, []socialcare.Outcome{
				{ID: "O1", Text: "To go to my college course twice a week.", NeedIDs: []string{"N1"}},
				{ID: "O2", Text: "To cook a meal for myself.", NeedIDs: []string{"N2"}},
			}, "A personal assistant employed with a direct payment."
	}
	needs := []socialcare.Need{
		{ID: "N1", Text: "Needs help to wash and dress each morning."},
		{ID: "N2", Text: "Needs meals prepared."},
	}
	outcomes := []socialcare.Outcome{{ID: "O1", Text: "To stay living in my own home.", NeedIDs: []string{"N1", "N2"}}}
	if p.morning > 0 {
		needs = append(needs, socialcare.Need{ID: "N3", Text: "Needs support to take medicines on time."})
		outcomes = append(outcomes, socialcare.Outcome{ID: "O2", Text: "To take my medicines on time.", NeedIDs: []string{"N3"}})
	}
	if p.slot.calls == 4 {
		needs = append(needs, socialcare.Need{ID: "N4", Text: "Needs two carers and a hoist to move."})
	}
	return needs, outcomes, fmt.Sprintf("Home care visits %d times a day.", p.slot.calls)
}

func (g *gen) carePlan(p *plan, sw *socialcare.Author, lineID string, review time.Time) *socialcare.CarePlan {
	needs, outcomes, support := carePlanParts(p)
	agreed := true
	cp := &socialcare.CarePlan{
		Entry:  entry("CSP-"+p.pid, sw, at(p.lineStart, -2*24+14, 0), true),
		Status: "active", Start: day(p.lineStart), Needs: needs, Outcomes: outcomes,
		PlannedSupport:   []socialcare.PlannedSupport{{ID: "S1", Text: support, PackageLineID: lineID}},
		AgreedWithPerson: &agreed, NextReviewDate: day(review.AddDate(1, 0, 0)),
	}
	if p.slot.profile == profileReablement {
		cp.Entry = entry("CSP-"+p.pid, sw, at(p.lineStart, -24+16, 45), true)
		cp.NextReviewDate = day(p.lineStart.AddDate(0, 0, 42))
		for k := range cp.Outcomes {
			cp.Outcomes[k].TargetDate = cp.NextReviewDate
		}
	}
	return cp
}

// assessmentCount is how many assessments and reviews p's record has.
func assessmentCount(p *plan) int {
	switch {
	case p.slot.profile == profileReablement:
		return 1
	case p.slot.calls == 4:
		return 3
	}
	return 2
}

func (g *gen) assessments(p *plan, sw *socialcare.Author, review time.Time, rng *rand.Rand) []socialcare.Assessment {
	mk := func(n int, a *socialcare.Author, typ, what, setting string, date time.Time, recordedAt int, outcome string) socialcare.Assessment {
		return socialcare.Assessment{
			Entry: entry(fmt.Sprintf("AS-%s-%d", p.pid, n), a, at(date, recordedAt, 0), true),
			Type:  typ, AssessmentType: what, Setting: setting, Start: day(date), End: day(date), Outcome: outcome,
		}
	}
	if p.slot.profile == profileReablement {
		discharge := p.lineStart.AddDate(0, 0, -1)
		return []socialcare.Assessment{mk(1, staff(acuteTrust, poolTherapist, p.i, 0), "assessment", "Discharge to assess", "home",
			discharge, 15, "Progress to reablement/ST-Max")}
	}
	setting := "home"
	if rng.IntN(5) == 0 {
		setting = "virtual"
	}
	out := []socialcare.Assessment{
		mk(1, sw, "assessment", "Long term assessment", "home", p.lineStart.AddDate(0, 0, -21), 16, "Progress to support planning or services"),
		mk(2, sw, "review", "Planned review", setting, review, 16, "Continuation of support or services"),
	}
	if p.slot.calls == 4 {
		joint := g.end.AddDate(0, 0, -(1 + rng.IntN(60)))
		out = append(out, mk(3, staff(communityTrust, poolNurse, p.i, 0), "review", "Joint health and social care review", "home",
			joint, 17, "Continuation of support or services"))
	}
	return out
}

var (
	visitNotes = map[string][]string{
		"morning": {"Helped with a wash and dressing. Ate porridge and drank tea.", "Assisted with a shower and dressing; made toast and tea.", "Helped to get up and dressed; breakfast eaten."},
		"lunch":   {"Made a sandwich and soup; ate most of it.", "Heated a ready meal; ate well."},
		"tea":     {"Prepared tea; ate half and kept the rest for later.", "Made beans on toast and a hot drink."},
		"bed":     {"Helped to change and settle into bed; call bell in reach.", "Assisted to bed; commode emptied and cleaned."},
		"reable":  {"Practised washing at the sink with prompting; managed most of it alone.", "Made a hot drink with supervision; getting steadier.", "Dressed independently; needed help only with socks."},
	}
	opinions    = []string{"Seemed a little low in mood today.", "Appeared more confused than usual.", "Seemed brighter and chattier than last week."}
	occurrences = []string{"Small red area on the left heel; reported to the office.", "Fridge nearly empty; family told.", "Front door found unlocked on arrival."}
	services    = map[string][]string{
		"morning": {"Personal care", "Breakfast"}, "lunch": {"Lunch"}, "tea": {"Meal preparation"},
		"bed": {"Personal care", "Getting ready for bed"}, "reable": {"Reablement"},
	}
)

// callKind names visit c of n in a day.
func callKind(p *plan, c, n int) string {
	if p.slot.profile == profileReablement {
		return "reable"
	}
	switch {
	case c == 0:
		return "morning"
	case c == n-1 && n == 4:
		return "bed"
	case c == n-1:
		return "tea"
	}
	return "lunch"
}

// visit adds visit c (of n) on date at hh:mm and returns it.
func visit(rec *socialcare.Record, p *plan, lineID string, date time.Time, c, n int, hhmm string, minutes int, w *socialcare.Author, rng *rand.Rand) *socialcare.Visit {
	h, _ := strconv.Atoi(hhmm[:2])
	m, _ := strconv.Atoi(hhmm[3:])
	planned := at(date, h, m)
	kind := callKind(p, c, n)
	v := socialcare.Visit{
		PackageLineID: lineID, Status: "completed",
		PlannedStart: planned.Format(time.RFC3339), PlannedEnd: planned.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339),
	}
	id := fmt.Sprintf("V-%s-%s-%s%s", p.pid, date.Format("20060102"), hhmm[:2], hhmm[3:])
	switch r := rng.Float64(); {
	case r < pMissed:
		v.Status = "missed"
		v.Entry = entry(id, w, planned.Add(2*time.Hour), true)
		v.Notes = []socialcare.Note{{Kind: "fact", Text: "Visit missed: no carer was available. The office phoned the person and their family."}}
	case r < pMissed+pCancelled:
		v.Status = "cancelled"
		v.Entry = entry(id, w, planned.Add(-time.Hour), true)
		v.Notes = []socialcare.Note{{Kind: "fact", Text: "Visit cancelled by the family: the person was out for the day."}}
	default:
		start := planned.Add(time.Duration(rng.IntN(36)-10) * time.Minute)
		stop := start.Add(time.Duration(minutes-5+rng.IntN(11)) * time.Minute)
		v.ActualStart, v.ActualEnd = start.Format(time.RFC3339), stop.Format(time.RFC3339)
		v.Entry = entry(id, w, stop.Add(3*time.Minute), true)
		notes := visitNotes[kind]
		v.Notes = []socialcare.Note{{Kind: "fact", Text: notes[rng.IntN(len(notes))]}}
		if rng.Float64() < pOpinion {
			v.Notes = append(v.Notes, socialcare.Note{Kind: "opinion", Text: opinions[rng.IntN(len(opinions))]})
		}
		if rng.Float64() < pOccurrence {
			v.Occurrences = []socialcare.Note{{Kind: "fact", Text: occurrences[rng.IntN(len(occurrences))]}}
		}
	}
	v.Services = services[kind]
	rec.Visits = append(rec.Visits, v)
	return &rec.Visits[len(rec.Visits)-1]
}

var (
	refusals = []string{"Declined the tablets.", "Said the tablets make them feel sick and did not want them."}
	missedAt = "Asleep and could not be woken within the dose window; office told."
	noStock  = "None left in the blister pack; pharmacy called."
)

// outcome draws a dose's outcome and reason.
func outcome(rng *rand.Rand) (string, string) {
	switch r := rng.IntN(1000); {
	case r < 25:
		return "refused", refusals[rng.IntN(len(refusals))]
	case r < 35:
		return "missed", missedAt
	case r < 40:
		return "not-available", noStock
	}
	return "taken", ""
}

// doses adds help with each medicine at visit v.
func doses(rec *socialcare.Record, p *plan, v *socialcare.Visit, meds []socialcare.Medicine, w *socialcare.Author, rng *rand.Rand) {
	when, _ := time.Parse(time.RFC3339, v.PlannedStart)
	if v.ActualStart != "" {
		when, _ = time.Parse(time.RFC3339, v.ActualStart)
	}
	for k, med := range meds {
		t := when.Add(time.Duration(10+k) * time.Minute)
		m := socialcare.Medication{
			Entry:   entry(fmt.Sprintf("M-%s-%d", v.ID, k+1), w, t.Add(time.Minute), true),
			VisitID: v.ID, Medicine: med, Dose: "One tablet", Route: "Oral",
			Time: t.Format(time.RFC3339), Support: p.support,
		}
		if v.Status == "completed" {
			m.Outcome, m.Reason = outcome(rng)
		} else {
			m.Outcome, m.Reason = "missed", "The visit did not take place."
		}
		rec.Medications = append(rec.Medications, m)
	}
}

// round adds a care home's medicine round at hour h on date.
func round(rec *socialcare.Record, p *plan, date time.Time, h int, meds []socialcare.Medicine, w *socialcare.Author, rng *rand.Rand) {
	start := at(date, h, rng.IntN(40))
	for k, med := range meds {
		t := start.Add(time.Duration(k) * time.Minute)
		m := socialcare.Medication{
			Entry:    entry(fmt.Sprintf("M-%s-%s-%02d-%d", p.pid, date.Format("20060102"), h, k+1), w, t.Add(5*time.Minute), true),
			Medicine: med, Dose: "One tablet", Route: "Oral", Time: t.Format(time.RFC3339), Support: p.support,
		}
		m.Outcome, m.Reason = outcome(rng)
		rec.Medications = append(rec.Medications, m)
	}
}

// dayEvents adds the incidents, changes and transactions of a day.
type dayEvents struct {
	p                  *plan
	rec                *socialcare.Record
	rng                *rand.Rand
	incidents, changes int
}

func (e *dayEvents) incident(a *socialcare.Author, v *socialcare.Visit, t time.Time, typ, desc, harm, action string, informed ...string) {
	e.incidents++
	in := socialcare.Incident{
		Entry: entry(fmt.Sprintf("INC-%s-%d", e.p.pid, e.incidents), a, t.Add(50*time.Minute), true),
		Type:  typ, Time: t.Format(time.RFC3339), Description: desc, Harm: harm, ActionTaken: action, PeopleInformed: informed,
	}
	if v != nil {
		in.VisitID = v.ID
	}
	e.rec.Incidents = append(e.rec.Incidents, in)
}

func (e *dayEvents) change(a *socialcare.Author, date time.Time, h int, typ, desc, kind string) {
	e.changes++
	t := at(date, h, 0)
	e.rec.Changes = append(e.rec.Changes, socialcare.Change{
		Entry: entry(fmt.Sprintf("CH-%s-%d", e.p.pid, e.changes), a, t.Add(30*time.Minute), true),
		Type:  typ, Time: t.Format(time.RFC3339), Description: desc, Kind: kind,
	})
}

// homeDay adds a day's events at home; first is the day's first visit.
func (e *dayEvents) homeDay(date time.Time, first *socialcare.Visit, w *socialcare.Author) {
	rng := e.rng
	var v *socialcare.Visit
	t := at(date, 9, 0)
	if first.Status == "completed" {
		v = first
		t, _ = time.Parse(time.RFC3339, first.ActualStart)
		w = first.Author
	}
	if rng.Float64() < pFall {
		e.incident(w, v, t, "fall", "Found on the floor on arrival; said they slipped getting up from the chair.",
			[]string{"none", "low"}[rng.IntN(2)], "Checked for injuries and helped up; called 111 for advice.", "Next of kin", "Home care office", "GP practice")
		if rng.Float64() < pFallChange {
			e.change(w, date, 12, "physical-condition", "Walking less steadily since the fall; now using a frame indoors.", "fact")
		}
	}
	if rng.Float64() < pSafeguarding {
		e.incident(w, v, t, "safeguarding-concern", "Bruising on both upper arms; said a visitor grabbed them.", "moderate",
			"Body map completed; safeguarding referral made to the council.", "Council adult safeguarding team", "Home care manager")
	}
	if rng.Float64() < pChange {
		if rng.IntN(2) == 0 {
			e.change(w, date, 12, "care-needs", "Needs more help with dressing than the plan allows.", "fact")
		} else {
			e.change(w, date, 12, "health", "Seems more breathless than usual on the stairs.", "opinion")
		}
	}
	if e.p.shopping && date.Weekday() == e.p.shopDay {
		e.rec.Transactions = append(e.rec.Transactions, socialcare.Transaction{
			Entry: entry(fmt.Sprintf("TX-%s-%s", e.p.pid, date.Format("20060102")), w, at(date, 13, 0), true),
			Date:  day(date), Amount: json.Number(fmt.Sprintf("%d.%02d", 8+rng.IntN(35), rng.IntN(100))), Currency: "GBP",
			Direction: "paid-out", Purpose: "Weekly shopping at the corner shop",
			ReceiptReference: fmt.Sprintf("RCPT-%s-%s", e.p.pid, date.Format("20060102")),
		})
	}
}

// careHomeDay adds a day's events in a care home, written by its senior
// carer.
func (e *dayEvents) careHomeDay(date time.Time, senior *socialcare.Author) {
	rng := e.rng
	if rng.Float64() < pFallHome {
		e.incident(senior, nil, at(date, 14, 0), "fall", "Found sitting on the bedroom floor; said they lost their balance.",
			[]string{"none", "low"}[rng.IntN(2)], "Checked for injuries and helped up with the hoist; GP informed.", "Next of kin", "GP practice")
		if rng.Float64() < pFallChange {
			e.change(senior, date, 16, "physical-condition", "Now needs two staff to transfer.", "fact")
		}
	}
	if rng.Float64() < pSafeguarding {
		e.incident(senior, nil, at(date, 15, 0), "safeguarding-concern", "Unexplained bruise on the forearm.", "low",
			"Body map completed; safeguarding referral made to the council.", "Council adult safeguarding team", "Registered manager")
	}
	if date.Weekday() == e.p.weekly {
		notes := []string{"Eating and drinking well this week.", "Sleeping poorly; up several times at night.", "Enjoyed the music afternoon; joined in singing."}
		kind := "fact"
		if rng.IntN(5) == 0 {
			kind = "opinion"
		}
		e.change(senior, date, 15, "care-needs", notes[rng.IntN(len(notes))], kind)
	}
}

func (g *gen) sharing(rec *socialcare.Record, p *plan, sw *socialcare.Author, since time.Time, rng *rand.Rand) {
	span := int(g.end.Sub(since).Hours()/24) - 1
	if span < 1 {
		span = 1
	}
	date := since.AddDate(0, 0, rng.IntN(span))
	switch {
	case p.objection:
		rec.SharingDecisions = []socialcare.SharingDecision{{
			Entry: entry("SD-"+p.pid+"-1", sw, at(date, 14, 0), true), Type: "objection", Date: day(date),
			Purpose: "Does not want NHS staff to see council records.",
		}}
	case p.consent:
		rec.SharingDecisions = []socialcare.SharingDecision{{
			Entry: entry("SD-"+p.pid+"-1", sw, at(date, 14, 0), true), Type: "consent", Date: day(date),
			Start: day(date), End: day(date.AddDate(1, 0, 0)),
			ThirdParty: &socialcare.ThirdParty{Kind: "person", Name: staffGiven[rng.IntN(len(staffGiven))] + " Advocate", Relationship: "Independent advocate"},
			Purpose:    "Advocacy at care reviews",
		}}
	}
}

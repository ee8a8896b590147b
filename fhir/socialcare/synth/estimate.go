package synth

import (
	"errors"
	"time"
)

// Estimate is about how many FHIR resources [Caseload]'s records come to
// once imported: each person's own resources (Patient, their entries'
// resources and one Provenance per entry), plus the directory resources
// the records share (Organization, Practitioner, PractitionerRole), which
// the store keeps once.
type Estimate struct {
	People int
	// PerPerson is the mean number of a person's own resources.
	PerPerson float64
	// Directory is the number of shared resources.
	Directory int
	// Resources is the estimated total: People × PerPerson + Directory.
	Resources int
}

// EstimateCaseload works out what [Caseload] would make with opt, without
// making it: it draws every person's plan (the choices that decide how many
// entries their record has: profile, visits a day, medicines, contacts,
// ...) and adds up the resources those entries translate to, taking the
// day-by-day events (falls, notes of opinion, changes) at their expected
// rates. A test keeps it within a few per cent of counting what
// socialcare.Translate returns.
func EstimateCaseload(opt Options) (Estimate, error) {
	g, err := newGen(opt, time.Now())
	if err != nil {
		return Estimate{}, err
	}
	type member struct {
		ods, pool string
		team, k   int
	}
	orgs := map[string]bool{Council: true}
	staffSeen := map[member]bool{}
	addTeam := func(o org, p pool, i int) {
		orgs[o.ods] = true
		for k := 0; k < p.size; k++ {
			staffSeen[member{o.ods, p.code, i / p.per, k}] = true
		}
	}
	var total float64
	for i := 0; i < opt.People; i++ {
		p, _ := g.plan(i)
		total += g.expected(p)
		orgs[p.gp] = true
		addTeam(councilOrg, poolSocialWorker, i)
		switch p.slot.profile {
		case profileHomeCare:
			addTeam(p.provider, poolCareWorker, i)
			if p.slot.calls == 4 {
				addTeam(communityTrust, poolNurse, i)
			}
		case profileReablement:
			addTeam(p.provider, poolReablement, i)
			addTeam(acuteTrust, poolTherapist, i)
		case profileResidential:
			addTeam(p.provider, poolCareAssistant, i)
			addTeam(p.provider, poolSeniorCarer, i)
		}
	}
	e := Estimate{People: opt.People, PerPerson: total / float64(opt.People), Directory: len(orgs) + 2*len(staffSeen)}
	e.Resources = int(total+0.5) + e.Directory
	return e, nil
}

// PeopleFor returns the number of people whose records come nearest to
// resources FHIR resources with opt's months, seed and end (opt.People is
// ignored). The estimate grows with every person added, so it searches for
// the first number of people that reaches resources, then takes it or the
// one before, whichever is nearer.
func PeopleFor(resources int, opt Options) (int, error) {
	if resources < 1 {
		return 0, errors.New("synth: the number of resources must be at least 1")
	}
	total := func(n int) (int, error) {
		if n == 0 {
			return 0, nil
		}
		opt.People = n
		e, err := EstimateCaseload(opt)
		return e.Resources, err
	}
	lo, hi := 0, 1 // total(lo) < resources
	for {
		t, err := total(hi)
		if err != nil {
			return 0, err
		}
		if t >= resources {
			break
		}
		if hi == MaxPeople {
			return MaxPeople, nil
		}
		lo, hi = hi, min(2*hi, MaxPeople)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		t, err := total(mid)
		if err != nil {
			return 0, err
		}
		if t >= resources {
			hi = mid
		} else {
			lo = mid
		}
	}
	if lo > 0 {
		tl, err := total(lo)
		if err != nil {
			return 0, err
		}
		th, err := total(hi)
		if err != nil {
			return 0, err
		}
		if resources-tl < th-resources {
			return lo, nil
		}
	}
	return hi, nil
}

// expected is the mean number of p's own resources: mirrors build and
// socialcare.Translate (one resource per entry, plus its Provenance, plus
// the extra resources some entries make).
func (g *gen) expected(p *plan) float64 {
	n := 2.0                     // Patient and its Provenance
	n += float64(p.contacts) + 1 // RelatedPerson each, primary support reason Observation
	n += float64(p.needs)        // communication need Flags
	n += 2 + 2                   // EpisodeOfCare, ServiceRequest, each with its Provenance
	needs, outcomes, _ := carePlanParts(p)
	n += float64(2 + len(needs) + len(outcomes)) // CarePlan, its Provenance, need Observations, Goals
	n += 2 * float64(assessmentCount(p))         // Encounter and Provenance each
	switch {
	case p.objection:
		n += 2 // Consent, Provenance
	case p.consent:
		n += 3 // Consent, the third party's RelatedPerson, Provenance
	}
	days := float64(int(g.end.Sub(p.from).Hours()+0.5) / 24)
	perDose := 2.0 // MedicationAdministration, Provenance
	switch p.slot.profile {
	case profileHomeCare, profileReablement:
		calls := float64(p.slot.calls)
		// Encounter, fact note, Provenance; opinion and occurrence on some.
		n += days * calls * (3 + pCompleted*(pOpinion+pOccurrence))
		n += days * float64(p.morning+p.evening) * perDose
		n += days * (pFall*(2+pFallChange*2) + pSafeguarding*3 + pChange*2)
		if p.shopping {
			n += 2 * float64(countWeekday(p.from, int(days), p.shopDay))
		}
	case profileResidential:
		n += days * float64(p.morning+p.evening) * perDose
		n += days * (pFallHome*(2+pFallChange*2) + pSafeguarding*3)
		n += 2 * float64(countWeekday(p.from, int(days), p.weekly))
	case profileDirectPayment:
		n += days * pChangeDP * 2
	}
	return n
}

// countWeekday is how many of the days days from from fall on wd.
func countWeekday(from time.Time, days int, wd time.Weekday) int {
	n := days / 7
	if (int(wd)-int(from.Weekday())+7)%7 < days%7 {
		n++
	}
	return n
}

package synth

import (
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// Fixture is a named synthetic person.
type Fixture struct {
	// Name is the fixture's file name without extension.
	Name   string
	Record *socialcare.Record
}

// base is the reference time of the fixtures: every time in them is
// before it.
var base = time.Date(2025, time.March, 3, 0, 0, 0, 0, time.UTC)

// Fixtures returns the named fixture people, one per scenario.
func Fixtures() []Fixture {
	at := func(d, h, m int) time.Time {
		return base.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	var out []Fixture
	add := func(name string, rec *socialcare.Record) { out = append(out, Fixture{name, rec}) }

	// 1. Daily home care with medication prompts.
	r := person(1, at(-20, 10, 0))
	homeCare(r, base, 3, true)
	r.Medications[0].Medicine = socialcare.Medicine{DMDCode: "317972000", Text: "Furosemide 40mg tablets"}
	r.Medications[0].Dose = "One tablet"
	add("01-daily-home-care", r)

	// 2. A refused and a missed dose.
	r = person(2, at(-20, 10, 0))
	homeCare(r, base, 3, true)
	r.Medications[1].Outcome = "refused"
	r.Medications[1].Reason = "Said she felt sick and did not want the tablets."
	r.Medications[2].Outcome = "missed"
	r.Medications[2].Reason = "Tablets were not in the blister pack; pharmacy called."
	add("02-refused-and-missed-dose", r)

	// 3. A fall.
	r = person(3, at(-20, 10, 0))
	homeCare(r, base, 2, false)
	w := worker(1)
	r.Incidents = append(r.Incidents, socialcare.Incident{
		Entry: entry("INC-3-1", w, at(1, 9, 30), true), Type: "fall", VisitID: r.Visits[1].ID,
		Time: at(1, 8, 5).Format(time.RFC3339), Description: "Found on the kitchen floor on arrival; said she slipped getting up from the chair.",
		Harm: "low", ActionTaken: "Checked for injuries, helped up with the hoist, called 111 for advice.",
		PeopleInformed: []string{"Daughter (next of kin)", "Home care office", "GP practice"},
	})
	r.Changes = append(r.Changes, socialcare.Change{
		Entry: entry("CH-3-1", w, at(1, 9, 35), true), Type: "physical-condition",
		Time: at(1, 8, 5).Format(time.RFC3339), Description: "Walking less steadily since the fall; now using a frame indoors.",
	})
	add("03-fall", r)

	// 4. A safeguarding concern.
	r = person(4, at(-20, 10, 0))
	homeCare(r, base, 2, false)
	r.Incidents = append(r.Incidents, socialcare.Incident{
		Entry: entry("INC-4-1", worker(0), at(0, 10, 0), true), Type: "safeguarding-concern", VisitID: r.Visits[0].ID,
		Time: at(0, 8, 30).Format(time.RFC3339), Description: "Bruising on both upper arms; person said a visitor grabbed her.",
		Harm: "moderate", ActionTaken: "Body map completed; safeguarding referral made to the council.",
		PeopleInformed: []string{"Council adult safeguarding team", "Home care manager"},
	})
	add("04-safeguarding-concern", r)

	// 5. Objected to sharing.
	r = person(5, at(-20, 10, 0))
	r.SharingDecisions = append(r.SharingDecisions, socialcare.SharingDecision{
		Entry: entry("SD-5-1", socialWorker(), at(-10, 14, 0), true), Type: "objection", Date: day(at(-10, 0, 0)),
		Purpose: "Does not want the local care record to show council records.",
	})
	add("05-objection-to-sharing", r)

	// 6. Lasting power of attorney and an unpaid carer.
	r = person(6, at(-20, 10, 0))
	r.Person.Contacts = []socialcare.Contact{
		{ID: "C6-1", Name: socialcare.Name{Given: []string{"Susan"}, Family: "Sampleton"}, Roles: []string{"next-of-kin", "lasting-power-of-attorney"},
			Relationship: "Daughter", LPAType: "health-and-welfare", Phone: "01632 960001"},
		{ID: "C6-2", Name: socialcare.Name{Given: []string{"Brian"}, Family: "Sampleton"}, Roles: []string{"unpaid-carer"}, Relationship: "Husband"},
	}
	r.Person.PrimarySupportReason = "Support with Memory & Cognition"
	add("06-lpa-and-unpaid-carer", r)

	// 7. Residential care.
	r = person(7, at(-20, 10, 0))
	r.CarePackage = []socialcare.PackageLine{{
		Entry: entry("CG-7-1", socialWorker(), at(-30, 11, 0), true), ServiceType: "Long term support: Residential care",
		Provider: &socialcare.Provider{ODS: CareHome, Name: careHomeName}, Start: day(at(-30, 0, 0)),
	}}
	r.Changes = []socialcare.Change{{
		Entry: entry("CH-7-1", &socialcare.Author{ID: "CH-STAFF-1", Name: "Lee Nurse", Role: "Senior carer", Organisation: CareHome, OrganisationName: careHomeName},
			at(-2, 16, 0), false),
		Type: "care-needs", Time: day(at(-2, 0, 0)), Description: "Now needs two staff to transfer.",
	}}
	add("07-residential-care", r)

	// 8. No verified NHS number.
	r = person(8, at(-20, 10, 0))
	r.Person.NHSNumber = ""
	r.Person.NHSNumberStatus = "03"
	add("08-no-verified-nhs-number", r)

	// 9. A person who has died.
	r = person(9, at(-5, 10, 0))
	r.Person.DeathDate = day(at(-6, 0, 0))
	r.Episode.Status = "finished"
	r.Episode.End = day(at(-6, 0, 0))
	r.Assessments = []socialcare.Assessment{{
		Entry: entry("AS-9-1", socialWorker(), at(-5, 10, 0), true), Type: "review", Setting: "office",
		Start: day(at(-5, 0, 0)), End: day(at(-5, 0, 0)), Outcome: "NFA: Deceased",
	}}
	add("09-deceased", r)

	// 10. Money handled for someone.
	r = person(10, at(-20, 10, 0))
	homeCare(r, base, 1, false)
	r.Transactions = []socialcare.Transaction{
		{Entry: entry("TX-10-1", worker(0), at(0, 9, 10), true), Date: day(base), Amount: "23.45", Currency: "GBP",
			Direction: "paid-out", Purpose: "Weekly shopping at the corner shop", ReceiptReference: "RCPT-0001"},
		{Entry: entry("TX-10-2", worker(0), at(0, 9, 12), true), Date: day(base), Amount: "40", Direction: "received",
			Purpose: "Cash from the person's bank card for the week", HandledBy: worker(0)},
	}
	add("10-money-handled", r)

	// 11. Consent to share with a named third party.
	r = person(11, at(-20, 10, 0))
	r.SharingDecisions = []socialcare.SharingDecision{{
		Entry: entry("SD-11-1", socialWorker(), at(-3, 15, 0), true), Type: "consent", Date: day(at(-3, 0, 0)),
		Start: day(at(-3, 0, 0)), End: day(at(362, 0, 0)),
		ThirdParty: &socialcare.ThirdParty{Kind: "organisation", Name: "Synthetic Advocacy Service"},
		Purpose:    "Advocacy at the care review",
	}}
	add("11-third-party-consent", r)

	// 12. A restricted address.
	r = person(12, at(-20, 10, 0))
	r.Person.Address.Restricted = true
	r.Person.PrimarySupportReason = "Mental Health Support"
	add("12-restricted-address", r)

	// 13. Reablement after hospital, with assessment and review.
	r = person(13, at(-20, 10, 0))
	r.CarePackage = []socialcare.PackageLine{{
		Entry: entry("CG-13-1", socialWorker(), at(-21, 11, 0), true), Status: "completed",
		ServiceType: "Short term support: ST-Max", ServiceComponent: "Reablement", DeliveryMechanism: "CASSR Commissioned Support",
		Provider: &socialcare.Provider{CQCLocationID: providerCQCID, Name: homeCareName},
		Start:    day(at(-21, 0, 0)), End: day(at(-1, 0, 0)), PlannedUnitsPerWeek: "14",
	}}
	r.Assessments = []socialcare.Assessment{
		{Entry: entry("AS-13-1", socialWorker(), at(-22, 12, 0), true), Type: "assessment", AssessmentType: "Short term assessment",
			Setting: "home", Start: day(at(-22, 0, 0)), End: day(at(-22, 0, 0)), Outcome: "Progress to reablement/ST-Max"},
		{Entry: entry("AS-13-2", socialWorker(), at(-1, 12, 0), false), Type: "review", Setting: "virtual",
			Start: day(at(-1, 0, 0)), End: day(at(-1, 0, 0)), Outcome: "NFA: Support ended as planned"},
	}
	add("13-reablement", r)

	// 14. Communication needs.
	r = person(14, at(-20, 10, 0))
	r.Person.Communication = &socialcare.Communication{
		Language: "pa", InterpreterNeeded: true,
		Needs: []string{"Speaks Punjabi; needs an interpreter for assessments.", "Hard of hearing: face her and speak clearly."},
	}
	r.Person.PrimarySupportReason = "Sensory Support: Support for hearing impairment"
	add("14-communication-needs", r)
	return out
}

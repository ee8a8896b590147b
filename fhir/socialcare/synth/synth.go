// Package synth makes synthetic social care records: the named fixture
// people under fixtures/socialcare (one per scenario the gateway must
// handle) and, for load tests, any number of people: [Caseload] shapes them
// like a council's caseload (registered GP practices, care providers,
// NHS trusts, home visits, the relationships the access policy decides on;
// see docs/synthetic-data.md) and [EstimateCaseload] says how many FHIR
// resources they make; [Generate] makes the fixed daily home-care shape the
// ingest and policy benchmarks measure.
//
// Every NHS number is from the never-issued 999 range with a valid check
// digit, and generated people each have their own ([NHSNumberAt]); names,
// addresses and staff are invented, and organisations are those of the
// policy's data sharing agreement. Output is deterministic for a given
// seed, so fixtures and golden files are stable.
package synth

import (
	"fmt"
	"strconv"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// Organisation codes used by the synthetic records. They are shaped like
// ODS codes but made up.
const (
	Council       = "SYN01" // the sending council
	HomeCare      = "SYNH1" // a home-care agency
	CareHome      = "SYNR1" // a residential home
	GPPractice    = "Y99001"
	councilName   = "Synthetic Borough Council"
	homeCareName  = "Synthetic Home Care Ltd"
	careHomeName  = "Synthetic Court Care Home"
	providerCQCID = "1-999000001"
)

// NHSNumber returns 999, the six digits of n (mod 10^6) and their Modulus
// 11 check digit or, when that would be 10, the next such number that has
// one. It is what the fixture people use, and it is not one-to-one: when
// n's check digit would be 10, n and n+1 give the same number. Use
// [NHSNumberAt] for numbers that must be distinct.
func NHSNumber(n int) string {
	for i := n; ; i++ {
		base := fmt.Sprintf("999%06d", i%1000000)
		if check := checkDigit(base); check < 10 {
			return base + strconv.Itoa(check)
		}
	}
}

// checkDigit is the Modulus 11 check digit of nine digits: 0 to 9, or 10
// when no number with those digits is valid.
func checkDigit(base string) int {
	sum := 0
	for j := 0; j < 9; j++ {
		sum += int(base[j]-'0') * (10 - j)
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check
}

// firstNHSBlock is the first block of ten nine-digit bases [NHSNumberAt]
// uses: 999 100 000 0 onwards, well away from the fixture people's numbers
// (999 000 ...) and the numbers tests write by hand.
const firstNHSBlock = 10000

// MaxPeople is how many distinct numbers [NHSNumberAt] has: nine in each
// block of ten bases from 999 100 000 to 999 999 999.
const MaxPeople = (100000 - firstNHSBlock) * 9

// NHSNumberAt returns the i-th synthetic NHS number (0 <= i < [MaxPeople]):
// never-issued 999 numbers with a valid Modulus 11 check digit, a different
// one for every i. Within a block of ten consecutive bases (the last base
// digit 0 to 9, weight 2) the check sums differ, so at most one base of the
// ten has no valid check digit; the i-th number is the (i mod 9)-th valid
// base of block i/9.
func NHSNumberAt(i int) (string, error) {
	if i < 0 || i >= MaxPeople {
		return "", fmt.Errorf("synth: synthetic NHS number %d is out of range (0 to %d)", i, MaxPeople-1)
	}
	block, k := firstNHSBlock+i/9, i%9
	for d := 0; d < 10; d++ {
		base := fmt.Sprintf("999%05d%d", block, d)
		check := checkDigit(base)
		if check == 10 {
			continue
		}
		if k == 0 {
			return base + strconv.Itoa(check), nil
		}
		k--
	}
	panic("synth: a block of ten bases has fewer than nine valid NHS numbers") // impossible, see above
}

// worker and socialWorker are the synthetic staff.
func worker(i int) *socialcare.Author {
	names := []string{"Sam Carer", "Alex Support", "Jo Helper", "Chris Aide"}
	return &socialcare.Author{
		ID: fmt.Sprintf("HC-STAFF-%02d", i%len(names)), Name: names[i%len(names)],
		Role: "Care worker", SDSJobRole: "R1460", Organisation: HomeCare, OrganisationName: homeCareName,
	}
}

func socialWorker() *socialcare.Author {
	return &socialcare.Author{
		ID: "SW-001", Name: "Pat Social-Worker", Role: "Social worker", SDSJobRole: "R1330",
		Organisation: Council, OrganisationName: councilName,
	}
}

func entry(id string, a *socialcare.Author, recorded time.Time, signed bool) socialcare.Entry {
	e := socialcare.Entry{ID: id, Author: a, Recorded: recorded.Format(time.RFC3339)}
	if signed {
		e.Signed = true
		e.SignedAt = recorded.Add(2 * time.Minute).Format(time.RFC3339)
	}
	return e
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

var (
	givenNames  = []string{"Margaret", "Arthur", "Joan", "Dennis", "Irene", "Stanley", "Doris", "Walter", "Edna", "Harold", "Vera", "Leonard", "Ada", "Cyril", "Nora", "Albert"}
	familyNames = []string{"Testperson", "Sampleton", "Fixture", "Synthwood", "Mockford", "Exampleby", "Dummer", "Placeholt"}
	streets     = []string{"Example Road", "Sample Street", "Test Lane", "Fixture Close"}
)

// person returns a base record for person n, with no entries besides the
// person.
func person(n int, recorded time.Time) *socialcare.Record {
	pid := fmt.Sprintf("P%06d", n)
	return &socialcare.Record{
		SchemaVersion: socialcare.SchemaVersion,
		Source: socialcare.Source{
			System: "Synthetic Case Management 1.0", Organisation: Council, OrganisationName: councilName,
			RecordID: "REC-" + pid, SentAt: recorded.Add(time.Hour).Format(time.RFC3339),
		},
		Person: socialcare.Person{
			Entry:           entry(pid, socialWorker(), recorded, false),
			NHSNumber:       NHSNumber(n),
			NHSNumberStatus: "01",
			Name:            &socialcare.Name{Given: []string{givenNames[n%len(givenNames)]}, Family: familyNames[n%len(familyNames)]},
			BirthDate:       fmt.Sprintf("19%02d-%02d-%02d", 30+n%40, 1+n%12, 1+n%28),
			Gender:          []string{"female", "male"}[n%2],
			Address: &socialcare.Address{
				Lines: []string{fmt.Sprintf("%d %s", 1+n%90, streets[n%len(streets)])}, City: "London",
				Postcode: fmt.Sprintf("SE1 %dZZ", n%10),
			},
			GPPractice:           GPPractice,
			PrimarySupportReason: "Physical Support: Personal care support",
		},
		Episode: &socialcare.Episode{
			Entry:  entry("EP-"+pid, socialWorker(), recorded, false),
			Status: "active", Start: day(recorded.AddDate(0, -6, 0)),
		},
	}
}

// homeCare adds a care plan, a home-care package line and visits with
// medication prompts on each of days consecutive days from start.
func homeCare(rec *socialcare.Record, start time.Time, days int, withMeds bool) {
	pid := rec.Person.ID
	sw := socialWorker()
	lineID := "CG-" + pid + "-1"
	rec.CarePackage = append(rec.CarePackage, socialcare.PackageLine{
		Entry:  entry(lineID, sw, start.AddDate(0, 0, -14), true),
		Status: "active", ServiceType: "Long term support: Community",
		ServiceComponent: "Home support or domiciliary care", DeliveryMechanism: "CASSR Commissioned Support",
		Provider: &socialcare.Provider{ODS: HomeCare, CQCLocationID: providerCQCID, Name: homeCareName},
		Start:    day(start.AddDate(0, 0, -7)), PlannedHoursPerWeek: "7",
		VisitPattern: &socialcare.VisitPattern{
			Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Times: []string{"08:00"},
			MinutesPerVisit: 60, CarersPerVisit: 1,
		},
	})
	agreed := true
	rec.CarePlan = &socialcare.CarePlan{
		Entry:  entry("CSP-"+pid, sw, start.AddDate(0, 0, -14), true),
		Status: "active", Start: day(start.AddDate(0, 0, -7)),
		Needs: []socialcare.Need{
			{ID: "N1", Text: "Needs help to wash and dress each morning."},
			{ID: "N2", Text: "Needs reminding to take morning medicines."},
		},
		Outcomes: []socialcare.Outcome{
			{ID: "O1", Text: "To stay living in my own home.", NeedIDs: []string{"N1"}},
			{ID: "O2", Text: "To take my medicines on time.", NeedIDs: []string{"N2"}, TargetDate: day(start.AddDate(0, 3, 0))},
		},
		PlannedSupport: []socialcare.PlannedSupport{
			{ID: "S1", Text: "One carer visits at 8am daily for personal care and a medication prompt.", PackageLineID: lineID},
		},
		AgreedWithPerson: &agreed,
		NextReviewDate:   day(start.AddDate(0, 6, 0)),
	}
	for d := 0; d < days; d++ {
		addVisit(rec, lineID, start.AddDate(0, 0, d), d, withMeds)
	}
}

func addVisit(rec *socialcare.Record, lineID string, date time.Time, d int, withMeds bool) {
	w := worker(d)
	planned := time.Date(date.Year(), date.Month(), date.Day(), 8, 0, 0, 0, time.UTC)
	actual := planned.Add(time.Duration(d%15) * time.Minute)
	vid := fmt.Sprintf("V-%s-%s", rec.Person.ID, day(date))
	v := socialcare.Visit{
		Entry:         entry(vid, w, actual.Add(62*time.Minute), true),
		PackageLineID: lineID, Status: "completed",
		PlannedStart: planned.Format(time.RFC3339), PlannedEnd: planned.Add(time.Hour).Format(time.RFC3339),
		ActualStart: actual.Format(time.RFC3339), ActualEnd: actual.Add(time.Hour).Format(time.RFC3339),
		Services: []string{"Personal care", "Breakfast", "Medication prompt"},
		Notes: []socialcare.Note{
			{Kind: "fact", Text: "Helped with a wash and dressing. Ate porridge and drank tea."},
		},
	}
	if d%3 == 1 {
		v.Notes = append(v.Notes, socialcare.Note{Kind: "opinion", Text: "Seemed a little low in mood today."})
	}
	rec.Visits = append(rec.Visits, v)
	if withMeds {
		rec.Medications = append(rec.Medications, socialcare.Medication{
			Entry:    entry("M-"+vid, w, actual.Add(61*time.Minute), true),
			VisitID:  vid,
			Medicine: socialcare.Medicine{Text: "Paracetamol 500mg tablets"},
			Dose:     "Two tablets", Route: "Oral", Time: actual.Add(20 * time.Minute).Format(time.RFC3339),
			Support: "prompt", Outcome: "taken",
		})
	}
}

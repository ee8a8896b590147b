package synth

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// Generate calls fn with n synthetic people, each with a daily home-care
// package and months months of daily visits and medication prompts ending
// before end, all registered with the fixtures' GP practice and cared for
// by the fixtures' home-care agency. Person i has the NHS number
// [NHSNumberAt](i). The same seed gives the same people. Generate stops at
// the first error fn returns.
//
// Generate is the fixed shape the ingest and policy benchmarks measure;
// [Caseload] makes people shaped like a council's caseload.
func Generate(n, months int, seed uint64, end time.Time, fn func(*socialcare.Record) error) error {
	if n > MaxPeople {
		return fmt.Errorf("synth: at most %d people", MaxPeople)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		id := 100000 + i
		start := end.AddDate(0, -months, 0)
		rec := person(id, start.Add(-time.Hour))
		rec.Person.NHSNumber, _ = NHSNumberAt(i)
		days := int(end.Sub(start).Hours()/24) - 1
		homeCare(rec, start, days, true)
		for j := range rec.Medications {
			switch rng.IntN(40) {
			case 0:
				rec.Medications[j].Outcome = "refused"
				rec.Medications[j].Reason = "Declined the tablets."
			case 1:
				rec.Medications[j].Outcome = "missed"
				rec.Medications[j].Reason = "Visit ran late; dose window passed."
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

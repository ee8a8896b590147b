package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/socialcare/synth"
)

// synthCmd writes synthetic people shaped like a council's caseload as
// NDJSON social care records, one person a line, for load tests:
//
//	gateway synth -people 100 -months 3 > load.ndjson
//	gateway synth -resources 100000 -months 3 > load.ndjson
//
// It prints to stderr about how many FHIR resources the records make once
// imported. Records are made one at a time, so memory does not grow with
// -people.
func synthCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	people := fs.Int("people", 10, "number of synthetic people (records)")
	months := fs.Int("months", 1, fmt.Sprintf("months of visits, doses and events per person, 1 to %d", synth.MaxMonths))
	seed := fs.Uint64("seed", 1, "random seed (the same seed, -end and -months give the same records)")
	end := fs.String("end", "", "YYYY-MM-DD: activity ends the day before (default today, UTC); not after today")
	resources := fs.Int("resources", 0, "make about this many FHIR resources: chooses -people for -months (instead of -people)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gateway synth [flags] > FILE.ndjson\n\nWrites synthetic people shaped like a council's adult social care caseload, one record a line,\nand prints to stderr about how many FHIR resources they make once imported (see docs/synthetic-data.md).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	opt := synth.Options{People: *people, Months: *months, Seed: *seed}
	if *end != "" {
		t, err := time.Parse(time.DateOnly, *end)
		if err != nil {
			return fmt.Errorf("-end must be a date written YYYY-MM-DD: %w", err)
		}
		opt.End = t
	}
	peopleSet := false
	fs.Visit(func(f *flag.Flag) { peopleSet = peopleSet || f.Name == "people" })
	if *resources != 0 {
		if peopleSet {
			return errors.New("give -people or -resources, not both")
		}
		n, err := synth.PeopleFor(*resources, opt)
		if err != nil {
			return err
		}
		opt.People = n
	}
	est, err := synth.EstimateCaseload(opt)
	if err != nil {
		return err
	}
	last := opt.End
	if last.IsZero() {
		last = time.Now().UTC()
	}
	fmt.Fprintf(stderr, "synth: %d people × %d months (activity to %s): about %d FHIR resources (%.0f a person, %d shared Organization/Practitioner/PractitionerRole)\n",
		opt.People, opt.Months, last.AddDate(0, 0, -1).Format(time.DateOnly), est.Resources, est.PerPerson, est.Directory)
	if *resources != 0 && (est.Resources > *resources*11/10 || est.Resources < *resources*9/10) {
		fmt.Fprintf(stderr, "synth: that is not within 10%% of %d: a person is too large a step at %d months; ask for fewer -months\n", *resources, opt.Months)
	}

	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	err = synth.Caseload(opt, func(r *socialcare.Record) error {
		return enc.Encode(r)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/socialcare/synth"
)

// synthCmd writes N synthetic people with M months of visits as NDJSON
// social care records, for load tests: gateway synth -people 100 -months 3 > load.ndjson
func synthCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	people := fs.Int("people", 10, "number of synthetic people")
	months := fs.Int("months", 1, "months of visits per person")
	seed := fs.Uint64("seed", 1, "random seed (the same seed gives the same records)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if *people < 1 || *months < 1 {
		return errors.New("-people and -months must be at least 1")
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	err := synth.Generate(*people, *months, *seed, time.Now().UTC().Truncate(24*time.Hour), func(r *socialcare.Record) error {
		return enc.Encode(r)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

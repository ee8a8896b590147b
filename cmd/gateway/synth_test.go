package main

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// The generator writes the number of people asked for, each a record the
// translator accepts with a care package line; in a block of twenty people,
// most have home visits.
func TestSynthWritesValidRecords(t *testing.T) {
	var out bytes.Buffer
	if err := synthCmd([]string{"-people", "20", "-months", "1"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	n, visiting := 0, 0
	for sc.Scan() {
		n++
		rec, err := socialcare.Decode(sc.Bytes(), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		if len(rec.CarePackage) == 0 {
			t.Errorf("record %d has no care package", n)
		}
		if len(rec.Visits) > 0 {
			visiting++
		}
	}
	if n != 20 {
		t.Fatalf("%d records, want 20", n)
	}
	if visiting < 10 {
		t.Errorf("%d of 20 people have home visits; want most", visiting)
	}
	if err := synthCmd([]string{"-people", "0"}, io.Discard, io.Discard); err == nil {
		t.Error("-people 0 accepted")
	}
}

// -resources chooses the number of people, the estimate goes to stderr,
// and -end makes the output independent of the day it runs.
func TestSynthResourcesAndEnd(t *testing.T) {
	var out, errs bytes.Buffer
	if err := synthCmd([]string{"-resources", "3000", "-months", "1", "-end", "2025-06-01"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs.String(), "about ") || !strings.Contains(errs.String(), "FHIR resources") {
		t.Errorf("stderr: %q; want the estimate", errs.String())
	}
	lines := strings.Count(out.String(), "\n")
	if lines < 5 || lines > 20 {
		t.Errorf("%d people for about 3000 resources over a month; want about 12", lines)
	}
	var again bytes.Buffer
	if err := synthCmd([]string{"-resources", "3000", "-months", "1", "-end", "2025-06-01"}, &again, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Error("the same flags give different records")
	}
	for _, args := range [][]string{
		{"-people", "3", "-resources", "1000"},
		{"-end", "tomorrow"},
		{"-end", time.Now().AddDate(0, 0, 3).Format(time.DateOnly)},
		{"-months", "13"},
		{"extra"},
	} {
		if err := synthCmd(args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

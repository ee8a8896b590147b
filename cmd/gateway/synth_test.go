package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

// The generator writes the number of people asked for, each a record the
// translator accepts.
func TestSynthWritesValidRecords(t *testing.T) {
	var out bytes.Buffer
	if err := synthCmd([]string{"-people", "3", "-months", "1"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		n++
		rec, err := socialcare.Decode(sc.Bytes(), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		if len(rec.Visits) == 0 {
			t.Errorf("record %d has no visits", n)
		}
	}
	if n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	if err := synthCmd([]string{"-people", "0"}, io.Discard, io.Discard); err == nil {
		t.Error("-people 0 accepted")
	}
}

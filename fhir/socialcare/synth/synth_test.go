package synth

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

var write = flag.Bool("write", false, "write the fixture files under fixtures/socialcare")

const fixtureDir = "../../../fixtures/socialcare"

var now = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func TestNHSNumberValid(t *testing.T) {
	rec := Fixtures()[0].Record
	for i := 0; i < 200; i++ {
		n := NHSNumber(i * 4999)
		if n[:3] != "999" || len(n) != 10 {
			t.Fatalf("NHSNumber(%d) = %s: not in the 999 range", i*4999, n)
		}
		// The decoder checks the Modulus 11 check digit.
		rec.Person.NHSNumber = n
		b, _ := json.Marshal(rec)
		if _, err := socialcare.Decode(b, now); err != nil {
			t.Fatalf("NHSNumber(%d) = %s is rejected: %v", i*4999, n, err)
		}
	}
}

func TestFixtureFiles(t *testing.T) {
	fixtures := Fixtures()
	if len(fixtures) < 12 || len(fixtures) > 20 {
		t.Fatalf("%d fixtures; want 12 to 20", len(fixtures))
	}
	var nd bytes.Buffer
	for _, f := range fixtures {
		want, err := json.MarshalIndent(f.Record, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		path := filepath.Join(fixtureDir, f.Name+".json")
		if *write {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -write to create the fixtures)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output; run go test -write and review the diff", path)
		}
		line, _ := json.Marshal(f.Record)
		if len(nd.Bytes()) < 4096*4 && (f.Name[:2] == "01" || f.Name[:2] == "03" || f.Name[:2] == "05" || f.Name[:2] == "10") {
			nd.Write(line)
			nd.WriteByte('\n')
		}
	}
	if *write {
		if err := os.WriteFile(filepath.Join(fixtureDir, "people.ndjson"), nd.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGenerate(t *testing.T) {
	var first []byte
	for round := 0; round < 2; round++ {
		n := 0
		err := Generate(3, 1, 42, now, func(rec *socialcare.Record) error {
			n++
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if _, err := socialcare.Decode(b, now); err != nil {
				t.Errorf("generated record %d does not decode: %v", n, err)
			}
			if n == 1 {
				if round == 0 {
					first = b
				} else if !bytes.Equal(first, b) {
					t.Error("Generate is not deterministic for a seed")
				}
			}
			if len(rec.Visits) < 28 {
				t.Errorf("%d visits for one month; want about 30", len(rec.Visits))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("generated %d people; want 3", n)
		}
	}
}

package socialcare

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func TestReadNDJSON(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixtureDir, "people.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(good), []byte("\n"))
	if len(lines) < 3 {
		t.Fatalf("people.ndjson has %d records; want several", len(lines))
	}
	// A bad line in the middle, a blank line, and a good line after them.
	var in bytes.Buffer
	in.Write(lines[0])
	in.WriteString("\n{\"schemaVersion\": \"1.0\", \"bogus\": 1}\n\n")
	in.Write(lines[1])
	in.WriteString("\nnot json\n")
	in.Write(lines[2]) // no final newline
	type call struct {
		line   int
		ok     bool
		status int
	}
	var calls []call
	err = ReadNDJSON(&in, testNow, func(line int, rec *Record, err error) error {
		c := call{line: line, ok: rec != nil && err == nil}
		var fe *fhir.Error
		if errors.As(err, &fe) {
			c.status = fe.Status
		}
		calls = append(calls, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []call{{1, true, 0}, {2, false, 422}, {4, true, 0}, {5, false, 400}, {6, true, 0}}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %v; want %v", calls, want)
	}
}

func TestReadNDJSONStopsWhenFnFails(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadNDJSON(strings.NewReader("{}\n{}\n{}\n"), testNow, func(int, *Record, error) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d calls; want stop after 1", err, n)
	}
}

func TestReadCLDExample(t *testing.T) {
	f, err := os.Open(filepath.Join(fixtureDir, "cld-example.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []int
	var recs []*Record
	err = ReadCLD(f, testNow, func(row int, rec *Record, err error) error {
		if err != nil {
			t.Errorf("row %d: %v", row, err)
			return nil
		}
		rows = append(rows, row)
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows, []int{2, 5, 6}) {
		t.Fatalf("records start at rows %v; want [2 5 6]", rows)
	}
	first := recs[0]
	if len(first.Assessments) != 2 || len(first.CarePackage) != 1 || first.CarePackage[0].PlannedUnitsPerWeek != "10.5" {
		t.Errorf("first person: %d assessments, %d package lines; want 2 and 1 with 10.5 units", len(first.Assessments), len(first.CarePackage))
	}
	// Each person is known to the council: an episode from the first
	// event, active while a service goes on.
	if ep := first.Episode; ep == nil || ep.Status != "active" || ep.Start != "2025-01-06" || ep.End != "" {
		t.Errorf("first person's episode %+v; want active from 2025-01-06", first.Episode)
	}
	for i, rec := range recs {
		if rec.Episode == nil {
			t.Errorf("person %d has no episode: the council would not know them", i)
		}
	}
	if recs[2].Person.DeathDate != "2025-02-14" || recs[2].Person.BirthDate != "1931-03-02" {
		t.Errorf("UK dates not converted: %q %q", recs[2].Person.BirthDate, recs[2].Person.DeathDate)
	}
	for _, rec := range recs {
		res, err := Translate(rec)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range checkResources(res) {
			t.Error(p)
		}
	}
}

func TestReadCLDBadRows(t *testing.T) {
	csv := "LA_Code,LA_Person_Unique_Identifier,NHS_Number,Gender,Date_of_Birth,Event_Type,Event_Reference,Event_Start_Date,Service_Type\n" +
		"SYN01,A,9990002010,Female,1938-05-12,Service,E1,2025-01-13,Long term support: Community\n" +
		"SYN01,B,9990002011,Male,1940-01-01,Service,E2,2025-01-13,Long term support: Moon base\n" +
		"SYN01,B,9990002011,Male,1940-01-01,Visit,E3,2025-01-14,\n" +
		"SYN01,C,,Female,1950-01-01,,,,\n"
	type call struct {
		row   int
		paths []string
	}
	var calls []call
	err := ReadCLD(strings.NewReader(csv), testNow, func(row int, rec *Record, err error) error {
		c := call{row: row}
		var fe *fhir.Error
		if errors.As(err, &fe) {
			if fe.Status != http.StatusUnprocessableEntity || rec != nil {
				t.Errorf("row %d: status %d, record %v", row, fe.Status, rec != nil)
			}
			for _, is := range fe.Issues {
				c.paths = append(c.paths, is.Expression...)
			}
			slices.Sort(c.paths)
		} else if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []call{
		{row: 2},
		{row: 3, paths: []string{"row[3].NHS_Number", "row[3].Service_Type", "row[4].Event_Type"}},
		{row: 5},
	}
	if len(calls) != len(want) {
		t.Fatalf("calls = %v; want %v", calls, want)
	}
	for i := range want {
		if calls[i].row != want[i].row || !slices.Equal(calls[i].paths, want[i].paths) {
			t.Errorf("call %d = %v; want %v", i, calls[i], want[i])
		}
	}
}

func TestReadCLDNeedsHeader(t *testing.T) {
	err := ReadCLD(strings.NewReader("a,b\n1,2\n"), testNow, func(int, *Record, error) error { return nil })
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusBadRequest {
		t.Errorf("err = %v; want 400", err)
	}
}

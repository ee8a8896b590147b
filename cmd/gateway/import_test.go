package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/storage"
)

const fixtureDir = "../../fixtures/socialcare"

// badLine is a record with a bad NHS number check digit.
func badLine(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "03-fall.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["person"].(map[string]any)["nhsNumber"] = "9990000019"
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func patients(t *testing.T, dataDir string) int64 {
	t.Helper()
	e, err := storage.Open(context.Background(), storage.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	return countVersions(t, e, "Patient", false)
}

// countVersions counts a type's resources (or, with all, its versions).
func countVersions(t *testing.T, e *storage.Engine, typ string, all bool) int64 {
	t.Helper()
	var n int64
	last := ""
	if err := e.Resources.Versions(context.Background(), typ, func(v *store.Version) error {
		if all || v.ID != last {
			n++
		}
		last = v.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportCommand(t *testing.T) {
	people, err := os.ReadFile(filepath.Join(fixtureDir, "people.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	good := len(bytes.Split(bytes.TrimSpace(people), []byte("\n")))
	mixed := filepath.Join(t.TempDir(), "mixed.ndjson")
	if err := os.WriteFile(mixed, append(append(badLine(t), '\n'), people...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		note         string
		args         []string
		wantErr      string
		wantStderr   []string
		wantPatients int64
	}{
		{
			note:         "NDJSON with a rejected line",
			args:         []string{mixed},
			wantErr:      "1 of 5 records rejected",
			wantStderr:   []string{"line 1 rejected:", "person.nhsNumber: ", "stored 4 records", "\r5 records, 1 rejected"},
			wantPatients: int64(good),
		},
		{
			note:       "CLD by extension",
			args:       []string{filepath.Join(fixtureDir, "cld-example.csv")},
			wantStderr: []string{"rejected 0"},
		},
		{
			note:    "missing file",
			args:    []string{filepath.Join(t.TempDir(), "none.ndjson")},
			wantErr: "no such file",
		},
		{
			note:    "bad format",
			args:    []string{"-format", "xml", mixed},
			wantErr: "-format must be ndjson or cld",
		},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := t.TempDir()
			var stderr bytes.Buffer
			err := importCmd(context.Background(), append([]string{"-data-dir", dir}, tc.args...), &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v; stderr:\n%s", err, stderr.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
			if tc.wantPatients > 0 {
				if n := patients(t, dir); n != tc.wantPatients {
					t.Errorf("%d Patients stored, want %d", n, tc.wantPatients)
				}
			}
		})
	}
}

func TestImportUsage(t *testing.T) {
	var stderr bytes.Buffer
	if err := importCmd(context.Background(), nil, &stderr); !errors.Is(err, errUsage) {
		t.Fatalf("no file: %v, want usage", err)
	}
	if !strings.Contains(stderr.String(), "usage: gateway import") {
		t.Errorf("no usage text: %s", stderr.String())
	}
}

func TestLoadDemo(t *testing.T) {
	for _, kind := range []string{storage.SQLite, storage.MongoDB} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			e, err := storage.Open(ctx, storage.Config{Kind: kind, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(ctx)
			for round := range 2 {
				n, err := loadDemo(ctx, e.Ingest)
				if err != nil || n != 15 {
					t.Fatalf("round %d: %d records, %v; want 15", round, n, err)
				}
			}
			if count := countVersions(t, e, "Patient", false); count != 15 {
				t.Fatalf("%d Patients; want 15", count)
			}
			if hist := countVersions(t, e, "Patient", true); hist != 15 {
				t.Errorf("%d Patient versions after loading twice; want 15", hist)
			}
		})
	}
}

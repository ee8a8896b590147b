package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
)

// A demo database moves to the MongoDB engine with gateway copy, and the
// audit chain verifies there with gateway audit verify; moving it into a
// database that holds something is refused.
func TestCopyCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := importCmd(ctx, []string{"-data-dir", dir, filepath.Join(fixtureDir, "people.ndjson")}, &stderr); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	uri := storetest.Server(t, "")
	var stdout bytes.Buffer
	stderr.Reset()
	if err := copyCmd(ctx, []string{"-from", dir, "-to", uri}, &stdout, &stderr); err != nil {
		t.Fatalf("copy: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "from sqlite to mongodb") || !strings.Contains(stdout.String(), "chain verified") {
		t.Fatalf("copy said: %s", stdout.String())
	}
	stdout.Reset()
	if err := auditCmd(ctx, []string{"verify", "-mongodb-uri", uri}, &stdout, &stderr); err != nil {
		t.Fatalf("audit verify on the copy: %v\n%s", err, stdout.String())
	}
	if n := patients(t, dir); n != 4 {
		t.Fatalf("the source holds %d Patients, want 4", n)
	}
	if err := copyCmd(ctx, []string{"-from", dir, "-to", uri}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("copy into a database that holds resources: %v", err)
	}
	back := t.TempDir()
	stdout.Reset()
	if err := copyCmd(ctx, []string{"-from", uri, "-to", back}, &stdout, &stderr); err != nil {
		t.Fatalf("copy back: %v\n%s", err, stderr.String())
	}
	if n := patients(t, back); n != 4 {
		t.Fatalf("copied back %d Patients, want 4", n)
	}
	if err := auditCmd(ctx, []string{"verify", "-data-dir", back}, &stdout, &stderr); err != nil {
		t.Fatalf("audit verify on the copy back: %v\n%s", err, stdout.String())
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/policy"
)

// copyPolicy copies the baseline policy to a new directory with its data
// changed by edit.
func copyPolicy(t *testing.T, edit func(dsa map[string]any)) string {
	t.Helper()
	files, err := policy.ReadFiles("../../policy")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(files[policy.DataFile], &d); err != nil {
		t.Fatal(err)
	}
	edit(d["dsa"].(map[string]any))
	if files[policy.DataFile], err = json.MarshalIndent(d, "", "  "); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPolicyVersionCommands(t *testing.T) {
	data := t.TempDir()
	run := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append([]string{args[0], "-store", "sqlite", "-data-dir", data, "-seed-dir", "../../policy"}, args[1:]...)
		err := policyCmd(t.Context(), args, nil, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("gateway policy %v: %v\n%s", args, err, out)
		}
		return out
	}
	out := must("list")
	seed := regexp.MustCompile(`^([0-9a-f]{16})  active`).FindStringSubmatch(out)
	if seed == nil {
		t.Fatalf("list of a new database: %q, want the seeded active version", out)
	}
	dir := copyPolicy(t, func(dsa map[string]any) {
		care := dsa["role_classes"].(map[string]any)["care"].(map[string]any)
		var cats []any
		for _, c := range care["categories"].([]any) {
			if c != "medication" {
				cats = append(cats, c)
			}
		}
		care["categories"] = cats
	})
	out = must("propose", "-as", "u-ig", "-org", "SYN01", "-role", "R0001", "-policy-dir", dir, "-note", "carers stop seeing medication")
	m := regexp.MustCompile(`policy version ([0-9a-f]{16}) is draft`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("propose: %q", out)
	}
	id := m[1]
	if out := must("test", "-as", "u-ig", id); !strings.Contains(out, "is tested") || !strings.Contains(out, "coverage") {
		t.Errorf("test: %q", out)
	}
	if out, err := run("approve", "-as", "u-ig", "-org", "SYN01", "-role", "R0001", id); err == nil || !strings.Contains(err.Error(), "someone other than its author") {
		t.Errorf("author approving: %v %s", err, out)
	}
	if out, err := run("approve", "-as", "u-ig2", "-org", "SYN01", "-role", "R0001", id); err == nil || !strings.Contains(err.Error(), "POLICY-11-approve") {
		t.Errorf("IG lead approving: %v %s", err, out)
	}
	must("approve", "-as", "u-cg", "-org", "SYN01", "-role", "R5105", "-note", "IG board 1 Dec", id)
	must("activate", "-as", "u-ig", id)
	if out := must("list"); !strings.Contains(out, id+"  active") || !strings.Contains(out, seed[1]+"  retired") {
		t.Errorf("list after activation: %q", out)
	}
	var rep struct {
		Candidate string `json:"candidate"`
	}
	if err := json.Unmarshal([]byte(must("impact", seed[1])), &rep); err != nil || rep.Candidate != seed[1] {
		t.Errorf("impact: %v %+v", err, rep)
	}
	must("rollback", "-as", "u-cg", seed[1])
	if out := must("list"); !strings.Contains(out, seed[1]+"  active") {
		t.Errorf("list after rollback: %q", out)
	}
	var vout, verr bytes.Buffer
	if err := auditCmd(t.Context(), []string{"verify", "-store", "sqlite", "-data-dir", data}, &vout, &verr); err != nil {
		t.Fatalf("audit verify: %v %s %s", err, vout.String(), verr.String())
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/policy"
)

func TestPolicyCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := policyCmd(t.Context(), []string{"check", "-policy-dir", "../../policy"}, nil, &out, &errOut); err != nil {
		t.Fatalf("check the baseline: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "would be accepted: revision sha256:") {
		t.Errorf("output %q", out.String())
	}

	// A copy whose data no longer lets a GP practice's clinicians see care
	// plans fails its own Rego tests, and check says so.
	dir := t.TempDir()
	files, err := filepath.Glob("../../policy/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f, ".rego") && !strings.HasSuffix(f, ".json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == policy.DataFile {
			b = bytes.Replace(b, []byte(`"care-plan",`), nil, 1)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	err = policyCmd(t.Context(), []string{"check", "-policy-dir", dir}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "would be refused") || !strings.Contains(err.Error(), "tests failed") {
		t.Fatalf("check of a broken copy: %v, output %q", err, out.String())
	}
}

func TestPolicyDecide(t *testing.T) {
	for _, tc := range []struct {
		input string
		allow bool
		rule  string
	}{
		{`{"action":"read","subject":{"kind":"user","org":"Y99001","role":"R0260","purpose":"TREAT"},
		   "resource":{"type":"CarePlan","patient":"Patient/x","categories":["care-plan"]},"context":{"related":true}}`, true, "REL-3-relationship"},
		{`{"action":"read","subject":{"kind":"user","org":"Y99001","role":"R0260","purpose":"TREAT"},
		   "resource":{"type":"Basic","patient":"Patient/x","categories":["financial"]},"context":{"related":true}}`, false, "NTK-4-need-to-know"},
		{`{"action":"read","subject":{"kind":"user","org":"RJ1","role":"R8000","purpose":"TREAT"},
		   "resource":{"type":"CarePlan","patient":"Patient/x","categories":["care-plan"]},"context":{}}`, false, "REL-3-relationship"},
	} {
		var out, errOut bytes.Buffer
		if err := policyCmd(t.Context(), []string{"decide", "-policy-dir", "../../policy"}, strings.NewReader(tc.input), &out, &errOut); err != nil {
			t.Fatalf("decide: %v (%s)", err, errOut.String())
		}
		var d policy.Decision
		if err := json.Unmarshal(out.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.allow || !strings.Contains(strings.Join(d.Reasons, " "), tc.rule) {
			t.Errorf("%s: %+v; want allow %v naming %s", tc.input, d, tc.allow, tc.rule)
		}
	}
	var out, errOut bytes.Buffer
	err := policyCmd(t.Context(), []string{"decide", "-policy-dir", "../../policy"}, strings.NewReader(`{"actor":"x"}`), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("an input with an unknown field: %v", err)
	}
}

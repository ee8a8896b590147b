package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/storage"
)

func TestPolicyExplainInput(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(in, []byte(`{"action":"read","subject":{"kind":"user","org":"G81001","role":"R8001","purpose":"TREAT"},
		"resource":{"type":"CarePlan","patient":"Patient/p1","categories":["care-plan"]},"context":{"related":true,"objected":true}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := policyCmd(t.Context(), []string{"explain", "-policy-dir", "../../policy", "-input", in}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Refused: The person's objection is respected.", "refused OBJ-5-objection", "objection yes", "class clinical"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, out.String())
		}
	}
}

// An audited read in a data directory, explained under the revision that
// made it; a record without decision inputs cannot be.
func TestPolicyExplainAudit(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	if err := policyCmd(t.Context(), []string{"list", "-store", "sqlite", "-data-dir", data, "-seed-dir", "../../policy"}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	seed := regexp.MustCompile(`^([0-9a-f]{16})  active`).FindStringSubmatch(out.String())
	if seed == nil {
		t.Fatalf("list: %q", out.String())
	}
	eng, err := storage.Open(context.Background(), storage.Config{Kind: storage.SQLite, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	agent := audit.Agent{Kind: audit.KindUser, Subject: "u1", Org: "G81001", Role: "R8001", Purpose: "TREAT"}
	read, err := eng.Audit.Record(t.Context(), audit.Entry{Interaction: "read", ResourceType: "CarePlan", Agent: agent, Patients: []string{"Patient/p1"},
		Decision: audit.Decision{Allowed: true, Reasons: []string{"REL-3-relationship"}, Revision: "sha256:" + seed[1]},
		Decided:  []audit.Decided{{Action: "read", Type: "CarePlan", Patient: "Patient/p1", Categories: []string{"care-plan"}, AuthorOrgs: []string{"LA001"}, Facts: "10???", Allowed: true, Count: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	old, err := eng.Audit.Record(t.Context(), audit.Entry{Interaction: "read", ResourceType: "CarePlan", Agent: agent,
		Decision: audit.Decision{Allowed: true, Revision: "sha256:" + seed[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := policyCmd(t.Context(), []string{"explain", "-store", "sqlite", "-data-dir", data, "-audit", read}, nil, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, want := range []string{"recorded allowed by revision sha256:" + seed[1], "explained under the recorded revision", "allowed REL-3-relationship: A care relationship is needed", "relationship yes, objection no, known to council not worked out"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explanation lacks %q:\n%s", want, out.String())
		}
	}
	err = policyCmd(t.Context(), []string{"explain", "-store", "sqlite", "-data-dir", data, "-audit", old}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "keeps no decision inputs") {
		t.Errorf("old record: %v", err)
	}
}

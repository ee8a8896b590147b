package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/storetest"
	"github.com/socialcare-fhir/gateway/fixtures"
	policyversions "github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

func open(t *testing.T, cfg storage.Config) *storage.Engine {
	t.Helper()
	e, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// The demo database moves from the embedded engine to MongoDB and back:
// every version, the audit chain (verified on each target), the search
// answers.
func TestCopyDemoToMongoDBAndBack(t *testing.T) {
	ctx := context.Background()
	src := open(t, storage.Config{DataDir: t.TempDir()})
	if src.Kind != storage.SQLite {
		t.Fatalf("default engine %s, want sqlite", src.Kind)
	}
	records, err := fixtures.SocialCareRecords()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if _, err := src.Ingest.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		if _, err := src.Audit.Record(ctx, audit.Entry{Interaction: "read", ResourceType: "Patient", HTTPStatus: 200,
			Agent:    audit.Agent{Kind: audit.KindUser, Subject: "u1", Org: "Y99001", Role: "R0260", Purpose: "TREAT"},
			Patients: []string{fmt.Sprintf("Patient/p%d", i%3)}, Decision: audit.Decision{Allowed: true, Revision: "r1"},
			Decided: []audit.Decided{{Action: "read", Type: "Patient", Patient: fmt.Sprintf("Patient/p%d", i%3), Categories: []string{"demographics"}, Facts: "1?0?0", Allowed: true, Count: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	pv := &policyversions.Version{ID: "0123456789abcdef", Revision: "sha256:0123456789abcdef", State: policyversions.Active, Data: "{}",
		Modules: map[string]string{"a.rego": "package a\n"}, Author: policyversions.Person{Subject: "u-ig"}, Created: time.UnixMilli(1)}
	if err := src.Policies.Insert(ctx, pv); err != nil {
		t.Fatal(err)
	}
	mongo := open(t, storage.Config{Kind: storage.MongoDB, URI: storetest.Server(t, "")})
	rep, err := storage.Copy(ctx, src, mongo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AuditVerified || !rep.CountsMatched || rep.AuditRecords != 30 || rep.Resources["Patient"] != int64(len(records)) {
		t.Fatalf("copy report %+v", rep)
	}
	back := open(t, storage.Config{DataDir: t.TempDir()})
	rep2, err := storage.Copy(ctx, mongo, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := back.Policies.ActiveID(ctx); err != nil || id != pv.ID || rep.PolicyVersions != 1 || rep2.PolicyVersions != 1 {
		t.Fatalf("policy versions copied: %d, %d; active on the copy %q, %v", rep.PolicyVersions, rep2.PolicyVersions, id, err)
	}
	if !maps.Equal(rep.Versions, rep2.Versions) || rep2.AuditRecords != rep.AuditRecords {
		t.Fatalf("copied back %v / %d audit records, want %v / %d", rep2.Versions, rep2.AuditRecords, rep.Versions, rep.AuditRecords)
	}
	// The same searches give the same answers on all three.
	for _, tc := range []struct{ typ, query string }{
		{"Patient", ""}, {"Encounter", "_sort=-date&_count=20"}, {"MedicationAdministration", "_count=30"}, {"CarePlan", "status=active"},
	} {
		vals, _ := url.ParseQuery(tc.query)
		q, err := search.Parse(tc.typ, vals, search.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for k, e := range []*storage.Engine{src, mongo, back} {
			page, err := e.Resources.Search(ctx, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := versions(page.Matches)
			if k == 0 {
				want = got
				if len(want) == 0 {
					t.Errorf("%s?%s: nothing to compare", tc.typ, tc.query)
				}
			} else if !slices.Equal(got, want) {
				t.Errorf("%s?%s on copy %d: %v, want %v", tc.typ, tc.query, k, got, want)
			}
		}
	}
	// A copy goes only into an empty engine.
	if _, err := storage.Copy(ctx, src, back, nil); err == nil {
		t.Fatal("copied into an engine that holds resources")
	}
	// Records logged after the copy extend the copied chain.
	if _, err := back.Audit.Record(ctx, audit.Entry{Interaction: "read", ResourceType: "Patient", HTTPStatus: 200,
		Agent: audit.Agent{Kind: audit.KindUser, Subject: "u2", Org: "Y99001", Role: "R0260", Purpose: "TREAT"}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if ok, err := back.VerifyAudit(ctx, &out, rep2.AuditHeads()...); err != nil || !ok {
		t.Fatalf("chain after a new record: %v %s", err, out.String())
	}
}

func versions(vs []*store.Version) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%s/%d", v.ID, v.VersionID)
	}
	return out
}

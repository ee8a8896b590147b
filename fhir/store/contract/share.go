package contract

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// shareConsent is a consent to share categories of patient with the third
// party of NHS number nhs, on the legal duty when duty is set.
func shareConsent(id, status, typ, patient, nhs string, duty bool, period string, cats ...string) string {
	rule := `{"coding":[{"system":"` + facts.ActCodeSystem + `","code":"OPTIN"}]}`
	if duty {
		rule = `{"coding":[{"system":"` + facts.SharingBasisSystem + `","code":"` + facts.BasisSafeguardingDuty + `"}]}`
	}
	classes := ""
	for i, c := range cats {
		if i > 0 {
			classes += ","
		}
		classes += `{"system":"https://socialcare-fhir.example.org/CodeSystem/record-category","code":"` + c + `"}`
	}
	return fmt.Sprintf(`{"resourceType":"Consent","id":%q,"status":%q,"scope":{"text":"x"},
	 "category":[{"coding":[{"system":%q,"code":"consent"}]}],"patient":{"reference":%q},"policyRule":%s,
	 "provision":{"type":%q,"period":%s,"actor":[{"role":{"text":"x"},"reference":{"identifier":{"system":%q,"value":%q}}}],"class":[%s]}}`,
		id, status, facts.SharingDecisionSystem, patient, rule, typ, period, facts.NHSNumberSystem, nhs, classes)
}

// A consent to share gives share facts for its third party, per patient
// and category, with its period and basis; a withdrawal (inactive, or a
// deny) or a deletion takes them away; other queries never see them.
func contractShareFacts(t *testing.T, open Opener) {
	ctx := context.Background()
	e, put := fresh(t, open)
	const carer, other = facts.NHSNumberSystem + "|9997700007", facts.NHSNumberSystem + "|9997700015"
	list := func(q facts.Query) []string {
		t.Helper()
		fs, err := e.Facts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			if !facts.IsShare(f.Kind) {
				continue
			}
			day := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02") }
			until := "open"
			if f.Until != facts.OpenEnd {
				until = day(f.Until - 1) // the last day in
			}
			out = append(out, fmt.Sprintf("%s %s %s %s %s..%s", f.Patient, f.Kind, f.Org, f.Code, day(f.From), until))
		}
		slices.Sort(out)
		return out
	}
	check := func(what string, q facts.Query, want ...string) {
		t.Helper()
		if got := list(q); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		}
	}
	put(`{"resourceType":"Patient","id":"a"}`)
	put(`{"resourceType":"Patient","id":"b"}`)
	put(shareConsent("s1", "active", "permit", "Patient/a", "9997700007", false, `{"start":"2026-01-01","end":"2026-06-30"}`, "care-plan", "visit"))
	put(shareConsent("s2", "active", "permit", "Patient/b", "9997700007", true, `{"start":"2026-02-01"}`, "safeguarding"))
	put(shareConsent("s3", "active", "permit", "Patient/b", "9997700015", false, `{"start":"2026-02-01"}`, "medication"))
	a1 := "Patient/a share care-plan " + carer + " 2026-01-01..2026-06-30"
	a2 := "Patient/a share visit " + carer + " 2026-01-01..2026-06-30"
	b1 := "Patient/b share-duty safeguarding " + carer + " 2026-02-01..open"
	check("the carer's shares", facts.Query{Actor: carer, Kinds: facts.ShareKinds}, a1, a2, b1)
	check("the carer's shares with objections", facts.Query{Actor: carer}, a1, a2, b1)
	check("about one patient", facts.Query{Actor: carer, Patients: []string{"Patient/a"}, Kinds: facts.ShareKinds}, a1, a2)
	check("another third party", facts.Query{Actor: other, Kinds: facts.ShareKinds}, "Patient/b share medication "+other+" 2026-02-01..open")
	check("no third party", facts.Query{Orgs: []string{"care-plan"}})
	check("a patient's facts for an organisation", facts.Query{Patients: []string{"Patient/a"}, Orgs: []string{"Organization/x"}})

	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	fs, err := e.Facts(ctx, facts.Query{Actor: carer, Kinds: facts.ShareKinds})
	if err != nil {
		t.Fatal(err)
	}
	if got := facts.Grants(fs, now); len(got) != 3 {
		t.Errorf("grants on %s: %v", now, got)
	}
	if got := facts.Grants(fs, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)); len(got) != 1 || !got[0].Duty {
		t.Errorf("grants after the first period: %v", got)
	}
	if got := facts.Grants(fs, time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Errorf("grants before any period: %v", got)
	}

	// Withdrawn by status, by a deny, by deletion.
	put(shareConsent("s1", "inactive", "permit", "Patient/a", "9997700007", false, `{"start":"2026-01-01"}`, "care-plan"))
	check("after a withdrawal", facts.Query{Actor: carer, Kinds: facts.ShareKinds}, b1)
	put(shareConsent("s1", "active", "permit", "Patient/a", "9997700007", false, `{"start":"2026-01-01"}`, "care-plan"))
	check("given again", facts.Query{Actor: carer, Kinds: facts.ShareKinds}, "Patient/a share care-plan "+carer+" 2026-01-01..open", b1)
	put(shareConsent("s1", "active", "deny", "Patient/a", "9997700007", false, `{"start":"2026-01-01"}`, "care-plan"))
	check("after a deny", facts.Query{Actor: carer, Kinds: facts.ShareKinds}, b1)
	if _, err := e.Delete(ctx, "Consent", "s2", 0); err != nil {
		t.Fatal(err)
	}
	check("after a deletion", facts.Query{Actor: carer, Kinds: facts.ShareKinds})
}

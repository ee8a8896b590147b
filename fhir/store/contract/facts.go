package contract

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/facts"
	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// The access facts follow every write: created with the resource,
// changed by a status change, gone with a deletion; and they say what the
// relationship queries over the clinical resources say.
func contractFacts(t *testing.T, open Opener) {
	ctx := context.Background()
	e, put := fresh(t, open)
	list := func(q facts.Query) []string {
		t.Helper()
		fs, err := e.Facts(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range fs {
			s := f.Patient + " " + f.Kind + " " + f.Org
			if f.Code != "" {
				s += " " + f.Code
			}
			if f.Until != 0 {
				s += " " + time.UnixMilli(f.Until).UTC().Format("2006-01-02")
			}
			out = append(out, s)
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
	put(`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp"}]}`)
	put(`{"resourceType":"Patient","id":"b"}`)
	put(`{"resourceType":"EpisodeOfCare","id":"ep1","status":"active","patient":{"reference":"Patient/b"},"managingOrganization":{"reference":"Organization/la"}}`)
	put(`{"resourceType":"Encounter","id":"en1","status":"finished","subject":{"reference":"Patient/a"},"serviceProvider":{"reference":"Organization/trust"},"period":{"start":"2026-01-01T10:00:00Z","end":"2026-01-01T11:00:00Z"}}`)
	put(`{"resourceType":"ServiceRequest","id":"sr1","status":"active","intent":"order","subject":{"reference":"Patient/b"},"performer":[{"reference":"Organization/agency"}]}`)
	put(`{"resourceType":"CareTeam","id":"ct1","status":"active","participant":[{"member":{"reference":"Patient/a"}},{"member":{"reference":"Organization/trust"}}]}`)
	put(`{"resourceType":"Consent","id":"c1","status":"active","scope":{"text":"x"},"category":[{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/sharing-decision","code":"objection"}]}],"patient":{"reference":"Patient/b"}}`)
	put(`{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/a"},"performer":[{"reference":"Organization/gp"}]}`)
	all := []string{"Organization/gp", "Organization/la", "Organization/trust", "Organization/agency"}
	check("everything", facts.Query{Orgs: all},
		"Patient/a care-team Organization/trust", "Patient/a encounter Organization/trust 2026-01-01", "Patient/a gp Organization/gp",
		"Patient/b episode Organization/la", "Patient/b episode-active Organization/la", "Patient/b objection ",
		"Patient/b referral Organization/agency", "Patient/b referral-active Organization/agency")
	check("one organisation", facts.Query{Orgs: []string{"Organization/trust"}},
		"Patient/a care-team Organization/trust", "Patient/a encounter Organization/trust 2026-01-01", "Patient/b objection ")
	check("one patient", facts.Query{Patients: []string{"Patient/a"}, Orgs: all},
		"Patient/a care-team Organization/trust", "Patient/a encounter Organization/trust 2026-01-01", "Patient/a gp Organization/gp")
	check("objections only", facts.Query{}, "Patient/b objection ")
	// Status changes and deletions take facts away at once.
	put(`{"resourceType":"EpisodeOfCare","id":"ep1","status":"finished","patient":{"reference":"Patient/b"},"managingOrganization":{"reference":"Organization/la"}}`)
	put(`{"resourceType":"Consent","id":"c1","status":"inactive","scope":{"text":"x"},"category":[{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/sharing-decision","code":"objection"}]}],"patient":{"reference":"Patient/b"}}`)
	if _, err := e.Delete(ctx, "CareTeam", "ct1", 0); err != nil {
		t.Fatal(err)
	}
	put(`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp2"}]}`)
	check("one organisation, asked again after the changes", facts.Query{Orgs: []string{"Organization/trust"}},
		"Patient/a encounter Organization/trust 2026-01-01")
	check("one patient, asked again after the changes", facts.Query{Patients: []string{"Patient/a"}, Orgs: all},
		"Patient/a encounter Organization/trust 2026-01-01")
	check("after changes", facts.Query{Orgs: append(all, "Organization/gp2")},
		"Patient/a encounter Organization/trust 2026-01-01", "Patient/a gp Organization/gp2",
		"Patient/b episode Organization/la", "Patient/b referral Organization/agency", "Patient/b referral-active Organization/agency")

	// The facts say what the relationship queries say, for every
	// organisation and patient.
	since := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, org := range append(all, "Organization/gp2") {
		fs, err := e.Facts(ctx, facts.Query{Orgs: []string{org}})
		if err != nil {
			t.Fatal(err)
		}
		sum := facts.Summarise(fs, since)
		related := union(t, e, []string{"Patient?general-practitioner=" + org, "EpisodeOfCare?status=active&organization=" + org,
			"CareTeam?status=active&participant=" + org, "Encounter?date=ge2025-12-01&service-provider=" + org, "ServiceRequest?status=active&performer=" + org})
		known := union(t, e, []string{"EpisodeOfCare?organization=" + org})
		named := union(t, e, []string{"ServiceRequest?performer=" + org})
		objected := union(t, e, []string{"Consent?status=active&category=" + url.QueryEscape(facts.ObjectionToken)})
		for name, pair := range map[string][2][]string{"related": {keys(sum.Related), related}, "known": {keys(sum.Known), known},
			"provider named": {keys(sum.ProviderNamed), named}, "objected": {keys(sum.Objected), objected}} {
			if !slices.Equal(pair[0], pair[1]) {
				t.Errorf("%s %s: facts say %v, queries say %v", org, name, pair[0], pair[1])
			}
		}
	}
	// An organisation is found by its ODS code in the same lookup: its
	// ods facts, and the facts naming it; a changed or deleted
	// Organization is found no more by its old code.
	put(`{"resourceType":"Organization","id":"trust","identifier":[{"system":"` + facts.ODSSystem + `","value":"RYQ"},{"system":"https://example.org/other","value":"RYQ2"}]}`)
	put(`{"resourceType":"Organization","id":"trust-site","identifier":[{"system":"` + facts.ODSSystem + `","value":"RYQ"}]}`)
	put(`{"resourceType":"Organization","id":"agency","identifier":[{"system":"` + facts.ODSSystem + `","value":"AG1"}]}`)
	put(`{"resourceType":"Encounter","id":"en2","status":"finished","subject":{"reference":"Patient/b"},"serviceProvider":{"reference":"Organization/trust-site"},"period":{"start":"2026-02-01T10:00:00Z","end":"2026-02-01T11:00:00Z"}}`)
	check("by ODS code", facts.Query{ODS: "RYQ"},
		" ods Organization/trust RYQ", " ods Organization/trust-site RYQ",
		"Patient/a encounter Organization/trust 2026-01-01", "Patient/b encounter Organization/trust-site 2026-02-01")
	// A new organisation with a code already looked up is found at the
	// next lookup (the MongoDB engine remembers which organisations a
	// code named, as a guess it checks).
	put(`{"resourceType":"Organization","id":"trust-new","identifier":[{"system":"` + facts.ODSSystem + `","value":"RYQ"}]}`)
	put(`{"resourceType":"CareTeam","id":"ct2","status":"active","participant":[{"member":{"reference":"Patient/b"}},{"member":{"reference":"Organization/trust-new"}}]}`)
	check("by ODS code, with an organisation new to it", facts.Query{ODS: "RYQ"},
		" ods Organization/trust RYQ", " ods Organization/trust-new RYQ", " ods Organization/trust-site RYQ",
		"Patient/a encounter Organization/trust 2026-01-01", "Patient/b care-team Organization/trust-new", "Patient/b encounter Organization/trust-site 2026-02-01")
	for _, id := range []string{"CareTeam/ct2", "Organization/trust-new"} {
		typ, id, _ := strings.Cut(id, "/")
		if _, err := e.Delete(ctx, typ, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	check("by ODS code, after it went", facts.Query{ODS: "RYQ"},
		" ods Organization/trust RYQ", " ods Organization/trust-site RYQ",
		"Patient/a encounter Organization/trust 2026-01-01", "Patient/b encounter Organization/trust-site 2026-02-01")
	check("by ODS code, one patient", facts.Query{ODS: "RYQ", Patients: []string{"Patient/b"}},
		" ods Organization/trust RYQ", " ods Organization/trust-site RYQ", "Patient/b encounter Organization/trust-site 2026-02-01")
	check("by ODS code and reference", facts.Query{ODS: "AG1", Orgs: []string{"Organization/gp2"}, Patients: []string{"Patient/a", "Patient/b"}},
		" ods Organization/agency AG1", "Patient/a gp Organization/gp2", "Patient/b referral Organization/agency", "Patient/b referral-active Organization/agency")
	check("an unknown ODS code", facts.Query{ODS: "X99"})
	// Sending a resource again unchanged keeps its facts (the MongoDB
	// engine writes them again from the stored head).
	put(`{"resourceType":"Organization","id":"trust","identifier":[{"system":"` + facts.ODSSystem + `","value":"RYQ"},{"system":"https://example.org/other","value":"RYQ2"}]}`)
	put(`{"resourceType":"Encounter","id":"en2","status":"finished","subject":{"reference":"Patient/b"},"serviceProvider":{"reference":"Organization/trust-site"},"period":{"start":"2026-02-01T10:00:00Z","end":"2026-02-01T11:00:00Z"}}`)
	check("after sending them again unchanged", facts.Query{ODS: "RYQ"},
		" ods Organization/trust RYQ", " ods Organization/trust-site RYQ",
		"Patient/a encounter Organization/trust 2026-01-01", "Patient/b encounter Organization/trust-site 2026-02-01")
	put(`{"resourceType":"Organization","id":"trust-site","identifier":[{"system":"` + facts.ODSSystem + `","value":"RYQ01"}]}`)
	if _, err := e.Delete(ctx, "Organization", "trust", 0); err != nil {
		t.Fatal(err)
	}
	check("after the organisations changed", facts.Query{ODS: "RYQ"})
	check("by the new code", facts.Query{ODS: "RYQ01", Patients: []string{"Patient/b"}},
		" ods Organization/trust-site RYQ01", "Patient/b encounter Organization/trust-site 2026-02-01")

	// Many encounters of a patient with one organisation are one fact,
	// with the latest end.
	put(`{"resourceType":"Encounter","id":"en3","status":"finished","subject":{"reference":"Patient/a"},"serviceProvider":{"reference":"Organization/trust"},"period":{"start":"2026-03-01T10:00:00Z","end":"2026-03-01T11:00:00Z"}}`)
	check("two encounters", facts.Query{Orgs: []string{"Organization/trust"}}, "Patient/a encounter Organization/trust 2026-03-01")
	check("two encounters, one patient", facts.Query{Orgs: []string{"Organization/trust"}, Patients: []string{"Patient/a"}}, "Patient/a encounter Organization/trust 2026-03-01")

	// The window passing ends an encounter's relationship by itself.
	fs, _ := e.Facts(ctx, facts.Query{Orgs: []string{"Organization/trust"}})
	if facts.Summarise(fs, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)).Related["Patient/a"] {
		t.Error("an encounter that ended before the window still relates")
	}
}

func union(t *testing.T, e Engine, queries []string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, q := range queries {
		typ, raw, _ := strings.Cut(q, "?")
		ps, err := e.Patients(context.Background(), parse(t, typ, raw))
		if err != nil {
			t.Fatal(fmt.Errorf("%s: %w", q, err))
		}
		for _, p := range ps {
			seen[p] = true
		}
	}
	return keys(seen)
}

func keys(m map[string]bool) []string {
	out := []string{}
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// A search restricted to the patients a fact set names (cond.InFacts)
// finds the resources of exactly the patients the facts lookup gives for
// that set: an engine tests the set in its query, or looks it up first.
func contractFactSets(t *testing.T, open Opener) {
	ctx := context.Background()
	e, put := fresh(t, open)
	put(`{"resourceType":"Organization","id":"gp","identifier":[{"system":"` + facts.ODSSystem + `","value":"G1"}]}`)
	put(`{"resourceType":"Organization","id":"trust","identifier":[{"system":"` + facts.ODSSystem + `","value":"T1"}]}`)
	put(`{"resourceType":"Patient","id":"a","generalPractitioner":[{"reference":"Organization/gp"}]}`)
	put(`{"resourceType":"Patient","id":"b","generalPractitioner":[{"reference":"Organization/gp"}]}`)
	put(`{"resourceType":"Patient","id":"c"}`)
	put(`{"resourceType":"Encounter","id":"old","status":"finished","subject":{"reference":"Patient/b"},"serviceProvider":{"reference":"Organization/trust"},"period":{"start":"2025-01-01T10:00:00Z","end":"2025-01-01T11:00:00Z"}}`)
	put(`{"resourceType":"Encounter","id":"new","status":"finished","subject":{"reference":"Patient/c"},"serviceProvider":{"reference":"Organization/trust"},"period":{"start":"2026-05-01T10:00:00Z","end":"2026-05-01T11:00:00Z"}}`)
	put(`{"resourceType":"Consent","id":"obj","status":"active","scope":{"text":"x"},"category":[{"coding":[{"system":"https://socialcare-fhir.example.org/CodeSystem/sharing-decision","code":"objection"}]}],"patient":{"reference":"Patient/b"}}`)
	for _, p := range []string{"a", "b", "c"} {
		put(`{"resourceType":"Observation","id":"o` + p + `","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/` + p + `"}}`)
	}
	put(`{"resourceType":"Observation","id":"nobody","status":"final","code":{"text":"x"}}`)
	cut := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	related := []string{facts.GP, facts.EpisodeActive, facts.CareTeam, facts.Encounter, facts.ReferralActive}
	for _, tc := range []struct {
		name string
		set  cond.FactSet
		not  bool
		want []string
	}{
		{"the GP's patients, by ODS code", cond.FactSet{Kinds: related, ODS: "G1", Since: cut}, false, []string{"oa", "ob"}},
		{"the trust's, the window applied", cond.FactSet{Kinds: related, ODS: "T1", Since: cut}, false, []string{"oc"}},
		{"the trust's, every encounter", cond.FactSet{Kinds: related, Orgs: []string{"Organization/trust"}}, false, []string{"ob", "oc"}},
		{"objections", cond.FactSet{Kinds: []string{facts.Objection}}, false, []string{"ob"}},
		{"no objection", cond.FactSet{Kinds: []string{facts.Objection}}, true, []string{"nobody", "oa", "oc"}},
		{"an unknown ODS code", cond.FactSet{Kinds: related, ODS: "X9"}, false, nil},
	} {
		set := tc.set
		restrict := func(context.Context, string) (*cond.Node, error) {
			n := cond.InFactSet(cond.AccessPatient, &set)
			if tc.not {
				n = cond.NoneOf(n)
			}
			return n, nil
		}
		got := all(t, e, parse(t, "Observation", "_count=2"), restrict)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		// The facts lookup agrees.
		fs, err := e.Facts(ctx, facts.SetQuery(&set))
		if err != nil {
			t.Fatal(err)
		}
		var viaLookup []string
		for _, p := range facts.Members(&set, fs) {
			viaLookup = append(viaLookup, "o"+strings.TrimPrefix(p, "Patient/"))
		}
		if !tc.not && !slices.Equal(viaLookup, tc.want) {
			t.Errorf("%s: the facts lookup gives %v, want %v", tc.name, viaLookup, tc.want)
		}
	}
}

package socialcare

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
)

func labels(o map[string]any) []string {
	m, _ := o["meta"].(map[string]any)
	sec, _ := m["security"].([]any)
	var out []string
	for _, s := range sec {
		c := s.(map[string]any)
		out = append(out, c["code"].(string))
	}
	return out
}

func TestSecurityLabels(t *testing.T) {
	for _, tc := range []struct {
		fixture, typ string
		want         []string
	}{
		{"04-safeguarding-concern", "AdverseEvent", []string{"R", LabelSafeguarding}},
		{"04-safeguarding-concern", "Flag", []string{"R", LabelSafeguarding}},
		{"10-money-handled", "Basic", []string{LabelPersonalFinance}},
		{"12-restricted-address", "Patient", []string{"R", "PATLOC"}},
		{"11-third-party-consent", "Consent", []string{LabelThirdParty}},
		{"03-fall", "AdverseEvent", nil},
		{"05-objection-to-sharing", "Consent", nil},
		{"01-daily-home-care", "Patient", nil},
	} {
		t.Run(tc.fixture+"/"+tc.typ, func(t *testing.T) {
			found := false
			for _, r := range translateFile(t, filepath.Join(fixtureDir, tc.fixture+".json")) {
				if r.Type == tc.typ {
					found = true
					if got := labels(r.Object); !slices.Equal(got, tc.want) {
						t.Errorf("%s labels %v; want %v", tc.typ, got, tc.want)
					}
				}
			}
			if !found {
				t.Errorf("no %s produced", tc.typ)
			}
		})
	}
}

// TestFactAndOpinion: every note is an Observation whose statement-kind
// category matches the input, and opinions carry the opinion label.
func TestFactAndOpinion(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "01-daily-home-care.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Decode(data, testNow)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, v := range rec.Visits {
		for _, n := range v.Notes {
			want = append(want, n.Kind)
		}
	}
	res, err := Translate(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		cats, _ := r.Object["category"].([]any)
		for _, c := range cats {
			for _, cd := range c.(map[string]any)["coding"].([]any) {
				cd := cd.(map[string]any)
				if cd["system"] != CSStatementKind {
					continue
				}
				got = append(got, cd["code"].(string))
				if opinion := slices.Contains(labels(r.Object), LabelProfessionalOpinion); opinion != (cd["code"] == "opinion") {
					t.Errorf("%s/%s: kind %s but opinion label %v", r.Type, r.ID, cd["code"], opinion)
				}
			}
		}
	}
	if !slices.Contains(want, "opinion") || !slices.Equal(got, want) {
		t.Errorf("statement kinds %v; want %v (with at least one opinion)", got, want)
	}
}

// TestEveryEntryHasProvenance counts entries and Provenance resources, and
// checks that each Provenance names its source id and signature when
// signed.
func TestEveryEntryHasProvenance(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Decode(data, testNow)
		if err != nil {
			t.Fatal(err)
		}
		var entries []*Entry
		entries = append(entries, &rec.Person.Entry)
		if rec.Episode != nil {
			entries = append(entries, &rec.Episode.Entry)
		}
		if rec.CarePlan != nil {
			entries = append(entries, &rec.CarePlan.Entry)
		}
		for i := range rec.CarePackage {
			entries = append(entries, &rec.CarePackage[i].Entry)
		}
		for i := range rec.Assessments {
			entries = append(entries, &rec.Assessments[i].Entry)
		}
		for i := range rec.Visits {
			entries = append(entries, &rec.Visits[i].Entry)
		}
		for i := range rec.Medications {
			entries = append(entries, &rec.Medications[i].Entry)
		}
		for i := range rec.Incidents {
			entries = append(entries, &rec.Incidents[i].Entry)
		}
		for i := range rec.Changes {
			entries = append(entries, &rec.Changes[i].Entry)
		}
		for i := range rec.Transactions {
			entries = append(entries, &rec.Transactions[i].Entry)
		}
		for i := range rec.SharingDecisions {
			entries = append(entries, &rec.SharingDecisions[i].Entry)
		}
		res, err := Translate(rec)
		if err != nil {
			t.Fatal(err)
		}
		var provs []fhir.Resource
		targeted := map[string]bool{}
		for _, r := range res {
			if r.Type == "Provenance" {
				provs = append(provs, r)
				for _, tg := range r.Object["target"].([]any) {
					targeted[tg.(map[string]any)["reference"].(string)] = true
				}
			}
		}
		if len(provs) != len(entries) {
			t.Errorf("%s: %d Provenance for %d entries", filepath.Base(path), len(provs), len(entries))
			continue
		}
		for i, e := range entries {
			p := provs[i].Object
			if p["recorded"] != e.Recorded {
				t.Errorf("%s: Provenance %d recorded %v; want %s", filepath.Base(path), i, p["recorded"], e.Recorded)
			}
			if _, signed := p["signature"]; signed != e.Signed {
				t.Errorf("%s: Provenance %d signature present %v; entry signed %v", filepath.Base(path), i, signed, e.Signed)
			}
		}
		for _, r := range res {
			switch r.Type {
			case "Organization", "Practitioner", "PractitionerRole", "Provenance":
			default:
				if !targeted[r.Type+"/"+r.ID] {
					t.Errorf("%s: %s/%s is the target of no Provenance", filepath.Base(path), r.Type, r.ID)
				}
			}
		}
	}
}

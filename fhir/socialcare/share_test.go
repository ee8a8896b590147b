package socialcare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/facts"
)

// consentRecord is fixture 11 with its consent changed by edit.
func consentRecord(t *testing.T, edit func(sd map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "11-third-party-consent.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	edit(rec["sharingDecisions"].([]any)[0].(map[string]any))
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A consent to share with a carer named by NHS number, covering record
// categories, on the council's legal duty, translates into the Consent
// shape the gateway reads: it passes the write check and gives one share
// fact per category.
func TestConsentToShareTranslates(t *testing.T) {
	data := consentRecord(t, func(sd map[string]any) {
		sd["thirdParty"] = map[string]any{"kind": "person", "name": "A carer", "relationship": "daughter", "nhsNumber": "9997700007"}
		sd["covers"] = []any{"care-plan", "medication"}
		sd["basis"] = "safeguarding-duty"
	})
	rec, err := Decode(data, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Translate(rec)
	if err != nil {
		t.Fatal(err)
	}
	var consent *fhir.Resource
	for i := range res {
		if res[i].Type == "Consent" {
			consent = &res[i]
		}
	}
	if consent == nil {
		t.Fatal("no Consent")
	}
	if issues := facts.CheckShare("Consent", consent.Object); len(issues) != 0 {
		t.Fatalf("the translated consent fails the write check: %v", issues)
	}
	var got []string
	for _, f := range facts.Of("Consent", consent.Object) {
		if facts.IsShare(f.Kind) {
			got = append(got, f.Kind+" "+f.Org+" "+f.Code)
		}
	}
	want := []string{"share-duty care-plan " + facts.NHSNumberSystem + "|9997700007", "share-duty medication " + facts.NHSNumberSystem + "|9997700007"}
	if !slices.Equal(got, want) {
		t.Errorf("share facts %q, want %q", got, want)
	}
	if !strings.Contains(string(mustJSON(t, consent.Object)), facts.SafeguardingDutyURI) {
		t.Errorf("the legal duty's law is not recorded: %s", mustJSON(t, consent.Object))
	}
}

// A consent's covers, basis and third party's NHS number are checked,
// every problem named.
func TestConsentToShareValidation(t *testing.T) {
	data := consentRecord(t, func(sd map[string]any) {
		sd["thirdParty"] = map[string]any{"kind": "organisation", "name": "An advocacy service", "nhsNumber": "9997700007"}
		sd["covers"] = []any{"care-plan", "audit", "no-such-category"}
		sd["basis"] = "whim"
	})
	_, err := Decode(data, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{"sharingDecisions[0].thirdParty.nhsNumber", "sharingDecisions[0].covers[1]", "sharingDecisions[0].covers[2]", "sharingDecisions[0].basis"} {
		if !strings.Contains(msg, want) {
			t.Errorf("no problem at %s: %s", want, msg)
		}
	}
	if strings.Contains(msg, "covers[0]") {
		t.Errorf("care-plan refused: %s", msg)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

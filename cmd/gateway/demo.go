package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fixtures"
)

// loadDemo sends the synthetic fixture people through the ingester, as a
// council system would, with the demo's consent to share (demoShare)
// added to Arthur Sampleton's record. Their resources have ids derived
// from the records, so loading them again changes nothing. It returns
// the number of records.
func loadDemo(ctx context.Context, ing *ingest.Ingester) (int, error) {
	records, err := fixtures.SocialCareRecords()
	if err != nil {
		return 0, err
	}
	for i, data := range records {
		if data, err = withDemoShare(data); err != nil {
			return i, fmt.Errorf("demo record %d: %w", i+1, err)
		}
		records[i] = data
	}
	retired, err := demoRetired(records)
	if err != nil {
		return 0, err
	}
	records = append(records, retired)
	for n, data := range records {
		if _, err := ing.Record(ctx, data); err != nil {
			return n, fmt.Errorf("demo record %d: %w", n+1, err)
		}
	}
	return len(records), nil
}

// demoRetired is the demo's record past its retention (README, "Retention
// and disposal"): Edith Oldfield, whose care ended with her death in
// February 2015, more than the schedule's 8 years ago, so that the
// appraisal lists her records and a disposal can be proposed, approved
// and certified. It is fixture 09 (a person who died) ten years earlier,
// under other ids and another name, and registered with no GP practice
// (no NHS organisation has a relationship with her).
func demoRetired(records [][]byte) ([]byte, error) {
	const src = "REC-P000009"
	for _, data := range records {
		if !strings.Contains(string(data), `"recordId": "`+src+`"`) {
			continue
		}
		r := strings.NewReplacer("P000009", "P000909", `"AS-9-1"`, `"AS-909-1"`, "9990000093", demoRetiredNHS,
			`"Harold"`, `"Edith"`, `"Sampleton"`, `"Oldfield"`, `"male"`, `"female"`, "1939-10-10", "1930-05-05",
			"10 Sample Street", "3 Old Road", "2025-", "2015-", "2024-", "2014-", `"gpPractice": "Y99001",`, "")
		return []byte(r.Replace(string(data))), nil
	}
	return nil, fmt.Errorf("demo: fixture record %s not found", src)
}

// demoRetiredNHS is Edith Oldfield's NHS number (synthetic, 999 range).
const demoRetiredNHS = "9990000905"

// The demo's named third party (README, "Sharing with a named third
// party"): Arthur Sampleton (fixture 01, NHS number 9990000018) consents
// to share his care plan, visits and medication records with his
// daughter, who is not on the local care record and signs in with NHS
// login as demoCarerNHS (a synthetic number in the 999 test range).
const (
	demoShareRecord = "REC-P000001"
	demoCarerNHS    = "9997700007"
)

var demoShare = map[string]any{
	"id":       "SD-01-DEMO-CARER",
	"author":   map[string]any{"id": "SW-001", "name": "Pat Social-Worker", "role": "Social worker", "sdsJobRole": "R1330", "organisation": "SYN01", "organisationName": "Synthetic Borough Council"},
	"recorded": "2025-02-10T10:00:00Z", "signed": true, "signedAt": "2025-02-10T10:02:00Z",
	"type": "consent", "date": "2025-02-10", "start": "2025-02-10",
	"thirdParty": map[string]any{"kind": "person", "name": "Sandra Sampleton", "relationship": "daughter", "nhsNumber": demoCarerNHS},
	"purpose":    "His daughter helps with his care and his medication",
	"covers":     []any{"care-plan", "visit", "medication"},
}

// withDemoShare adds demoShare to the record it belongs to (others are
// returned as they are).
func withDemoShare(data []byte) ([]byte, error) {
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, err
	}
	if src, _ := rec["source"].(map[string]any); src["recordId"] != demoShareRecord {
		return data, nil
	}
	sds, _ := rec["sharingDecisions"].([]any)
	rec["sharingDecisions"] = append(sds, demoShare)
	return json.Marshal(rec)
}

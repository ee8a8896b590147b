package main

import (
	"context"
	"fmt"

	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fixtures"
)

// loadDemo sends the synthetic fixture people through the ingester, as a
// council system would. Their resources have ids derived from the records,
// so loading them again changes nothing. It returns the number of records.
func loadDemo(ctx context.Context, ing *ingest.Ingester) (int, error) {
	records, err := fixtures.SocialCareRecords()
	if err != nil {
		return 0, err
	}
	for n, data := range records {
		if _, err := ing.Record(ctx, data); err != nil {
			return n, fmt.Errorf("demo record %d: %w", n+1, err)
		}
	}
	return len(records), nil
}

package main

import (
	"context"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/fixtures"
)

// loadDemo stores the synthetic demo resources. They have fixed ids, so
// loading them again changes nothing.
func loadDemo(ctx context.Context, st *store.Store) (int, error) {
	docs, err := fixtures.DemoResources()
	if err != nil {
		return 0, err
	}
	for _, d := range docs {
		res, err := validate.Resource(d)
		if err != nil {
			return 0, err
		}
		if _, err := st.Update(ctx, res, 0); err != nil {
			return 0, err
		}
	}
	return len(docs), nil
}

package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/fhir/socialcare/synth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// BenchmarkSearchPagePolicy is a page of one person's records searched by
// their GP practice over the translated fixture people, under the baseline
// policy and under the allow-all test policy, on the same database: the
// difference is what need-to-know costs a page (the caller's relationship
// facts, the filter in the query, a decision per resource and the
// redactions). The allow-all policy cannot be specialised, so the gateway
// looks up every patient fact for it; the baseline's plan for a GP practice
// reads two. queries/page counts database commands (the audit trail's
// aside), on MongoDB only (see env.roundTrips). Run with
// go test -run '^$' -bench SearchPagePolicy -benchtime 50x ./gateway
func BenchmarkSearchPagePolicy(b *testing.B) {
	baseline := newEnv(b, gateway.Config{Policy: loadPolicy(b, "../policy")})
	loadPeople(b, baseline)
	// One synthetic person with three months of daily home-care visits
	// and medication prompts, registered with the fixtures' GP practice.
	var patient string
	counts := map[string]int{}
	err := synth.Generate(1, 3, 1, time.Now(), func(rec *socialcare.Record) error {
		res, err := socialcare.Translate(rec)
		if err != nil {
			return err
		}
		for i := range res {
			if _, err := baseline.store.Update(b.Context(), &res[i], 0); err != nil {
				return err
			}
			counts[res[i].Type]++
			if res[i].Type == "Patient" {
				patient = "Patient/" + res[i].ID
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("synthetic person: %v", counts)
	allowAll := baseline.serve(b, gateway.Config{}, nil)
	token := gpToken(b, "R0260", "TREAT")
	for _, typ := range []string{"Encounter", "MedicationAdministration"} {
		path := "/" + typ + "?patient=" + patient + "&_count=50"
		for _, c := range []struct {
			name string
			e    *env
		}{{"allow-all", allowAll}, {"baseline", baseline}} {
			b.Run(typ+"/policy="+c.name, func(b *testing.B) {
				c.e.token = token
				var entries int
				c.e.resetRoundTrips()
				for b.Loop() {
					r := c.e.do(http.MethodGet, path, "")
					if r.Status != http.StatusOK {
						b.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
					}
					var bundle struct {
						Entry []json.RawMessage `json:"entry"`
					}
					if err := json.Unmarshal(r.Body, &bundle); err != nil {
						b.Fatal(err)
					}
					entries = len(bundle.Entry)
				}
				b.ReportMetric(float64(entries), "resources/page")
				if n, counted := c.e.roundTrips(); counted {
					b.ReportMetric(float64(n)/float64(b.N), "queries/page")
				}
			})
		}
	}
}

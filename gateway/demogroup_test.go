package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fixtures"
	"github.com/socialcare-fhir/gateway/gateway"
)

// loadDemo stores what gateway serve -demo does: the fixture records
// through the ingester, then the demo trust's resources (fixtures/trust).
func loadDemo(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	records, err := fixtures.SocialCareRecords()
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		for i, r := range records {
			if _, err := e.eng.Ingest.Record(ctx, r); err != nil {
				t.Fatalf("demo record %d: %v", i+1, err)
			}
		}
		if n, err := fixtures.LoadTrust(ctx, e.store); err != nil || n < 3 {
			t.Fatalf("round %d: demo trust: %d resources, %v", round, n, err)
		}
	}
}

// nhsNumbers are the NHS numbers of the exported Patients.
func nhsNumbers(t *testing.T, got map[string]string) []string {
	t.Helper()
	var out []string
	for ref, body := range got {
		if !strings.HasPrefix(ref, "Patient/") {
			continue
		}
		var p struct {
			Identifier []struct{ System, Value string }
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		for _, id := range p.Identifier {
			if id.System == "https://fhir.nhs.uk/Id/nhs-number" {
				out = append(out, id.Value)
			}
		}
	}
	slices.Sort(out)
	return out
}

// The demo data's cohort: the demo trust (RJ1) finds its Group by
// identifier and exports it; the export holds exactly what the trust's
// own Patient-level export holds of the members it may see (the people
// with an active RJ1 episode), not the member who objected to sharing, not
// the person the trust was referred (whom it does see, outside the
// group), and nobody else. Loading the demo twice changes nothing.
func TestDemoTrustGroupExport(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	loadDemo(t, e)
	const gid = "demo-rj1-active-episodes"
	if v, err := e.store.Read(context.Background(), "Group", gid); err != nil || v.VersionID != 1 {
		t.Fatalf("demo Group after loading twice: %v, %v; want version 1", v, err)
	}

	e.token = mintTrust(t)
	s := e.searchAll(t, "/Group?identifier="+url.QueryEscape("https://socialcare-fhir.example.org/Id/cohort|rj1-active-episodes"))
	if !slices.Equal(s.ids, []string{"Group/" + gid}) {
		t.Fatalf("the trust finds %v by the cohort's identifier", s.ids)
	}
	var group struct {
		Member []struct{ Entity struct{ Reference string } }
	}
	r := e.do(http.MethodGet, "/Group/"+gid, "")
	e.mustStatus(r, http.StatusOK)
	if err := json.Unmarshal(r.Body, &group); err != nil || len(group.Member) != 4 {
		t.Fatalf("demo Group: %v, %s", err, r.Body)
	}

	all := e.download(t, e.poll(t, e.kickOff(t, http.MethodGet, "/Patient/$export", "")))
	// 01, 03 and 13 (active episodes), 07 (referred); not 05, who objected.
	if got, want := nhsNumbers(t, all), []string{"9990000018", "9990000034", "9990000077", "9990000131"}; !slices.Equal(got, want) {
		t.Fatalf("the trust's Patient/$export holds the Patients %v, want %v: the demo trust's relationships changed", got, want)
	}
	want := map[string]string{}
	for _, m := range group.Member {
		for ref, body := range inCompartment(all, m.Entity.Reference) {
			want[ref] = body
		}
	}
	got := e.download(t, e.poll(t, e.kickOff(t, http.MethodGet, "/Group/"+gid+"/$export", "")))
	sameResources(t, got, want)
	if got, want := nhsNumbers(t, got), []string{"9990000018", "9990000034", "9990000131"}; !slices.Equal(got, want) {
		t.Errorf("the Group export holds the Patients %v, want the members the trust sees %v", got, want)
	}
	for ref := range got {
		if !strings.HasPrefix(ref, "Patient/") && !slices.ContainsFunc(group.Member, func(m struct{ Entity struct{ Reference string } }) bool {
			return strings.Contains(got[ref], `"`+m.Entity.Reference+`"`)
		}) {
			t.Errorf("%s is in no member's compartment", ref)
		}
	}
}

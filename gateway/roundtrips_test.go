package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/storage"
)

// On the MongoDB engine, each interaction of a GP under the baseline
// policy costs the database round trips the storage issue set, counted
// with the driver's command monitor (the audit trail's aside): a read is
// the resource and the access facts (which find the caller's organisation
// by ODS code in the same query); a page of a patient's search is the
// facts and the page, +1 for the count, +1 per included type. An
// organisation-wide search is the same: its facts are selected by the
// organisations of the caller's ODS code, which the engine remembers from
// its last lookup and checks in the same query (a code naming an
// organisation it did not know costs one more). It runs on MongoDB
// whatever engine the other tests use.
func TestMongoDBRoundTrips(t *testing.T) {
	t.Setenv(testStoreVar, storage.MongoDB)
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	loadPeople(t, e)
	e.token = gpToken(t, "R0260", "TREAT")
	// A patient whose Encounters the GP sees, so that there is something
	// to include.
	patient := ""
	for _, p := range e.searchAll(t, "/Patient?_count=100").ids {
		id := strings.TrimPrefix(p, "Patient/")
		if len(e.searchAll(t, "/Encounter?patient="+id).ids) > 0 {
			patient = id
			break
		}
	}
	if patient == "" {
		t.Fatal("the GP sees no patient's Encounters: nothing to count")
	}
	for _, tc := range []struct {
		path string
		want int64
	}{
		{"/Patient/" + patient, 2},
		{"/Encounter?patient=" + patient + "&_count=50", 2},
		{"/Encounter?patient=" + patient + "&_count=50&_total=accurate", 3},
		{"/Encounter?patient=" + patient + "&_count=50&_include=Encounter:subject", 3},
		{"/Encounter?patient=" + patient + "&_count=50&_include=Encounter:subject&_include=Encounter:service-provider", 4},
		{"/Encounter?_count=50", 2},
	} {
		e.resetRoundTrips()
		r := e.do(http.MethodGet, tc.path, "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", tc.path, r.Status, r.Body)
		}
		if n, counts := e.roundTrips(); !counts || n != tc.want {
			t.Errorf("GET %s: %d round trips (counted: %v), want %d", tc.path, n, counts, tc.want)
		}
	}
}

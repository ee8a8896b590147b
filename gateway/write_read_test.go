package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// A caller may not change or delete what it may not read: a care agency
// named in a person's care package, refused the council's care plans and
// goals, cannot revoke or delete them either.
func TestNoWriteToWhatTheCallerCannotRead(t *testing.T) {
	e := newEnv(t, gateway.Config{Policy: loadPolicy(t, "../policy")})
	people := loadPeople(t, e)
	agency := mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Org: "SYNH1", Role: "R1460", Purpose: "TREAT"})
	tried := 0
	for _, p := range people {
		for _, typ := range []string{"CarePlan", "Goal"} {
			for _, r := range p.byType[typ] {
				e.token = agency
				path := "/" + typ + "/" + r.ID
				if got := e.do(http.MethodGet, path, ""); got.Status != http.StatusForbidden {
					continue // the agency may read this one
				}
				tried++
				changed := map[string]any{}
				for k, v := range r.Object {
					changed[k] = v
				}
				if typ == "CarePlan" {
					changed["status"] = "revoked"
				} else {
					changed["lifecycleStatus"] = "cancelled"
				}
				body, _ := json.Marshal(changed)
				if got := e.do(http.MethodPut, path, string(body)); got.Status != http.StatusForbidden {
					t.Errorf("agency PUT %s it cannot read: %d %s; want 403", path, got.Status, got.Body)
				}
				if got := e.do(http.MethodDelete, path, ""); got.Status != http.StatusForbidden {
					t.Errorf("agency DELETE %s it cannot read: %d %s; want 403", path, got.Status, got.Body)
				}
			}
		}
	}
	if tried == 0 {
		t.Fatal("the agency may read every care plan and goal: the test says nothing")
	}
}

package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/validate"
	"github.com/socialcare-fhir/gateway/gateway"
)

// interleaving is the real store with another client's write slipped in
// once (when other is set), right after the gateway reads the version it
// decides the policy on.
type interleaving struct {
	gateway.Store
	once  sync.Once
	other func(ctx context.Context)
}

func (s *interleaving) Read(ctx context.Context, typ, id string) (*store.Version, error) {
	v, err := s.Store.Read(ctx, typ, id)
	if s.other != nil {
		s.once.Do(func() { s.other(ctx) })
	}
	return v, err
}

// An update or delete without If-Match applies to the version the policy
// was asked about: if another client changed the resource in between, the
// request is refused with a 409 (retry), and the other client's write
// stands.
func TestWriteAppliesToTheVersionThePolicyDecided(t *testing.T) {
	eng := openEngine(t, "")
	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			var st *interleaving
			e := eng.serve(t, gateway.Config{}, func(real gateway.Store) gateway.Store {
				st = &interleaving{Store: real}
				return st
			})
			id := "race-" + strings.ToLower(method)
			body := func(family string) string {
				return `{"resourceType":"Patient","id":"` + id + `","name":[{"family":"` + family + `"}]}`
			}
			e.mustStatus(e.do(http.MethodPut, "/Patient/"+id, body("First")), http.StatusCreated)
			st.once = sync.Once{}
			st.other = func(ctx context.Context) {
				res, err := validate.Resource([]byte(body("Other")))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := e.store.Update(ctx, res, 0); err != nil {
					t.Error(err)
				}
			}
			var r *response
			if method == http.MethodPut {
				r = e.do(http.MethodPut, "/Patient/"+id, body("Mine"))
			} else {
				r = e.do(http.MethodDelete, "/Patient/"+id, "")
			}
			if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "retry") {
				t.Fatalf("%s racing another client: %d %s; want 409 saying to retry", method, r.Status, r.Body)
			}
			v, err := e.store.Read(context.Background(), "Patient", id)
			if err != nil || v.VersionID != 2 || !strings.Contains(string(v.JSON), "Other") {
				t.Fatalf("after the race: %v %v; want the other client's version 2", v, err)
			}
			// Without a race the same request succeeds.
			if method == http.MethodPut {
				e.mustStatus(e.do(http.MethodPut, "/Patient/"+id, body("Mine")), http.StatusOK)
			} else {
				e.mustStatus(e.do(http.MethodDelete, "/Patient/"+id, ""), http.StatusNoContent)
			}
		})
	}
}

// A PUT that creates a resource applies only while nobody else has created
// it: one created by another client meanwhile is not overwritten unchecked.
func TestCreateByPutDoesNotOverwriteAConcurrentCreate(t *testing.T) {
	var st *interleaving
	e := newEnvWrapped(t, gateway.Config{}, func(real gateway.Store) gateway.Store {
		st = &interleaving{Store: real}
		return st
	})
	body := func(family string) string {
		return `{"resourceType":"Patient","id":"race-create","name":[{"family":"` + family + `"}]}`
	}
	st.other = func(ctx context.Context) {
		res, err := validate.Resource([]byte(body("Other")))
		if err == nil {
			_, err = e.store.Update(ctx, res, 0)
		}
		if err != nil {
			t.Error(err)
		}
	}
	r := e.do(http.MethodPut, "/Patient/race-create", body("Mine"))
	if r.Status != http.StatusConflict {
		t.Fatalf("PUT racing another client's create: %d %s; want 409", r.Status, r.Body)
	}
	v, err := e.store.Read(context.Background(), "Patient", "race-create")
	if err != nil || v.VersionID != 1 || !strings.Contains(string(v.JSON), "Other") {
		t.Fatalf("after the race: %v %v; want the other client's version 1", v, err)
	}
}

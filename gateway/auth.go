package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// Authenticator verifies a bearer token and says who is asking.
type Authenticator interface {
	Verify(ctx context.Context, token string) (*auth.Identity, error)
}

// Policies gives the current policy version. A request takes it once and
// uses that version for every decision it makes.
type Policies interface {
	Current() *policy.Engine
}

const accessKey = "gateway.access"

// authenticate requires a valid bearer token on every API request and
// pins the policy version the request will use. No token or a bad one is
// 401 with WWW-Authenticate.
func (s *Server) authenticate(c *gin.Context) {
	token, err := auth.BearerToken(c.GetHeader("Authorization"))
	if err != nil {
		_ = c.Error(auth.Challenge(err, "fhir"))
		c.Abort()
		return
	}
	s.admit(c, token)
}

// admit verifies a token (from the Authorization header, or the IG
// workbench's session cookie), puts its identity on the request and pins
// the policy version the request will use; a bad token is 401.
func (s *Server) admit(c *gin.Context, token string) {
	id, err := s.cfg.Auth.Verify(c.Request.Context(), token)
	if err != nil {
		_ = c.Error(auth.Challenge(err, "fhir"))
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(auth.WithIdentity(c.Request.Context(), id))
	a := &access{server: s, id: id, engine: s.cfg.Policy.Current(), trail: trailOf(c)}
	a.trail.revision = a.engine.Revision()
	c.Set(accessKey, a)
	if err := scopeRefusal(c, id); err != nil {
		a.refuseByScope(c, err)
		return
	}
	c.Next()
}

// scopeReason names a refusal by SMART scope in the audit record.
const scopeReason = "smart-scope"

// scopeRefusal applies a token's SMART scopes on top of the policy: a
// scoped token may read and search only the resource types its scopes
// name, and may not write, run a batch or an operation that is not a
// read. A token without SMART scopes is not restricted here. The policy
// still decides every request that passes.
func scopeRefusal(c *gin.Context, id *auth.Identity) *fhir.Error {
	if !id.Scoped {
		return nil
	}
	segs := strings.Split(strings.Trim(c.Request.URL.Path, "/"), "/")
	typ, m := segs[0], c.Request.Method
	search := (m == http.MethodGet && len(segs) == 1) || (m == http.MethodPost && len(segs) == 2 && segs[1] == "_search")
	if bulk, err := exportScopeRefusal(id, segs, m); bulk {
		return err
	}
	switch {
	case typ == "" || strings.HasPrefix(typ, "$") || !fhir.Supported(typ):
		return scopeError(id, "this request is not a read or search of a resource type: tokens with SMART scopes may only read and search")
	case !search && m != http.MethodGet:
		return scopeError(id, "tokens with SMART scopes may only read and search: this gateway grants no write scopes")
	case !id.Allows(typ, search):
		what := "reading"
		if search {
			what = "searching"
		}
		return scopeError(id, "the token's scopes do not allow "+what+" "+typ+": request system/"+typ+".rs or system/*.rs")
	}
	return nil
}

// exportScopeRefusal applies a token's scopes to the Bulk Data export
// paths (bulk true for them): SMART Backend Services exists for exports, so
// a scoped token may start one (system, Patient or, if it may read Groups,
// Group level), poll and cancel it and download its files; exportJob
// keeps to the types its scopes let it search, and a poll or download
// needs scopes that still cover them (scopesCoverJob).
func exportScopeRefusal(id *auth.Identity, segs []string, m string) (bulk bool, err *fhir.Error) {
	kickOff := m == http.MethodGet || m == http.MethodPost
	switch {
	case len(segs) == 1 && segs[0] == "$export", len(segs) == 2 && segs[0] == "Patient" && segs[1] == "$export":
		return kickOff, nil
	case len(segs) == 3 && segs[0] == "Group" && segs[2] == "$export":
		if kickOff && !id.Allows("Group", false) {
			return true, scopeError(id, "the token's scopes do not allow reading Group, which Group/[id]/$export reads: request system/Group.rs or system/*.rs")
		}
		return kickOff, nil
	case len(segs) == 2 && segs[0] == "$export-status":
		return m == http.MethodGet || m == http.MethodDelete, nil
	case len(segs) == 3 && segs[0] == "$export-file":
		return m == http.MethodGet, nil
	}
	return false, nil
}

// includeRefusal refuses a scoped token's _include and _revinclude of
// types its scopes do not let it search.
func includeRefusal(id *auth.Identity, q *search.Query) *fhir.Error {
	if !id.Scoped {
		return nil
	}
	for _, inc := range q.RevInclude {
		if !id.Allows(inc.Source, true) {
			return scopeError(id, "the token's scopes do not allow _revinclude of "+inc.Source+": request system/"+inc.Source+".rs")
		}
	}
	for _, inc := range q.Include {
		targets := []string{inc.Target}
		if inc.Target == "" {
			for _, p := range search.Params(inc.Source) {
				if p.Name == inc.Param {
					targets = p.Targets
				}
			}
		}
		for _, t := range targets {
			if !id.Allows(t, true) {
				return scopeError(id, "the token's scopes do not allow _include of "+t+": name an allowed target type (Type:param:Target) or request system/"+t+".rs")
			}
		}
	}
	return nil
}

func scopeError(id *auth.Identity, msg string) *fhir.Error {
	granted := id.ScopeString()
	if granted == "" {
		granted = "none this gateway honours"
	}
	return fhir.Errorf(http.StatusForbidden, "forbidden", "%s (the token's scopes: %s)", msg, granted)
}

// refuseByScope answers a request its token's scopes do not allow, and
// records why in the audit trail.
func (a *access) refuseByScope(c *gin.Context, err *fhir.Error) {
	a.trail.refused = true
	a.trail.reasons = appendNew(a.trail.reasons, scopeReason)
	_ = c.Error(err)
	c.Abort()
}

// accessOf returns the request's access state, set by authenticate.
func accessOf(c *gin.Context) *access {
	a, _ := c.Get(accessKey)
	return a.(*access)
}

// refuseAll stands in when the gateway was built without an authenticator
// or policy: every request is refused (security by default).
type refuseAll struct{}

func (refuseAll) Verify(context.Context, string) (*auth.Identity, error) {
	return nil, errors.New("the gateway has no trusted token issuers configured")
}

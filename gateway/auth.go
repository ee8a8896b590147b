package gateway

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/auth"
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
	c.Next()
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

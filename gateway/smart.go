package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
)

// TokenEndpoint issues SMART Backend Services access tokens (an
// *auth.TokenService).
type TokenEndpoint interface {
	TokenURL() string
	Token(ctx context.Context, req auth.TokenRequest) (*auth.TokenResponse, error)
}

// TokenPath is where the gateway serves its token endpoint; the token URL
// configured in the TokenEndpoint should be the public base URL plus it.
const TokenPath = "/auth/token"

// maxTokenRequestBytes bounds a token request's form body.
const maxTokenRequestBytes = 64 << 10

const oauthJSON = "application/json; charset=utf-8"

// smartRoutes serves the SMART discovery document and the token endpoint
// when the gateway issues tokens. Neither needs a bearer token; neither
// touches patient data, so neither is audited.
func (s *Server) smartRoutes(e *gin.Engine) {
	if s.cfg.SMART == nil {
		return
	}
	e.GET("/.well-known/smart-configuration", s.smartConfiguration)
	e.POST(TokenPath, withTimeout(s.cfg.RequestTimeout), s.token)
}

// smartConfiguration answers GET /.well-known/smart-configuration (SMART
// App Launch 2, "Conformance"): what a backend service needs to get a
// token.
func (s *Server) smartConfiguration(c *gin.Context) {
	scopes := []string{"system/*.rs"}
	for _, t := range fhir.ResourceTypes {
		scopes = append(scopes, "system/"+t+".rs")
	}
	writeOAuthJSON(c, http.StatusOK, map[string]any{
		"token_endpoint":                                   s.cfg.SMART.TokenURL(),
		"grant_types_supported":                            []string{auth.GrantClientCredentials},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS384", "ES384"},
		"scopes_supported":                                 scopes,
		"capabilities":                                     []string{"client-confidential-asymmetric", "permission-v2", "permission-v1"},
	})
}

// token answers POST /auth/token: client_credentials with a signed client
// assertion. Errors are RFC 6749 section 5.2 JSON, not OperationOutcomes:
// OAuth clients read them.
func (s *Server) token(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	req, oe := tokenForm(c)
	if oe == nil {
		resp, err := s.cfg.SMART.Token(c.Request.Context(), req)
		if err == nil {
			writeOAuthJSON(c, http.StatusOK, resp)
			return
		}
		if !errors.As(err, &oe) {
			s.logger.Error("SMART token request failed", "request_id", requestID(c), "error", err.Error())
			oe = &auth.OAuthError{Code: "server_error", Description: "the token could not be issued; retry later"}
		}
	}
	if oe.Err != nil {
		s.logger.Warn("SMART token request refused", "request_id", requestID(c), "error", oe.Code, "cause", oe.Err.Error())
	}
	status := oe.Status()
	if oe.Code == "server_error" {
		status = http.StatusInternalServerError
	}
	writeOAuthJSON(c, status, map[string]string{"error": oe.Code, "error_description": oe.Description})
}

// tokenForm reads the form-encoded token request; a parameter given twice
// is refused (RFC 6749 section 3.2).
func tokenForm(c *gin.Context) (auth.TokenRequest, *auth.OAuthError) {
	bad := func(desc string) (auth.TokenRequest, *auth.OAuthError) {
		return auth.TokenRequest{}, &auth.OAuthError{Code: auth.OAuthInvalidRequest, Description: desc}
	}
	if !strings.HasPrefix(c.GetHeader("Content-Type"), "application/x-www-form-urlencoded") {
		return bad("send the token request as application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxTokenRequestBytes))
	if err != nil {
		return bad("the token request body could not be read, or is larger than 64 KiB")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return bad("the token request body is not a well-formed form")
	}
	for k, vs := range form {
		if len(vs) > 1 {
			return bad("the parameter " + clipParam(k) + " is given more than once")
		}
	}
	return auth.TokenRequest{
		GrantType: form.Get("grant_type"), ClientAssertionType: form.Get("client_assertion_type"),
		ClientAssertion: form.Get("client_assertion"), Scope: form.Get("scope"), ClientID: form.Get("client_id"),
	}, nil
}

func clipParam(k string) string {
	if len(k) > 40 {
		return "(a long name)"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, k)
}

func writeOAuthJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	c.Data(status, oauthJSON, b)
}

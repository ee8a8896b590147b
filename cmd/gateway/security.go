package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/socialcare-fhir/gateway/auth"
)

// newVerifier builds the token verifier: the issuers in the trusted-issuers
// file, plus, in development mode only, the public development key.
func newVerifier(ctx context.Context, cfg *config, logger *slog.Logger) (*auth.Verifier, error) {
	var issuers []auth.Issuer
	if cfg.IssuersFile != "" {
		b, err := os.ReadFile(cfg.IssuersFile)
		if err != nil {
			return nil, fmt.Errorf("trusted issuers: %w", err)
		}
		var file []struct {
			Issuer   string   `json:"issuer"`
			Audience []string `json:"audience"`
			JWKSFile string   `json:"jwks_file"`
			JWKSURL  string   `json:"jwks_url"`
			Kind     string   `json:"kind"`
		}
		if err := strictJSON(b, &file); err != nil {
			return nil, fmt.Errorf("trusted issuers file %s: %w", cfg.IssuersFile, err)
		}
		for _, f := range file {
			issuers = append(issuers, auth.Issuer{Issuer: f.Issuer, Audience: f.Audience, JWKSFile: f.JWKSFile, JWKSURL: f.JWKSURL, Kind: f.Kind})
		}
	}
	if cfg.Mode == "development" {
		key, err := auth.LoadDevKey(cfg.DevKeyDir)
		if err != nil {
			return nil, fmt.Errorf("development mode trusts the development key, but: %w", err)
		}
		issuers = append(issuers, key.Issuer(cfg.Audience))
		logger.Warn("DEVELOPMENT: tokens signed with the public development key are trusted; never run this mode with real data", "issuer", auth.DevIssuer)
	}
	return auth.NewVerifier(ctx, auth.Config{Issuers: issuers, Production: cfg.Mode == "production", Logger: logger})
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

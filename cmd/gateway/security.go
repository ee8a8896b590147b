package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
)

// newVerifier builds the token verifier: the issuers in the trusted-issuers
// file, the SMART token service (if smart is not nil), plus, in development
// mode only, the public development key.
func newVerifier(ctx context.Context, cfg *config, smart *auth.TokenService, logger *slog.Logger) (*auth.Verifier, error) {
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
	if smart != nil {
		issuers = append(issuers, smart.TrustedIssuer())
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

// smartClientFile is one entry of the -smart-clients file.
type smartClientFile struct {
	ClientID     string          `json:"client_id"`
	JWKS         json.RawMessage `json:"jwks"`
	JWKSFile     string          `json:"jwks_file"`
	JWKSURL      string          `json:"jwks_url"`
	Organisation string          `json:"organisation"`
	PurposeOfUse string          `json:"purpose_of_use"`
	Scopes       []string        `json:"scopes"`
}

// newTokenService builds the SMART Backend Services token service from the
// -smart-clients file, or returns nil when there is none. Its access
// tokens are signed by -smart-signing-key or, in development mode only,
// the public development key.
func newTokenService(ctx context.Context, cfg *config, jtis auth.JTIStore, logger *slog.Logger) (*auth.TokenService, error) {
	if cfg.SMARTClients == "" {
		return nil, nil
	}
	b, err := os.ReadFile(cfg.SMARTClients)
	if err != nil {
		return nil, fmt.Errorf("SMART clients: %w", err)
	}
	var file []smartClientFile
	if err := strictJSON(b, &file); err != nil {
		return nil, fmt.Errorf("SMART clients file %s: %w", cfg.SMARTClients, err)
	}
	clients := make([]auth.Client, len(file))
	for i, f := range file {
		clients[i] = auth.Client{ID: f.ClientID, JWKS: f.JWKS, JWKSFile: f.JWKSFile, JWKSURL: f.JWKSURL,
			Org: f.Organisation, Purpose: f.PurposeOfUse, Scopes: f.Scopes}
	}
	key, err := smartSigningKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	return auth.NewTokenService(ctx, auth.TokenServiceConfig{
		TokenURL: base + gateway.TokenPath, Issuer: base + "/auth", Audience: cfg.Audience,
		Clients: clients, Key: key, TTL: cfg.SMARTTokenTTL, Production: cfg.Mode == "production", Logger: logger,
		JTIs: jtis,
	})
}

func smartSigningKey(cfg *config, logger *slog.Logger) (crypto.Signer, error) {
	if cfg.SMARTKey != "" {
		return auth.LoadSigningKey(cfg.SMARTKey)
	}
	dev, err := auth.LoadDevKey(cfg.DevKeyDir)
	if err != nil {
		return nil, fmt.Errorf("SMART access tokens are signed with the development key without -smart-signing-key, but: %w", err)
	}
	logger.Warn("DEVELOPMENT: SMART access tokens are signed with the public development key; give -smart-signing-key for real use")
	return dev.Signer(), nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

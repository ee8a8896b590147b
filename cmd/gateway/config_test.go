package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	cases := []struct {
		note    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(*config) bool
	}{
		{note: "defaults", check: func(c *config) bool {
			return c.Addr == "127.0.0.1:8080" && c.Mode == "development" && c.MaxCount == 1000 && c.DataDir == "./data"
		}},
		{note: "environment", env: map[string]string{"MONGODB_URI": "mongodb://db", "GATEWAY_MAX_COUNT": "2000", "GATEWAY_REQUEST_TIMEOUT": "5s"},
			check: func(c *config) bool {
				return c.MongoURI == "mongodb://db" && c.MaxCount == 2000 && c.RequestTimeout == 5*time.Second
			}},
		{note: "a flag wins over the environment", args: []string{"-max-count", "3000"}, env: map[string]string{"GATEWAY_MAX_COUNT": "2000"},
			check: func(c *config) bool { return c.MaxCount == 3000 }},
		{note: "demo refused in production", args: []string{"-mode", "production", "-demo", "-trusted-issuers", "x.json"}, wantErr: "refused in production"},
		{note: "production needs trusted issuers", args: []string{"-mode", "production"}, wantErr: "needs -trusted-issuers"},
		{note: "SMART needs a base URL", args: []string{"-smart-clients", "c.json"}, wantErr: "needs -base-url"},
		{note: "production SMART needs a signing key", args: []string{"-mode", "production", "-trusted-issuers", "x.json", "-smart-clients", "c.json", "-base-url", "https://gw.example.org"}, wantErr: "needs -smart-signing-key"},
		{note: "a SMART key without clients", args: []string{"-smart-signing-key", "k.pem"}, wantErr: "needs -smart-clients"},
		{note: "SMART token lifetime", args: []string{"-smart-clients", "c.json", "-base-url", "https://gw.example.org", "-smart-token-ttl", "1h"}, wantErr: "at most 5m"},
		{note: "unknown mode", args: []string{"-mode", "staging"}, wantErr: "development or production"},
		{note: "bad environment value", env: map[string]string{"GATEWAY_MAX_COUNT": "lots"}, wantErr: "GATEWAY_MAX_COUNT"},
		{note: "unknown flag", args: []string{"-colour", "blue"}, wantErr: "colour"},
		{note: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.note, func(t *testing.T) {
			c, err := parseConfig(tc.args, env(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
	if _, err := parseConfig([]string{"-h"}, env(nil), io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("-h: %v", err)
	}
}

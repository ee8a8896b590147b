package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/storage"
)

// The demo's named carer (README, "Sharing with a named third party"):
// with a person token for demoCarerNHS she reads Arthur Sampleton's care
// plan, as his consent covers, and not his demographics; someone else's
// NHS number reads nothing. And the demo's records past their retention
// (README, "Retention and disposal"): the appraisal lists Edith
// Oldfield's, and only hers. On both engines, under the real policy.
func TestDemoCarerAndRetention(t *testing.T) {
	key, err := auth.LoadDevKey("../../fixtures/devkeys")
	if err != nil {
		t.Fatal(err)
	}
	const aud = "socialcare-fhir-gateway"
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Issuers: []auth.Issuer{key.Issuer(aud)}})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.NewLoader(context.Background(), "../../policy", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	person := func(nhs string) string {
		tok, err := key.Mint(auth.DevClaims{Kind: auth.ShapePerson, Subject: "carer-demo", Purpose: "PATRQT", NHSNumber: nhs, Audience: aud}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, kind := range []string{storage.SQLite, storage.MongoDB} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			e, err := storage.Open(ctx, storage.Config{Kind: kind, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close(ctx)
			if _, err := loadDemo(ctx, e.Ingest); err != nil {
				t.Fatal(err)
			}
			h := gateway.New(gateway.Config{Auth: verifier, Policy: pol, Audit: e.Audit, AuditReader: e.Audit, Retention: e.Retention, Records: e.Resources}, e.Resources, slog.New(slog.DiscardHandler))
			defer h.Close(ctx)
			srv := httptest.NewServer(h)
			defer srv.Close()
			get := func(token, path string) (int, map[string]any) {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				return res.StatusCode, m
			}
			carer := person(demoCarerNHS)
			status, b := get(carer, "/CarePlan")
			entries, _ := b["entry"].([]any)
			if status != http.StatusOK || len(entries) == 0 {
				t.Fatalf("the carer's CarePlan search: %d, %d entries", status, len(entries))
			}
			subjects := map[string]bool{}
			for _, en := range entries {
				res := en.(map[string]any)["resource"].(map[string]any)
				subjects[res["subject"].(map[string]any)["reference"].(string)] = true
			}
			if len(subjects) != 1 {
				t.Fatalf("the carer sees the care plans of %v", subjects)
			}
			for p := range subjects {
				if status, _ := get(carer, "/"+p); status != http.StatusForbidden {
					t.Errorf("the carer reads %s (not shared): %d", p, status)
				}
			}
			status, b = get(person("9997700015"), "/CarePlan")
			if entries, _ := b["entry"].([]any); status != http.StatusOK || len(entries) != 0 {
				t.Errorf("another NHS number's search: %d, %d entries", status, len(entries))
			}

			ig, err := key.Mint(auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "ig-lead", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT", Audience: aud}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			status, b = get(ig, "/$disposal-due")
			items, _ := b["items"].([]any)
			due := map[string]bool{}
			for _, it := range items {
				due[it.(map[string]any)["patient"].(string)] = true
			}
			if status != http.StatusOK || len(items) == 0 || len(due) != 1 {
				t.Fatalf("the demo's appraisal list: %d, %d items of %v", status, len(items), due)
			}
			sw, err := key.Mint(auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "sw", Org: "SYN01", Role: "R1330", Purpose: "TREAT", Audience: aud}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			for p := range due {
				if status, b := get(sw, "/"+p); status != http.StatusOK || !strings.Contains(fmt.Sprint(b["name"]), "Oldfield") {
					t.Errorf("due: %s (%d %v), want Edith Oldfield", p, status, b["name"])
				}
			}
		})
	}
}

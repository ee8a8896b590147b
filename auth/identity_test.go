package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
)

func TestContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := FromContext(ctx); ok {
		t.Error("identity on an empty context")
	}
	if _, ok := FromContext(WithIdentity(ctx, nil)); ok {
		t.Error("nil identity reported as present")
	}
	id := &Identity{Kind: KindSystem, Subject: "c", Org: "RR8", Purpose: "TREAT"}
	got, ok := FromContext(WithIdentity(ctx, id))
	if !ok || got != id {
		t.Errorf("FromContext = %v, %v", got, ok)
	}
}

// TestLogValue checks that logging an identity leaves out personal data.
func TestLogValue(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("request", "who", &Identity{
		Kind: KindPerson, Subject: "nhs-login-7f3a", NHSNumber: "9990000018", Purpose: "BTG",
		BreakGlassReason: "private reason", Issuer: DevIssuer, TokenID: "j",
	})
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "person", "org": "", "role": "", "purpose": "BTG", "break_glass": true, "issuer": DevIssuer}
	if !reflect.DeepEqual(line["who"], want) {
		t.Errorf("logged %v; want %v", line["who"], want)
	}
}

package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/gateway"
)

// hostileBodies are small bodies built to cost a decoder much: a million
// empty objects (3.9 MB), one 3.9 MB string, a member named twice.
func hostileBodies() map[string]string {
	return map[string]string{
		"a million empty objects": `{"resourceType":"Patient","extension":[` + strings.TrimSuffix(strings.Repeat("{},", 1_000_000), ",") + `]}`,
		"a 3.9 MB string":         `{"resourceType":"Patient","name":[{"family":"` + strings.Repeat("a", 3_900_000) + `"}]}`,
	}
}

// Bodies built to cost a decoder much are refused before anything is built
// from them, naming the limit; a member named twice is refused too.
func TestHostileBodiesAreRefused(t *testing.T) {
	e := newEnv(t, gateway.Config{MaxBodyBytes: 8 << 20})
	for name, body := range hostileBodies() {
		r := e.do(http.MethodPost, "/Patient", body)
		if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.Body), "limit") {
			t.Errorf("%s: %d %.200s; want 413 naming the limit", name, r.Status, r.Body)
		}
	}
	r := e.do(http.MethodPost, "/Patient", `{"resourceType":"Patient","gender":"male","gender":"female"}`)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `member \"gender\" twice`) {
		t.Errorf("a member named twice: %d %s; want 400", r.Status, r.Body)
	}
}

// What refusing each hostile body costs the gateway (B/op is the memory
// allocated per request, the body itself included).
func BenchmarkHostileBodies(b *testing.B) {
	e := newEnv(b, gateway.Config{MaxBodyBytes: 8 << 20})
	for name, body := range hostileBodies() {
		b.Run(strings.ReplaceAll(name, " ", "-"), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if r := e.do(http.MethodPost, "/Patient", body); r.Status != http.StatusRequestEntityTooLarge {
					b.Fatalf("%d", r.Status)
				}
			}
		})
	}
}

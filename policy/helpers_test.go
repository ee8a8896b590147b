package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// copyPolicy copies this directory's policy (*.rego, data.json) into a
// temporary directory that a test may edit.
func copyPolicy(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	entries, err := os.ReadDir(".")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if !relevant(e.Name()) {
			continue
		}
		b, err := os.ReadFile(e.Name())
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// editFile replaces old with new in dir/name, failing if old is absent.
func editFile(tb testing.TB, dir, name, old, new string) {
	tb.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		tb.Fatalf("%s does not contain %q", name, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		tb.Fatal(err)
	}
}

var (
	engineOnce sync.Once
	engineVal  *Engine
	engineErr  error
)

// testEngine loads the policy in this directory once for all tests.
func testEngine(tb testing.TB) *Engine {
	tb.Helper()
	engineOnce.Do(func() { engineVal, engineErr = Load(context.Background(), ".") })
	if engineErr != nil {
		tb.Fatalf("Load: %v", engineErr)
	}
	return engineVal
}

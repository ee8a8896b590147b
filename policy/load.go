package policy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/util"
)

// DataFile is the data sharing agreement, beside the Rego modules.
const DataFile = "data.json"

// testTimeout bounds the policy's own tests when a version is loaded.
const testTimeout = 30 * time.Second

// source is one policy version as read from disk.
type source struct {
	modules  map[string][]byte // file name -> Rego source
	data     []byte
	revision string
}

// readSource reads the *.rego files and data.json at the top of dir (not
// subdirectories) and names the version by a hash of their contents.
func readSource(dir string) (*source, error) {
	files, err := ReadFiles(dir)
	if err != nil {
		return nil, err
	}
	return newSource(files)
}

// Files is one policy version as files: Rego modules (tests among them,
// named *_test.rego) and data.json, by file name.
type Files map[string][]byte

// ReadFiles reads the *.rego files and data.json at the top of dir (not
// subdirectories).
func ReadFiles(dir string) (Files, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read policy directory: %w", err)
	}
	files := Files{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !relevant(name) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		files[name] = b
	}
	return files, nil
}

// Revision names a version by a hash of its files: what [Engine.Revision]
// returns for the engine loaded from them.
func (f Files) Revision() string {
	h := sha256.New()
	names := slices.Sorted(maps.Keys(f))
	for _, name := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(f[name]))
		h.Write(f[name])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// newSource checks that files hold a policy: data.json and at least one
// Rego module, and nothing else.
func newSource(files Files) (*source, error) {
	src := &source{modules: map[string][]byte{}, revision: files.Revision()}
	for name, b := range files {
		switch {
		case name == DataFile:
			src.data = b
		case strings.HasSuffix(name, ".rego") && filepath.Base(name) == name:
			src.modules[name] = b
		default:
			return nil, fmt.Errorf("policy file %q: a policy holds only %s and *.rego files", name, DataFile)
		}
	}
	if src.data == nil {
		return nil, fmt.Errorf("policy has no %s", DataFile)
	}
	if len(src.modules) == 0 {
		return nil, errors.New("policy has no Rego modules")
	}
	return src, nil
}

// capabilities are this OPA version's built-ins less those that reach the
// network or the runtime environment.
func capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return b.Name == "http.send" || b.Name == "opa.runtime" || strings.HasPrefix(b.Name, "net.")
	})
	caps.AllowNet = []string{}
	return caps
}

func newCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithStrict(true).
		WithCapabilities(capabilities()).
		WithDefaultRegoVersion(ast.RegoV1)
}

// parse checks formatting and parses every module, split into policy and
// test modules.
func (s *source) parse() (policy, tests map[string]*ast.Module, err error) {
	policy, tests = map[string]*ast.Module{}, map[string]*ast.Module{}
	var errs []error
	for name, b := range s.modules {
		formatted, err := format.SourceWithOpts(name, b, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if !bytes.Equal(formatted, b) {
			errs = append(errs, fmt.Errorf("%s: not formatted (run opa fmt -w)", name))
			continue
		}
		m, err := ast.ParseModuleWithOpts(name, string(b), ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if strings.HasSuffix(name, "_test.rego") {
			tests[name] = m
		} else {
			policy[name] = m
		}
	}
	return policy, tests, errors.Join(errs...)
}

func (s *source) store() (storage.Store, error) {
	var data map[string]any
	if err := util.UnmarshalJSON(s.data, &data); err != nil {
		return nil, fmt.Errorf("%s: %w", DataFile, err)
	}
	return inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true)), nil
}

// runTests runs the policy's Rego tests against its own data. It fails if
// there are none or any fails.
func runTests(ctx context.Context, store storage.Store, policy, tests map[string]*ast.Module) error {
	if len(tests) == 0 {
		return errors.New("policy has no tests (*_test.rego)")
	}
	mods := make(map[string]*ast.Module, len(policy)+len(tests))
	for k, v := range policy {
		mods[k] = v
	}
	for k, v := range tests {
		mods[k] = v
	}
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return fmt.Errorf("policy tests: %w", err)
	}
	defer store.Abort(ctx, txn)
	ch, err := tester.NewRunner().
		SetCompiler(newCompiler()).
		SetStore(store).
		SetModules(mods).
		SetTimeout(testTimeout).
		CapturePrintOutput(true).
		RunTests(ctx, txn)
	if err != nil {
		return fmt.Errorf("policy tests: %w", err)
	}
	var failed []string
	var passed int
	for r := range ch {
		switch {
		case r.Error != nil:
			failed = append(failed, fmt.Sprintf("%s.%s: %v", r.Package, r.Name, r.Error))
		case r.Fail:
			failed = append(failed, r.Package+"."+r.Name+": failed")
		case r.Skip:
		default:
			passed++
		}
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("%d policy tests failed: %s", len(failed), strings.Join(failed, "; "))
	}
	if passed == 0 {
		return errors.New("policy has no passing tests")
	}
	return nil
}

package policy

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/socialcare-fhir/gateway/fhir/store/cond"
)

// memoLimit bounds the decisions and search filters one policy version
// remembers; when it is reached that memo starts again empty.
const memoLimit = 20_000

// planLimit bounds the plans one policy version remembers. A plan takes
// about 30 KB (mostly what partial evaluation left of its paths, kept for
// search filters), so 4,096 callers' plans take about 120 MB at most.
const planLimit = 4_096

// bounded is a concurrent map that forgets everything when it grows past
// its limit. A nil *bounded remembers nothing.
//
// The engine remembers decisions, search filters and specialised plans per
// policy version: each is a pure function of its input, the policy and its
// data, all fixed for a version, so a repeated input gets the same answer
// without evaluating the policy again. It is used only for policies that
// call no non-deterministic built-in (time, random numbers, uuids); see
// deterministic. A new policy version starts empty.
type bounded[K comparable, V any] struct {
	m     sync.Map
	n     atomic.Int64
	limit int64 // 0: memoLimit
}

func (b *bounded[K, V]) get(key K) (V, bool) {
	var zero V
	if b == nil {
		return zero, false
	}
	v, ok := b.m.Load(key)
	if !ok {
		return zero, false
	}
	return v.(V), true
}

func (b *bounded[K, V]) put(key K, v V) {
	if b == nil {
		return
	}
	limit := b.limit
	if limit == 0 {
		limit = memoLimit
	}
	if b.n.Add(1) > limit {
		b.m.Clear()
		b.n.Store(0)
	}
	b.m.Store(key, v)
}

// decisionKey is the whole input of one decision, so that nothing the
// policy could read is left out of the key.
func decisionKey(in Input) string {
	b, _ := json.Marshal(in)
	return string(b)
}

// nondeterministic built-ins: a policy that calls one cannot be memoised.
var nondeterministic = []string{"time.now_ns", "rand.", "uuid.", "opa.runtime", "http.send", "net."}

// deterministic reports whether the compiled policy's decisions depend on
// its input and data alone.
func deterministic(modules map[string]*ast.Module) bool {
	ok := true
	check := func(name string) {
		for _, p := range nondeterministic {
			if strings.HasPrefix(name, p) {
				ok = false
			}
		}
	}
	for _, mod := range modules {
		// Calls appear as expressions once compiled, and as call terms
		// inside expressions before.
		ast.WalkExprs(mod, func(x *ast.Expr) bool {
			if x.IsCall() {
				check(x.Operator().String())
			}
			return false
		})
		ast.WalkTerms(mod, func(t *ast.Term) bool {
			if c, isCall := t.Value.(ast.Call); isCall && len(c) > 0 {
				check(c[0].String())
			}
			return false
		})
	}
	return ok
}

// filterResult is a remembered search filter (or ErrDenyAll).
type filterResult struct {
	filter *cond.Node
	err    error
}

// filterKey hashes the whole search input (the patient lists can be long).
func filterKey(in Input) [32]byte {
	b, _ := json.Marshal(in)
	return sha256.Sum256(b)
}

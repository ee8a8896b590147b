package policy

import (
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// memoLimit bounds the decisions one policy version remembers; when it is
// reached the memo starts again empty.
const memoLimit = 20_000

// memo remembers the decisions of one policy version. A decision is a pure
// function of the input, the policy and its data, all fixed for a
// version, so a repeated input gets the same decision without evaluating
// the policy again. It is used only for policies that call no
// non-deterministic built-in (time, random numbers, uuids); see
// deterministic. A new policy version starts with an empty memo.
type memo struct {
	m sync.Map // input key -> Decision
	n atomic.Int64
}

func (m *memo) get(key string) (Decision, bool) {
	if m == nil {
		return Decision{}, false
	}
	v, ok := m.m.Load(key)
	if !ok {
		return Decision{}, false
	}
	return v.(Decision), true
}

func (m *memo) put(key string, d Decision) {
	if m == nil {
		return
	}
	if m.n.Add(1) > memoLimit {
		m.m.Clear()
		m.n.Store(0)
	}
	m.m.Store(key, d)
}

// decisionKey is the whole input of one decision, so that nothing the
// policy could read is left out of the key.
func decisionKey(action string, s Subject, typ, id string, r ResourceAttributes, c Context) string {
	b, _ := json.Marshal(struct {
		A string
		S Subject
		T string
		I string
		R ResourceAttributes
		C Context
	}{action, s, typ, id, r, c})
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
	filter bson.D
	err    error
}

// filterMemo remembers search filters per policy version, like memo does
// decisions: the filter is a pure function of the search input (subject,
// action, type and the patient lists), the policy and its data.
type filterMemo struct {
	m sync.Map // sha256 of the input -> filterResult
	n atomic.Int64
}

func (m *filterMemo) get(key [32]byte) (filterResult, bool) {
	if m == nil {
		return filterResult{}, false
	}
	v, ok := m.m.Load(key)
	if !ok {
		return filterResult{}, false
	}
	return v.(filterResult), true
}

func (m *filterMemo) put(key [32]byte, f filterResult) {
	if m == nil {
		return
	}
	if m.n.Add(1) > memoLimit {
		m.m.Clear()
		m.n.Store(0)
	}
	m.m.Store(key, f)
}

// filterKey hashes the whole search input (the patient lists can be long).
func filterKey(in Input) [32]byte {
	b, _ := json.Marshal(in)
	return sha256.Sum256(b)
}

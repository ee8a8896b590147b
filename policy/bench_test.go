package policy

import (
	"testing"
)

// BenchmarkDecide is a decision the engine has made before for the same
// input (the memo); BenchmarkDecideUncached evaluates the policy.
func BenchmarkDecide(b *testing.B) {
	benchDecide(b, true)
}

func BenchmarkDecideUncached(b *testing.B) {
	benchDecide(b, false)
}

func benchDecide(b *testing.B, memoised bool) {
	e := testEngine(b)
	in := Input{Action: ActionRead, Subject: trustDoctor,
		Resource: Resource{Type: "Flag", ResourceAttributes: attrs("Patient/p1", CatAlert, CatSafeguarding)},
		Context:  Context{Related: true}}
	ctx := b.Context()
	decide := e.Decide
	if !memoised {
		decide = e.evalDecision
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideMany50 decides a page as a search returns it: the filter
// already limited it to resources the subject may see (the common case;
// denials also compute their reasons and cost more, see the mixed page).
func BenchmarkDecideMany50(b *testing.B) {
	benchPage(b, true, false)
}

func BenchmarkDecideMany50Mixed(b *testing.B) {
	benchPage(b, false, false)
}

// BenchmarkDecideMany50Memo is a page whose decisions the engine has made
// before (a second page of the same kinds of record, or a repeated search).
func BenchmarkDecideMany50Memo(b *testing.B) {
	benchPage(b, true, true)
}

func benchPage(b *testing.B, visibleOnly, memoised bool) {
	e := testEngine(b)
	_, all := fixtureDocs()
	var resources []ResourceAttributes
	var contexts []Context
	for i := 0; len(resources) < 50; i++ {
		r := all[i%len(all)]
		c := Context{Related: i%3 != 0, Objected: i%7 == 0}
		if visibleOnly {
			d, err := e.Decide(b.Context(), Input{Action: ActionSearch, Subject: trustDoctor, Resource: Resource{Type: "CarePlan", ResourceAttributes: r}, Context: c})
			if err != nil {
				b.Fatal(err)
			}
			if !d.Allow {
				continue
			}
		}
		resources = append(resources, r)
		contexts = append(contexts, c)
	}
	base := Input{Action: ActionSearch, Subject: trustDoctor, Resource: Resource{Type: "CarePlan"}}
	ctx := b.Context()
	decide := e.evalMany
	if memoised {
		decide = e.DecideMany
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decide(ctx, base, resources, contexts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(resources)), "ns/resource")
}

// BenchmarkFilter is a search filter built before for the same input
// (remembered); BenchmarkFilterUncached builds it by partial evaluation.
func BenchmarkFilter(b *testing.B) {
	benchFilter(b, true)
}

func BenchmarkFilterUncached(b *testing.B) {
	benchFilter(b, false)
}

func benchFilter(b *testing.B, memoised bool) {
	e := testEngine(b)
	in := Input{Action: ActionSearch, Subject: trustDoctor, Context: Context{
		RelatedPatients: []string{"Patient/p1", "Patient/p2"}, ObjectedPatients: []string{"Patient/p2"}}}
	ctx := b.Context()
	filter := e.Filter
	if !memoised {
		filter = e.buildFilter
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

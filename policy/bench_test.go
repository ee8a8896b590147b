package policy

import (
	"fmt"
	"testing"
)

// Benchmarks of decisions. "Plan" cases are how the gateway decides: the
// subject's specialised plan (built on the subject's first request, see
// BenchmarkPlanBuild) runs over records it has never seen (each iteration
// gives them a new patient, so no remembered decision applies). "Full"
// cases evaluate the whole policy, as records no path allows are decided.

// BenchmarkDecide is one record read by a subject whose plan is built.
func BenchmarkDecide(b *testing.B) {
	e := testEngine(b)
	in := Input{Action: ActionRead, Subject: trustDoctor,
		Resource: Resource{Type: "Flag", ResourceAttributes: attrs("Patient/p1", CatAlert, CatSafeguarding)},
		Context:  Context{Related: true}}
	ctx := b.Context()
	if d, err := e.Decide(ctx, in); err != nil || !d.Allow {
		b.Fatalf("decision %+v, %v: the benchmark needs an allowed record", d, err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		in.Resource.Patient = fmt.Sprintf("Patient/n%d", i)
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideFull evaluates the whole policy for one record.
func BenchmarkDecideFull(b *testing.B) {
	e := testEngine(b)
	in := Input{Action: ActionRead, Subject: trustDoctor,
		Resource: Resource{Type: "Flag", ResourceAttributes: attrs("Patient/p1", CatAlert, CatSafeguarding)},
		Context:  Context{Related: true}}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.evalDecision(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideMany50 decides a page as a search returns it: the filter
// already limited it to records the subject may see (the common case).
func BenchmarkDecideMany50(b *testing.B) {
	benchPage(b, true, "plan")
}

// BenchmarkDecideMany50Mixed is a page of which about half is refused
// (refusals are evaluated in full, for their reasons).
func BenchmarkDecideMany50Mixed(b *testing.B) {
	benchPage(b, false, "plan")
}

// BenchmarkDecideMany50NewSubject is a subject's first page: the plan is
// built, and every distinct outcome evaluated, within the iteration.
func BenchmarkDecideMany50NewSubject(b *testing.B) {
	benchPage(b, true, "new-subject")
}

// BenchmarkDecideMany50Full evaluates the whole policy once for the page.
func BenchmarkDecideMany50Full(b *testing.B) {
	benchPage(b, true, "full")
}

func benchPage(b *testing.B, visibleOnly bool, mode string) {
	e := testEngine(b)
	if mode == "new-subject" {
		var err error
		if e, err = Load(b.Context(), "."); err != nil { // an engine of its own to forget plans in
			b.Fatal(err)
		}
	}
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
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		// New patients: nothing remembered by input applies.
		page := make([]ResourceAttributes, len(resources))
		for i, r := range resources {
			r.Patient = fmt.Sprintf("Patient/n%d-%d", n, i)
			page[i] = r
		}
		var err error
		switch mode {
		case "full":
			_, err = e.evalMany(ctx, base, page, contexts)
		case "new-subject":
			e.plans = &bounded[string, *plan]{} // forget every plan
			_, err = e.DecideMany(ctx, base, page, contexts)
		default:
			_, err = e.DecideMany(ctx, base, page, contexts)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(resources)), "ns/resource")
}

// BenchmarkPlanBuild specialises the policy for one subject and action.
func BenchmarkPlanBuild(b *testing.B) {
	e := testEngine(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.buildPlan(ctx, ActionSearch, trustDoctor); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFilter builds a search filter from the subject's plan, with
// patient lists of 2 and 5,000; BenchmarkFilterRule partially evaluates the
// filter rule instead, as for a policy that cannot be specialised.
func BenchmarkFilter(b *testing.B) {
	for _, n := range []int{2, 5000} {
		b.Run(fmt.Sprintf("patients=%d", n), func(b *testing.B) { benchFilter(b, n, false) })
	}
}

func BenchmarkFilterRule(b *testing.B) {
	for _, n := range []int{2, 5000} {
		b.Run(fmt.Sprintf("patients=%d", n), func(b *testing.B) { benchFilter(b, n, true) })
	}
}

func benchFilter(b *testing.B, patients int, rule bool) {
	e := testEngine(b)
	related := make([]string, patients)
	for i := range related {
		related[i] = fmt.Sprintf("Patient/p%d", i)
	}
	in := Input{Action: ActionSearch, Subject: trustDoctor, Context: Context{
		RelatedPatients: related, ObjectedPatients: related[:1]}}
	ctx := b.Context()
	filter := e.Filter
	if rule {
		filter = e.buildFilter
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

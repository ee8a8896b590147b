package policy

import (
	"testing"
)

func BenchmarkDecide(b *testing.B) {
	e := testEngine(b)
	in := Input{Action: ActionRead, Subject: trustDoctor,
		Resource: Resource{Type: "Flag", ResourceAttributes: attrs("Patient/p1", CatAlert, CatSafeguarding)},
		Context:  Context{Related: true}}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideMany50 decides a page as a search returns it: the filter
// already limited it to resources the subject may see (the common case;
// denials also compute their reasons and cost more, see the mixed page).
func BenchmarkDecideMany50(b *testing.B) {
	benchPage(b, true)
}

func BenchmarkDecideMany50Mixed(b *testing.B) {
	benchPage(b, false)
}

func benchPage(b *testing.B, visibleOnly bool) {
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
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.DecideMany(ctx, base, resources, contexts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(resources)), "ns/resource")
}

func BenchmarkFilter(b *testing.B) {
	e := testEngine(b)
	in := Input{Action: ActionSearch, Subject: trustDoctor, Context: Context{
		RelatedPatients: []string{"Patient/p1", "Patient/p2"}, ObjectedPatients: []string{"Patient/p2"}}}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Filter(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

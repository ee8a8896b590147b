package policy

import (
	"reflect"
	"testing"
)

// TestPageAgreesWithSingleDecisions checks, over every fixture document and
// a range of subjects, actions and patient facts, that deciding a page in
// one evaluation gives exactly the decisions of deciding each resource on
// its own. The page shares subject facts and memoised outcomes between
// resources; this is what keeps that sharing honest.
func TestPageAgreesWithSingleDecisions(t *testing.T) {
	e := testEngine(t)
	_, docs := fixtureDocs()
	docs = append(docs,
		ResourceAttributes{Patient: "Patient/p1", Categories: []string{CatCarePlan, "mystery"}, Labels: []string{}, AuthorOrgs: []string{"CP001"}},
		ResourceAttributes{Patient: "Patient/p1", Categories: []string{}, Labels: []string{}, AuthorOrgs: []string{}},
	)
	contexts := make([]Context, len(docs))
	for i := range docs {
		contexts[i] = Context{Related: i%3 != 0, Objected: i%5 == 0, KnownToCouncil: i%2 == 0, Self: i%4 == 0, ProviderNamed: i%3 == 1}
	}
	subjects := []Subject{
		gpNurse, trustAdmin, trustDoctor, councilSW, providerCare, researcher, personP1,
		{Kind: SubjectUser, Org: "RJ1", Role: "R8000", Purpose: "BTG", BreakGlassReason: "collapsed"},
		{Kind: SubjectUser, Org: "RJ1", Role: "R8009", Purpose: "BTG", BreakGlassReason: "collapsed"},
		{Kind: SubjectUser, Org: "RJ1", Role: "R9999", Purpose: "TREAT"},
		{Kind: SubjectSystem, Org: "LA001", Purpose: "COC"},
		{Kind: "robot", Org: "RJ1", Role: "R8000", Purpose: "TREAT"},
	}
	for _, action := range []string{ActionRead, ActionSearch, ActionWrite, "delete"} {
		for _, s := range subjects {
			base := Input{Action: action, Subject: s, Resource: Resource{Type: "CarePlan"}}
			page, err := e.DecideMany(t.Context(), base, docs, contexts)
			if err != nil {
				t.Fatal(err)
			}
			var allowed int
			for i, r := range docs {
				in := base
				in.Resource.ResourceAttributes = r
				in.Context = contexts[i]
				one, err := e.Decide(t.Context(), in)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(one, page[i]) {
					t.Errorf("%s by %s/%s/%s, resource %d: page %+v, single %+v", action, s.Kind, s.Org, s.Role, i, page[i], one)
				}
				if one.Allow {
					allowed++
				}
			}
			if action == ActionRead && s == trustDoctor && (allowed == 0 || allowed == len(docs)) {
				t.Errorf("trust doctor allowed %d of %d: fixtures do not exercise both outcomes", allowed, len(docs))
			}
		}
	}
}

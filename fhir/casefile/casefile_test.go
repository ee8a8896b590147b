package casefile_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/casefile"
)

// population is n people in strata by name: sizes[h] people in h.
func population(sizes map[string]int) []casefile.Member {
	var out []casefile.Member
	for h, n := range sizes {
		for i := range n {
			out = append(out, casefile.Member{Patient: fmt.Sprintf("Patient/%s-%d", strings.ReplaceAll(h, " ", ""), i), Stratum: h})
		}
	}
	return out
}

func patients(ms []casefile.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Patient)
	}
	return out
}

func TestDrawIsReproducibleWhateverTheOrder(t *testing.T) {
	pop := population(map[string]int{"North": 40, "South": 25, "East": 5})
	first := casefile.Draw(pop, 10, "seed-1")
	shuffled := slices.Clone(pop)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	again := casefile.Draw(shuffled, 10, "seed-1")
	if !slices.Equal(patients(first), patients(again)) {
		t.Fatalf("same seed, same people in another order: %v then %v", patients(first), patients(again))
	}
	other := casefile.Draw(pop, 10, "seed-2")
	if slices.Equal(patients(first), patients(other)) {
		t.Fatalf("another seed drew the same people: %v", patients(other))
	}
	if len(first) != 10 {
		t.Fatalf("drew %d, want 10", len(first))
	}
}

func TestAllocationIsProportionalWithOneEach(t *testing.T) {
	for _, tc := range []struct {
		note  string
		sizes map[string]int
		size  int
		want  map[string]int
	}{
		{"proportional", map[string]int{"A": 50, "B": 30, "C": 20}, 10, map[string]int{"A": 5, "B": 3, "C": 2}},
		{"largest remainder", map[string]int{"A": 42, "B": 38, "C": 20}, 10, map[string]int{"A": 4, "B": 4, "C": 2}},
		{"a small stratum still gets one", map[string]int{"A": 97, "B": 2, "C": 1}, 5, map[string]int{"A": 3, "B": 1, "C": 1}},
		{"everyone when the sample covers them", map[string]int{"A": 2, "B": 1}, 5, map[string]int{"A": 2, "B": 1}},
		{"exactly one each", map[string]int{"A": 10, "B": 10, "C": 10}, 3, map[string]int{"A": 1, "B": 1, "C": 1}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			drawn := casefile.Draw(population(tc.sizes), tc.size, "s")
			got := map[string]int{}
			for _, m := range drawn {
				got[m.Stratum]++
			}
			for h, n := range tc.want {
				if got[h] != n {
					t.Errorf("stratum %s: %d drawn, want %d (all: %v)", h, got[h], n, got)
				}
			}
		})
	}
}

// With fewer places than strata, each drawn stratum gives one, and the
// strata chosen depend on the seed alone.
func TestFewerPlacesThanStrata(t *testing.T) {
	pop := population(map[string]int{"A": 3, "B": 3, "C": 3, "D": 3})
	drawn := casefile.Draw(pop, 2, "x")
	if len(drawn) != 2 || drawn[0].Stratum == drawn[1].Stratum {
		t.Fatalf("want two people of two strata, got %v", drawn)
	}
	if !slices.Equal(patients(drawn), patients(casefile.Draw(pop, 2, "x"))) {
		t.Fatal("not reproducible")
	}
}

func TestShippedChecklist(t *testing.T) {
	c := casefile.Default()
	if c.Canonical() != casefile.ChecklistURL+"|1" {
		t.Fatalf("canonical %q", c.Canonical())
	}
	want := []string{"plan-current", "plan-reviewed", "persons-views", "risk-assessment", "consent-sharing",
		"nhs-number-verified", "entries-signed-dated", "outcomes-recorded", "safeguarding-followed-up", "comments"}
	var got []string
	for _, it := range c.Items {
		got = append(got, it.LinkID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("linkIds %v, want %v (they are stable: reviews and reports name them)", got, want)
	}
}

func TestParseChecklistNamesEveryProblem(t *testing.T) {
	_, issues := casefile.ParseChecklist(map[string]any{"resourceType": "Questionnaire", "url": "not a url", "status": "retired",
		"item": []any{
			map[string]any{"linkId": "a", "text": "A?", "type": "choice"},
			map[string]any{"linkId": "a", "text": "", "type": "group", "item": []any{}},
		}})
	want := []string{"Questionnaire.url", "Questionnaire.version", "Questionnaire.status", "Questionnaire.item[0].answerOption",
		"Questionnaire.item[1].linkId", "Questionnaire.item[1].text", "Questionnaire.item[1].type", "Questionnaire.item[1].item"}
	if got := expressions(issues); !slices.Equal(got, want) {
		t.Fatalf("problems at %v, want %v", got, want)
	}
}

func expressions(issues []fhir.Issue) []string {
	var out []string
	for _, is := range issues {
		out = append(out, is.Expression...)
	}
	return out
}

func answer(linkID, code string) map[string]any {
	return map[string]any{"linkId": linkID, "answer": []any{map[string]any{"valueCoding": map[string]any{"system": casefile.AnswerSystem, "code": code}}}}
}

func TestValidateResponse(t *testing.T) {
	c := casefile.Default()
	complete := func() map[string]any {
		var items []any
		for _, it := range c.Items {
			if it.Type == "choice" {
				items = append(items, answer(it.LinkID, casefile.AnswerYes))
			}
		}
		return map[string]any{"resourceType": "QuestionnaireResponse", "questionnaire": c.Canonical(), "status": "completed", "item": items}
	}
	if issues := casefile.ValidateResponse(c, complete(), "Patient/p1"); len(issues) > 0 {
		t.Fatalf("a complete review refused: %v", issues)
	}
	bad := complete()
	bad["status"] = "amended"
	bad["questionnaire"] = "https://example.org/other"
	bad["subject"] = map[string]any{"reference": "Patient/p2"}
	bad["colour"] = "blue"
	items := bad["item"].([]any)
	items[0] = answer("plan-current", "maybe")
	items[1] = map[string]any{"linkId": "plan-reviewed", "answer": []any{map[string]any{"valueString": "yes"}}}
	items[2] = answer("no-such-question", "yes")
	items[3] = map[string]any{"linkId": "risk-assessment", "colour": "red",
		"answer": []any{map[string]any{"valueCoding": map[string]any{"system": casefile.AnswerSystem, "code": "yes"}, "item": []any{}}}}
	bad["item"] = append(items, answer("plan-current", "no"))
	got := expressions(casefile.ValidateResponse(c, bad, "Patient/p1"))
	want := []string{"QuestionnaireResponse.colour", "QuestionnaireResponse.questionnaire", "QuestionnaireResponse.status",
		"QuestionnaireResponse.subject", "QuestionnaireResponse.item[0].answer[0]", "QuestionnaireResponse.item[1].answer[0]",
		"QuestionnaireResponse.item[2].linkId", "QuestionnaireResponse.item[3].colour", "QuestionnaireResponse.item[3].answer[0]",
		"QuestionnaireResponse.item[9].linkId"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems at\n %v\nwant\n %v", got, want)
	}
	// A completed review answers every required question; an unfinished
	// one need not.
	partial := complete()
	partial["item"] = partial["item"].([]any)[:3]
	if n := len(casefile.ValidateResponse(c, partial, "Patient/p1")); n != 6 {
		t.Fatalf("%d problems for a completed review missing 6 required answers", n)
	}
	partial["status"] = "in-progress"
	if issues := casefile.ValidateResponse(c, partial, "Patient/p1"); len(issues) > 0 {
		t.Fatalf("an in-progress review refused: %v", issues)
	}
}

func TestTally(t *testing.T) {
	c := casefile.Default()
	yes := map[string]string{"plan-current": "yes", "plan-reviewed": "no", "comments": "fine"}
	rep := casefile.Tally(c, []casefile.Reviewed{
		{Patient: "Patient/1", Stratum: "A", Completed: true, Answers: yes},
		{Patient: "Patient/2", Stratum: "A", Completed: true, Answers: map[string]string{"plan-current": "no"}},
		{Patient: "Patient/3", Stratum: "B", Completed: false, Answers: map[string]string{"plan-current": "yes"}},
		{Patient: "Patient/4", Stratum: "B"},
	})
	if rep.Sampled != 4 || rep.Completed != 2 || len(rep.Strata) != 2 {
		t.Fatalf("sampled %d completed %d strata %d", rep.Sampled, rep.Completed, len(rep.Strata))
	}
	q := rep.Questions[0]
	if q.LinkID != "plan-current" || q.Counts["yes"] != 1 || q.Counts["no"] != 1 || q.Counts["not-applicable"] != 0 || q.Unanswered != 0 {
		t.Fatalf("plan-current: %+v (an unfinished review is not counted)", q)
	}
	if q := rep.Questions[1]; q.Counts["no"] != 1 || q.Unanswered != 1 {
		t.Fatalf("plan-reviewed: %+v", q)
	}
	if q := rep.Questions[len(rep.Questions)-1]; q.Counts["answered"] != 1 || q.Unanswered != 1 {
		t.Fatalf("comments: %+v", q)
	}
	if b := rep.Strata[1]; b.Stratum != "B" || b.Sampled != 2 || b.Completed != 0 || b.Questions[0].Counts["yes"] != 0 {
		t.Fatalf("stratum B: %+v", b)
	}
}

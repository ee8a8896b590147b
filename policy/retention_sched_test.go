package policy

import (
	"os"
	"strings"
	"testing"
)

func TestScheduleOfThePolicy(t *testing.T) {
	data, err := os.ReadFile("data.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSchedule(data)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.For("visit"); r.Years != 8 || r.From != FromEndOfCare || r.Rule == "" {
		t.Errorf("visit: %+v", r)
	}
	if r := s.For("alert"); r != *s.Default {
		t.Errorf("alert takes the default, got %+v", r)
	}
}

func TestScheduleIsCheckedAtLoad(t *testing.T) {
	vocab := `"dsa": {"vocabulary": ["visit", "alert"]}`
	for _, tc := range []struct{ note, retention, want string }{
		{"none", ``, "no retention schedule"},
		{"no default, a category missing", `"retention": {"categories": {"visit": {"rule": "R1", "years": 8, "from": "end-of-care"}}}`, `"alert" has no entry and there is no default`},
		{"zero years", `"retention": {"default": {"rule": "R1", "years": 0, "from": "end-of-care"}}`, "years must be a positive"},
		{"negative years", `"retention": {"default": {"rule": "R1", "years": -8, "from": "end-of-care"}}`, "years must be a positive"},
		{"unknown trigger", `"retention": {"default": {"rule": "R1", "years": 8, "from": "admission"}}`, "from must be"},
		{"unknown category", `"retention": {"default": {"rule": "R1", "years": 8, "from": "death"}, "categories": {"vist": {"rule": "R2", "years": 8, "from": "death"}}}`, `"vist" is not in the vocabulary`},
		{"no rule id", `"retention": {"default": {"years": 8, "from": "death"}}`, "no rule id"},
		{"one rule two periods", `"retention": {"default": {"rule": "R1", "years": 8, "from": "death"}, "categories": {"visit": {"rule": "R1", "years": 6, "from": "death"}}}`, "two periods"},
	} {
		doc := "{" + vocab
		if tc.retention != "" {
			doc += ", " + tc.retention
		}
		doc += "}"
		_, err := parseSchedule([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.note, err, tc.want)
		}
	}
	ok := `{` + vocab + `, "retention": {"categories": {"visit": {"rule": "R1", "years": 8, "from": "end-of-care"}, "alert": {"rule": "R2", "years": 2, "from": "last-entry"}}}}`
	if _, err := parseSchedule([]byte(ok)); err != nil {
		t.Errorf("every category has an entry: %v", err)
	}
}

package casefile

import "slices"

// Reviewed is one case file of a sample as the report counts it: its
// stratum, whether its review is completed, and the answers by linkId
// (nil when not reviewed yet).
type Reviewed struct {
	Patient, Stratum string
	Completed        bool
	Answers          map[string]string
}

// Report is a sample's results: overall, per stratum and per question.
type Report struct {
	Sampled, Completed int
	Strata             []StratumResult
	Questions          []QuestionResult
}

// StratumResult is one stratum's completion and answers.
type StratumResult struct {
	Stratum            string
	Sampled, Completed int
	Questions          []QuestionResult
}

// QuestionResult counts the answers to one question over completed
// reviews: by answer code (yes, no, not-applicable; true and false for a
// boolean; "answered" for text; every one counted, zero included), and
// how many left it unanswered.
type QuestionResult struct {
	LinkID, Text string
	Counts       map[string]int
	Unanswered   int
}

// Tally counts the reviews of a sample against its checklist. Only
// completed reviews count towards the answers; an in-progress one counts
// as sampled, not completed.
func Tally(c *Checklist, items []Reviewed) Report {
	r := Report{Sampled: len(items)}
	var names []string
	for _, it := range items {
		if !slices.Contains(names, it.Stratum) {
			names = append(names, it.Stratum)
		}
	}
	slices.Sort(names)
	r.Questions = count(c, items)
	for _, it := range items {
		if it.Completed {
			r.Completed++
		}
	}
	for _, h := range names {
		in := slices.DeleteFunc(slices.Clone(items), func(it Reviewed) bool { return it.Stratum != h })
		s := StratumResult{Stratum: h, Sampled: len(in), Questions: count(c, in)}
		for _, it := range in {
			if it.Completed {
				s.Completed++
			}
		}
		r.Strata = append(r.Strata, s)
	}
	return r
}

func count(c *Checklist, items []Reviewed) []QuestionResult {
	var out []QuestionResult
	for _, q := range c.Items {
		qr := QuestionResult{LinkID: q.LinkID, Text: q.Text, Counts: map[string]int{}}
		for _, o := range q.Options {
			qr.Counts[o.Code] = 0
		}
		switch q.Type {
		case "boolean":
			qr.Counts["true"], qr.Counts["false"] = 0, 0
		case "string", "text":
			qr.Counts["answered"] = 0
		}
		for _, it := range items {
			if !it.Completed {
				continue
			}
			a, ok := it.Answers[q.LinkID]
			switch {
			case !ok:
				qr.Unanswered++
			case q.Type == "string" || q.Type == "text":
				qr.Counts["answered"]++
			default:
				qr.Counts[a]++
			}
		}
		out = append(out, qr)
	}
	return out
}

// Codes are the answer codes of q in a stable order: its options', then
// any others counted, sorted.
func (q QuestionResult) Codes(c *Checklist) []string {
	var out []string
	if it, ok := c.Item(q.LinkID); ok {
		for _, o := range it.Options {
			out = append(out, o.Code)
		}
	}
	var rest []string
	for k := range q.Counts {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

package audit

import (
	"context"
	"time"
)

// DecisionRecord is what an impact preview replays of one audit record:
// who asked, and the inputs of the decisions about records it made.
type DecisionRecord struct {
	ID          string
	Time        time.Time
	Interaction string
	Operation   string
	Agent       Agent
	Allowed     bool
	Revision    string
	// Reasons and Obligations are the interaction's decision as recorded.
	Reasons     []string
	Obligations []string
	// Decided is empty for records written before decisions' inputs were
	// kept, and for interactions that decided about no record.
	Decided        []Decided
	DecidedOmitted int
}

// decisionPage is how many records Decisions reads at a time.
const decisionPage = 2000

// Decisions calls fn with every event record from <= time < to, oldest
// first, until fn returns an error (which Decisions returns).
func (l *Log) Decisions(ctx context.Context, from, to time.Time, fn func(*DecisionRecord) error) error {
	f := filter{kind: kindEvent, from: from, to: to}
	for {
		recs, err := l.find(ctx, f, false, decisionPage)
		if err != nil {
			return err
		}
		for i := range recs {
			r := &recs[i]
			dr := decisionRecordOf(r)
			if err := fn(&dr); err != nil {
				return err
			}
		}
		if len(recs) < decisionPage {
			return nil
		}
		f.after = recs[len(recs)-1].Seq
	}
}

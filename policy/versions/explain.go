package versions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
)

// ErrNotReplayable: an audit record that kept no decision inputs (written
// before they were kept, or an interaction decided on what the record
// does not keep: a write, an operation), so its decisions cannot be
// explained again.
var ErrNotReplayable = errors.New("the audit record keeps no decision inputs")

// MaxExplained is how many of an audit record's distinct decision inputs
// an explanation covers; the rest are counted in Omitted.
const MaxExplained = 50

// RecordExplanation explains the decisions of one audited interaction
// again, from the decision inputs its audit record carries.
type RecordExplanation struct {
	AuditID     string    `json:"audit_id"`
	Time        time.Time `json:"time"`
	Interaction string    `json:"interaction"`
	Operation   string    `json:"operation,omitempty"`
	// Recorded is the interaction's decision as the audit trail holds it.
	Recorded Recorded `json:"recorded"`
	// Revision is the policy revision that answered now, and Under says
	// which: "recorded" (the revision that made the decision) or
	// "active" (the version in force now).
	Revision string `json:"revision"`
	Under    string `json:"under"`
	// Decisions explain each distinct decision input; Changed counts
	// those the answering revision decides otherwise than recorded.
	Decisions []RecordDecision `json:"decisions"`
	Changed   int              `json:"changed"`
	// Omitted counts the inputs not explained (beyond MaxExplained, or
	// beyond audit.MaxDecided when the record was written).
	Omitted int `json:"omitted"`
}

// Recorded is an audited interaction's decision.
type Recorded struct {
	Allowed     bool     `json:"allowed"`
	Reasons     []string `json:"reasons"`
	Obligations []string `json:"obligations"`
	Revision    string   `json:"revision"`
}

// RecordDecision is one decision input of an audit record, explained.
type RecordDecision struct {
	// Count is how many decisions of the interaction had this input.
	Count int `json:"count"`
	// WasAllowed is the decision recorded; Changed whether the answering
	// revision decides otherwise.
	WasAllowed bool `json:"was_allowed"`
	Changed    bool `json:"changed"`
	// Inexact: a patient fact this revision reads was not worked out when
	// the decision was made (its facts say "not worked out"), and is
	// taken as false.
	Inexact     bool                `json:"inexact"`
	Explanation *policy.Explanation `json:"explanation"`
}

// Under values.
const (
	UnderRecorded = "recorded"
	UnderActive   = "active"
)

// ExplainRecord explains the decisions of audit record dr under engine e
// (under says which revision e is: UnderRecorded or UnderActive). A
// record without decision inputs is ErrNotReplayable.
func ExplainRecord(ctx context.Context, e *policy.Engine, under string, dr *audit.DecisionRecord) (*RecordExplanation, error) {
	if len(dr.Decided) == 0 {
		why := "it was written before audit records kept them, or was refused before any record was decided"
		if !isRecordDecision(dr.Interaction) {
			why = "only reads, searches and histories keep them (a " + interactionName(dr) + " is decided on what the audit record does not hold)"
		}
		return nil, fmt.Errorf("%w: %s", ErrNotReplayable, why)
	}
	x := &RecordExplanation{AuditID: dr.ID, Time: dr.Time, Interaction: dr.Interaction, Operation: dr.Operation,
		Recorded: Recorded{Allowed: dr.Allowed, Reasons: nonNil(dr.Reasons), Obligations: nonNil(dr.Obligations), Revision: dr.Revision},
		Revision: e.Revision(), Under: under, Decisions: []RecordDecision{}, Omitted: dr.DecidedOmitted}
	s := subjectOf(&dr.Agent)
	for i := range dr.Decided {
		d := &dr.Decided[i]
		if len(x.Decisions) >= MaxExplained {
			x.Omitted += max(d.Count, 1)
			continue
		}
		need := e.Needs(ctx, d.Action, s)
		c, exact := contextOf(d.Facts, need)
		in := policy.Input{Action: d.Action, Subject: s, Context: c,
			Resource: policy.Resource{Type: d.Type, ResourceAttributes: policy.ResourceAttributes{Patient: d.Patient,
				Categories: nonNil(d.Categories), Labels: nonNil(d.Labels), AuthorOrgs: nonNil(d.AuthorOrgs)}}}
		ex, err := e.Explain(ctx, in, knownFacts(d.Facts))
		if err != nil {
			return nil, err
		}
		rd := RecordDecision{Count: max(d.Count, 1), WasAllowed: d.Allowed, Changed: ex.Decision.Allow != d.Allowed, Inexact: !exact, Explanation: ex}
		if rd.Changed {
			x.Changed++
		}
		x.Decisions = append(x.Decisions, rd)
	}
	return x, nil
}

// knownFacts are the facts audit.Decided's facts say were worked out.
func knownFacts(facts string) policy.Facts {
	k := func(i int) bool { return i < len(facts) && facts[i] != '?' }
	return policy.Facts{Related: k(0), Objected: k(1), Self: k(2), KnownToCouncil: k(3), ProviderNamed: k(4)}
}

func interactionName(dr *audit.DecisionRecord) string {
	if dr.Operation != "" {
		return dr.Operation + " operation"
	}
	return dr.Interaction
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

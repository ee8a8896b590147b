package audit

import (
	"context"
	"fmt"

	"github.com/socialcare-fhir/gateway/fhir"
)

// DecisionRecord reads the event record id as a DecisionRecord: what its
// decisions saw, for explaining them again (package policy/versions). An
// unknown id, or a checkpoint, gives an error wrapping fhir.ErrNotFound.
func (l *Log) DecisionRecord(ctx context.Context, id string) (*DecisionRecord, error) {
	r, ok, err := l.event(ctx, id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read audit event: %w", err)
	case !ok:
		return nil, fmt.Errorf("audit event: %w", fhir.ErrNotFound)
	}
	dr := decisionRecordOf(&r)
	return &dr, nil
}

func decisionRecordOf(r *record) DecisionRecord {
	return DecisionRecord{ID: r.ID, Time: r.T, Interaction: r.Interaction, Operation: r.Operation,
		Agent: Agent{Kind: r.AgentKind, Subject: r.Subject, Org: r.Org, Role: r.Role, Purpose: r.Purpose,
			BreakGlassReason: r.BreakGlassReason, ClientID: r.ClientID, Patient: r.AgentPatient},
		Allowed: r.Allowed, Revision: r.Revision, Reasons: r.Reasons, Obligations: r.Obligations,
		Decided: r.Decided, DecidedOmitted: r.DecidedOmitted}
}

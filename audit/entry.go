package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Entry is what the gateway knows about one interaction.
type Entry struct {
	// Time is when the interaction happened; zero means now. It is stored to
	// the millisecond.
	Time      time.Time
	RequestID string
	// Interaction is a FHIR restful-interaction code (read, vread,
	// search-type, history-instance, history-type, create, update, delete,
	// batch, operation, ...) or "ingest" for a social care record pushed in.
	Interaction string
	// Operation names the operation, e.g. "$who-accessed", when Interaction
	// is "operation"; "" otherwise.
	Operation    string
	ResourceType string
	// Query is the raw query string of a search; it goes base64-encoded into
	// the query entity, as BALP says.
	Query string
	// Outcome is the FHIR R4 AuditEvent.outcome: "0" success, "4" minor
	// failure, "8" serious failure, "12" major failure. Empty means: "0" when
	// allowed and HTTPStatus is below 400, "8" when refused or 5xx, "4"
	// otherwise.
	Outcome    string
	HTTPStatus int
	Agent      Agent
	// Patients are the "Patient/<id>" references concerned.
	Patients []string
	// Resources are the "Type/id" references returned or touched.
	Resources []string
	// Categories are the record categories touched (policy vocabulary:
	// care-plan, visit, medication, ...).
	Categories []string
	// Counts are the resources by type an interaction handed over without
	// listing them one by one: a Bulk Data export's manifest and files.
	Counts   map[string]int
	Decision Decision
	// Decided are the inputs of the decisions about records the
	// interaction made, so that an impact preview can replay them under
	// another policy version (package policy/versions). Alike inputs are
	// one entry with a count; beyond MaxDecided entries the rest are only
	// counted in DecidedOmitted.
	Decided        []Decided
	DecidedOmitted int
	// Destruction, on the record of an approved disposal, is its
	// destruction record (docs/records-retention.md): which disposal,
	// under which schedule rules, proposed by whom (the agent approved
	// it), how many versions went. The resources destroyed are in
	// Resources, their classes in Categories; no clinical content.
	Destruction *Destruction
}

// Destruction is what a destruction record adds to an audit record.
type Destruction struct {
	// Disposal is the disposal's id (its certificate is
	// GET /$disposal/{id}).
	Disposal string `bson:"id" json:"id"`
	// Rules are the retention schedule entries applied.
	Rules []string `bson:"rules" json:"rules"`
	// Schedule is the policy revision whose schedule was applied.
	Schedule string `bson:"sch,omitempty" json:"sch,omitempty"`
	// ProposedBy is the subject who proposed the disposal.
	ProposedBy string `bson:"by" json:"by"`
	// Versions is how many stored versions were destroyed.
	Versions int `bson:"v" json:"v"`
}

// MaxDecided is how many distinct decision inputs one audit record keeps.
const MaxDecided = 1000

// Decided is what one decision about a record saw (no record content):
// the policy action, the resource's type and access attributes, and the
// patient facts. The subject is the record's agent.
type Decided struct {
	Action     string   `bson:"a" json:"a"`
	Type       string   `bson:"rt,omitempty" json:"rt,omitempty"`
	Patient    string   `bson:"pat,omitempty" json:"pat,omitempty"`
	Categories []string `bson:"cat,omitempty" json:"cat,omitempty"`
	Labels     []string `bson:"lab,omitempty" json:"lab,omitempty"`
	AuthorOrgs []string `bson:"ao,omitempty" json:"ao,omitempty"`
	// Facts are the patient facts related, objected, self,
	// known_to_council and provider_named, one character each in that
	// order: '1' true, '0' false, '?' not worked out (the policy did not
	// need it).
	Facts   string `bson:"f" json:"f"`
	Allowed bool   `bson:"ok" json:"ok"`
	// Count is how many decisions had exactly this input.
	Count int `bson:"n" json:"n"`
}

// Agent is who asked.
type Agent struct {
	// Kind is "user", "system" or "person" (see package auth).
	Kind string
	// Subject is the user id (SDS user id for CIS2 users), the client id for
	// systems, the person's subject for persons.
	Subject string
	Org     string // ODS code of the acting organisation
	Role    string // job role code, e.g. "R8000"
	Purpose string // v3-ActReason code: TREAT, COC, ETREAT, BTG, PATRQT, ...
	// BreakGlassReason is the stated reason for emergency access.
	BreakGlassReason string
	ClientID         string // the client application
	// Network is the client's network address (an IP address) as the
	// gateway's connection saw it.
	Network string
	// Patient is, for Kind "person", the "Patient/<id>" the person is. It
	// tells the person's own accesses apart in WhoAccessed; when it is empty
	// every allowed access by a person to a patient's record counts as the
	// person's own (the policy lets persons see only their own record), and
	// a refused one as someone else's attempt.
	Patient string
}

// Decision is the policy decision for the interaction.
type Decision struct {
	Allowed     bool
	Reasons     []string // rule ids
	Revision    string   // policy revision
	Obligations []string // e.g. "audit-break-glass", "review-break-glass"
}

// Agent kinds.
const (
	KindUser   = "user"
	KindSystem = "system"
	KindPerson = "person"
)

// InteractionIngest is the interaction code of a social care record pushed in.
const InteractionIngest = "ingest"

// actions maps each accepted interaction to its AuditEvent.action (C, R, U,
// D, E). BALP: reads are R, searches and operations E.
var actions = map[string]string{
	"read": "R", "vread": "R",
	"history": "R", "history-instance": "R", "history-type": "R", "history-system": "R",
	"search": "E", "search-type": "E", "search-system": "E",
	"create": "C", "update": "U", "patch": "U", "delete": "D",
	"capabilities": "E", "batch": "E", "transaction": "E", "operation": "E",
	InteractionIngest: "C",
}

// ErrInvalidEntry reports an Entry the gateway should never have built.
var ErrInvalidEntry = errors.New("invalid audit entry")

// breakGlassPurposes are the v3-ActReason codes that mean emergency access.
var breakGlassPurposes = []string{"BTG", "ETREAT"}

// breakGlass reports whether e is an emergency (break-glass) access: the
// purpose is BTG or ETREAT, a reason was stated, or the policy asked for it
// to be audited as such.
func (e *Entry) breakGlass() bool {
	return slices.Contains(breakGlassPurposes, e.Agent.Purpose) ||
		e.Agent.BreakGlassReason != "" ||
		slices.Contains(e.Decision.Obligations, "audit-break-glass") ||
		slices.Contains(e.Decision.Obligations, "review-break-glass")
}

// normalise checks e and fills defaults. It never includes field values in
// errors: they may be personal data.
func (e *Entry) normalise(now time.Time) error {
	if _, ok := actions[e.Interaction]; !ok {
		return fmt.Errorf("%w: unknown interaction", ErrInvalidEntry)
	}
	if e.Interaction == "operation" && !strings.HasPrefix(e.Operation, "$") {
		return fmt.Errorf("%w: an operation needs a name starting with $", ErrInvalidEntry)
	}
	switch e.Agent.Kind {
	case KindUser, KindSystem, KindPerson, "":
	default:
		return fmt.Errorf("%w: unknown agent kind", ErrInvalidEntry)
	}
	switch e.Outcome {
	case "0", "4", "8", "12":
	case "":
		e.Outcome = defaultOutcome(e.Decision.Allowed, e.HTTPStatus)
	default:
		return fmt.Errorf("%w: outcome must be 0, 4, 8 or 12", ErrInvalidEntry)
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Millisecond)
	for _, s := range []*string{&e.RequestID, &e.Interaction, &e.Operation, &e.ResourceType, &e.Query,
		&e.Agent.Kind, &e.Agent.Subject, &e.Agent.Org, &e.Agent.Role, &e.Agent.Purpose,
		&e.Agent.BreakGlassReason, &e.Agent.ClientID, &e.Agent.Patient, &e.Agent.Network, &e.Decision.Revision} {
		*s = strings.ToValidUTF8(*s, "\uFFFD")
	}
	e.Patients = cleanList(e.Patients)
	e.Resources = cleanList(e.Resources)
	e.Categories = cleanList(e.Categories)
	e.Decision.Reasons = cleanList(e.Decision.Reasons)
	e.Decision.Obligations = cleanList(e.Decision.Obligations)
	for i := range e.Decided {
		d := &e.Decided[i]
		for _, s := range []*string{&d.Action, &d.Type, &d.Patient, &d.Facts} {
			*s = strings.ToValidUTF8(*s, "\uFFFD")
		}
		d.Categories, d.Labels, d.AuthorOrgs = cleanList(d.Categories), cleanList(d.Labels), cleanList(d.AuthorOrgs)
	}
	if len(e.Decided) > MaxDecided {
		for _, d := range e.Decided[MaxDecided:] {
			e.DecidedOmitted += d.Count
		}
		e.Decided = e.Decided[:MaxDecided]
	}
	if len(e.Decided) == 0 {
		e.Decided = nil
	}
	return nil
}

func defaultOutcome(allowed bool, status int) string {
	switch {
	case !allowed || status >= 500:
		return "8"
	case status >= 400:
		return "4"
	}
	return "0"
}

// cleanList drops empty and duplicate values, keeping the first occurrence,
// and returns nil for an empty list so that a stored record decodes back to
// exactly what was hashed.
func cleanList(in []string) []string {
	var out []string
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		s = strings.ToValidUTF8(s, "\uFFFD")
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

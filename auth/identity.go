package auth

import (
	"context"
	"log/slog"
)

// Kinds of [Identity].
const (
	KindUser   = "user"   // a member of staff: NHS (CIS2) or council
	KindSystem = "system" // an NHS trust system using client credentials
	KindPerson = "person" // a person looking at their own record
)

// Token shapes: the values of [Issuer.Kind] and [DevClaims.Kind].
const (
	ShapeCIS2    = "cis2"    // NHS CIS2 user token (nhsid_nrbac_roles + selected_roleid)
	ShapeCouncil = "council" // council staff token (org_code + roles)
	ShapeSystem  = "system"  // client credentials token (client_id + org_code)
	ShapePerson  = "person"  // a person's own token (nhs_number)
)

// Identity is who is asking, normalised from a verified token. The kind of
// the acting organisation is deliberately absent: the gateway looks it up in
// the data sharing agreement (policy data), never trusting the token for it.
//
// Subject, NHSNumber and BreakGlassReason are personal data or may contain
// it: they belong in the audit record, not in logs. [Identity.LogValue] leaves
// them out.
type Identity struct {
	Kind string // KindUser, KindSystem or KindPerson
	// Subject is "sub": the SDS user id for CIS2 users, the client id for
	// systems. Never log it together with patient data.
	Subject string
	Org     string // ODS code of the acting organisation; "" for persons
	// Role is the job role code of the selected role, e.g. "R8000" (the R part
	// of a CIS2 role_code); "" for systems and persons.
	Role string
	// Roles holds every job role code the token carries for Org, the selected
	// one first (informational; decisions use Role).
	Roles []string
	// Purpose is the v3-ActReason code: TREAT, COC, ETREAT, BTG, PATRQT, ...
	// (GP Connect's reason_for_request=directcare becomes TREAT).
	Purpose string
	// BreakGlassReason is the reason stated for emergency access; set only
	// when Purpose is BTG or ETREAT, and then never empty.
	BreakGlassReason string
	NHSNumber        string // for KindPerson only
	Issuer           string // "iss" of the token
	TokenID          string // "jti" of the token, if any
	// Scoped is set when the token carried SMART resource scopes
	// (system/Patient.rs, ...); Scopes are those the gateway honours.
	// The gateway lets a scoped identity read and search only the types its
	// scopes name ([Identity.Allows]), and write nothing; the policy still
	// decides everything else.
	Scoped bool
	Scopes []Scope
}

// BreakGlass reports whether the identity claims emergency access.
func (id *Identity) BreakGlass() bool { return isBreakGlass(id.Purpose) }

// LogValue implements slog.LogValuer with the fields that are safe to log:
// no subject, NHS number or break-glass reason.
func (id *Identity) LogValue() slog.Value {
	if id == nil {
		return slog.Value{}
	}
	return slog.GroupValue(
		slog.String("kind", id.Kind),
		slog.String("org", id.Org),
		slog.String("role", id.Role),
		slog.String("purpose", id.Purpose),
		slog.Bool("break_glass", id.BreakGlass()),
		slog.String("issuer", id.Issuer),
	)
}

type identityKey struct{}

// WithIdentity returns a copy of ctx carrying id.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity put on ctx by [WithIdentity].
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok && id != nil
}

package auth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Scope is one SMART resource scope the gateway honours: reading and/or
// searching one resource type, or every type ("*"). SMART App Launch 2
// writes it context/Type.permissions, for example system/Patient.rs; the
// version 1 form system/Patient.read means the same as .rs. Write
// permissions (c, u, d, write) are never granted by this gateway.
type Scope struct {
	Context string // "system" ("user" and "patient" are understood in tokens from other issuers)
	Type    string // a resource type, or "*" for every type
	Read    bool   // r: read, vread, history
	Search  bool   // s: search
}

// errWriteScope refuses scopes asking to create, update or delete.
var errWriteScope = errors.New("this gateway grants read and search only (.rs): write scopes are not available")

// ParseScope reads one SMART resource scope. It refuses write
// permissions, query-restricted scopes (Type.rs?param=value), unknown
// contexts and resource types this gateway does not serve.
func ParseScope(s string) (Scope, error) {
	ctx, rest, ok := strings.Cut(s, "/")
	if !ok || (ctx != "system" && ctx != "user" && ctx != "patient") {
		return Scope{}, fmt.Errorf("scope %q is not a SMART resource scope such as system/Patient.rs", clip(s))
	}
	if strings.Contains(rest, "?") {
		return Scope{}, fmt.Errorf("scope %q: scopes restricted by search parameters are not supported", clip(s))
	}
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok || (typ != "*" && !fhir.Supported(typ)) {
		return Scope{}, fmt.Errorf("scope %q names no resource type this gateway serves (see /metadata), nor *", clip(s))
	}
	sc := Scope{Context: ctx, Type: typ}
	switch perms {
	case "read":
		sc.Read, sc.Search = true, true
		return sc, nil
	case "write", "*":
		return Scope{}, errWriteScope
	}
	if perms == "" || !inCRUDSOrder(perms) {
		return Scope{}, fmt.Errorf("scope %q: permissions must be some of c, r, u, d, s in that order (e.g. .rs)", clip(s))
	}
	if strings.ContainsAny(perms, "cud") {
		return Scope{}, errWriteScope
	}
	sc.Read, sc.Search = strings.Contains(perms, "r"), strings.Contains(perms, "s")
	return sc, nil
}

// inCRUDSOrder reports whether perms is a subsequence of "cruds".
func inCRUDSOrder(perms string) bool {
	i := 0
	for _, r := range perms {
		j := strings.IndexRune("cruds"[i:], r)
		if j < 0 {
			return false
		}
		i += j + 1
	}
	return true
}

// String writes the scope in SMART 2 form: system/Patient.rs.
func (sc Scope) String() string {
	perms := ""
	if sc.Read {
		perms += "r"
	}
	if sc.Search {
		perms += "s"
	}
	return sc.Context + "/" + sc.Type + "." + perms
}

// covers reports whether sc grants everything other grants.
func (sc Scope) covers(other Scope) bool {
	return sc.Context == other.Context && (sc.Type == "*" || sc.Type == other.Type) &&
		(sc.Read || !other.Read) && (sc.Search || !other.Search)
}

// Allows reports whether the identity's scopes let it read (search false)
// or search (search true) resources of type typ. An identity whose token
// carried no SMART scopes is not restricted by scope: the policy alone
// decides.
func (id *Identity) Allows(typ string, search bool) bool {
	if !id.Scoped {
		return true
	}
	for _, sc := range id.Scopes {
		if (sc.Type == "*" || sc.Type == typ) && ((search && sc.Search) || (!search && sc.Read)) {
			return true
		}
	}
	return false
}

// ScopeString is the identity's scopes, space-separated, for messages.
func (id *Identity) ScopeString() string {
	parts := make([]string, len(id.Scopes))
	for i, sc := range id.Scopes {
		parts[i] = sc.String()
	}
	return strings.Join(parts, " ")
}

// tokenScopes reads the SMART resource scopes of a token's scope claim.
// Entries that are not SMART resource scopes (openid, nationalrbacaccess,
// ...) are ignored; if none is, the token is not restricted by scope
// (scoped is false). A SMART scope this gateway cannot honour (a write
// scope, a malformed one) grants nothing, so a token holding only such
// scopes may do nothing.
func tokenScopes(claim []string) (scopes []Scope, scoped bool) {
	for _, entry := range claim {
		for s := range strings.FieldsSeq(entry) {
			ctx, _, ok := strings.Cut(s, "/")
			if !ok || (ctx != "system" && ctx != "user" && ctx != "patient") {
				continue
			}
			scoped = true
			if sc, err := ParseScope(s); err == nil {
				scopes = append(scopes, sc)
			}
		}
	}
	return scopes, scoped
}

// clip bounds a client-supplied value quoted in a message.
func clip(s string) string {
	if len(s) > 64 || !cleanText(s, 64, false) {
		return "(a long or unprintable value)"
	}
	return s
}

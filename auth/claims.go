package auth

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socialcare-fhir/gateway/fhir"
)

// claims are the JWT claims the gateway reads; others are ignored.
type claims struct {
	Iss string       `json:"iss"`
	Sub string       `json:"sub"`
	Aud audience     `json:"aud"`
	Exp *numericDate `json:"exp"`
	Nbf *numericDate `json:"nbf"`
	Iat *numericDate `json:"iat"`
	Jti string       `json:"jti"`
	// Scope is OAuth's scope: a space-separated string (RFC 6749 3.3), or
	// an array as some issuers send it; read like aud.
	Scope audience `json:"scope"`

	// CIS2 users.
	NRBACRoles     []nrbacRole `json:"nhsid_nrbac_roles"`
	SelectedRoleID string      `json:"selected_roleid"`
	// Council staff and systems.
	OrgCode      string   `json:"org_code"`
	Roles        []string `json:"roles"`
	SelectedRole string   `json:"selected_role"`
	ClientID     string   `json:"client_id"`
	// Persons.
	NHSNumber string `json:"nhs_number"`

	PurposeOfUse     string `json:"purpose_of_use"`
	ReasonForRequest string `json:"reason_for_request"`
	BreakGlassReason string `json:"break_glass_reason"`
}

// nrbacRole is one entry of CIS2's nhsid_nrbac_roles.
type nrbacRole struct {
	OrgCode      string `json:"org_code"`
	PersonOrgID  string `json:"person_orgid"`
	PersonRoleID string `json:"person_roleid"`
	RoleCode     string `json:"role_code"` // "S8000:G8000:R8000"
	RoleName     string `json:"role_name"`
}

// Bounds on identity claims.
const (
	maxSubject = 255
)

func decodeClaims(payload []byte) (*claims, error) {
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, tokenErr(ReasonMalformed, "the JWT claim "+te.Field+" has the wrong JSON type")
		}
		var de *dateError
		if errors.As(err, &de) {
			return nil, tokenErr(ReasonMalformed, "the JWT time claims (exp, nbf, iat) must be seconds since 1970")
		}
		return nil, tokenErr(ReasonMalformed, "the JWT payload is not a JSON object of claims")
	}
	return &c, nil
}

// audience is "aud": one string or an array of strings (RFC 7519 4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// numericDate is seconds since 1970, possibly fractional (RFC 7519 2).
type numericDate float64

type dateError struct{}

func (dateError) Error() string { return "time claim out of range" }

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f < 0 || f > 1e11 || math.IsNaN(f) { // 1e11 s is past the year 5000
		return &dateError{}
	}
	*d = numericDate(f)
	return nil
}

func (d numericDate) time() time.Time {
	sec, frac := math.Modf(float64(d))
	return time.Unix(int64(sec), int64(frac*1e9))
}

func (d numericDate) add(skew time.Duration) time.Time { return d.time().Add(skew) }

// shape names the token's shape from its claims; hint, if set, is the only
// shape the issuer may issue. Staff role claims and an NHS number never mix.
func (c *claims) shape(hint string) (string, error) {
	var found []string
	if c.NRBACRoles != nil {
		found = append(found, ShapeCIS2)
	}
	if c.Roles != nil {
		found = append(found, ShapeCouncil)
	}
	if c.NHSNumber != "" {
		found = append(found, ShapePerson)
	}
	if len(found) > 1 {
		return "", tokenErr(ReasonClaims, "the token mixes claims of different token shapes ("+strings.Join(found, ", ")+")")
	}
	if len(found) == 0 && (c.ClientID != "" || hint == ShapeSystem) {
		found = append(found, ShapeSystem)
	}
	switch {
	case len(found) == 0:
		return "", tokenErr(ReasonClaims, "the token does not say who is acting: expected nhsid_nrbac_roles, roles, nhs_number or client_id")
	case hint != "" && found[0] != hint:
		return "", tokenErr(ReasonClaims, "this issuer issues "+hint+" tokens, but the token carries "+found[0]+" claims")
	}
	return found[0], nil
}

// identity builds the Identity of the token's shape.
func (c *claims) identity(hint string) (*Identity, error) {
	shape, err := c.shape(hint)
	if err != nil {
		return nil, err
	}
	var id *Identity
	switch shape {
	case ShapeCIS2:
		id, err = c.cis2Identity()
	case ShapeCouncil:
		id, err = c.councilIdentity()
	case ShapeSystem:
		id, err = c.systemIdentity()
	default:
		return c.personIdentity()
	}
	if err != nil {
		return nil, err
	}
	if id.Purpose, err = c.purpose(); err != nil {
		return nil, err
	}
	if id.BreakGlassReason, err = c.breakGlassReason(id.Purpose); err != nil {
		return nil, err
	}
	return id, nil
}

func (c *claims) subject() (string, error) {
	if c.Sub == "" {
		return "", tokenErr(ReasonClaims, "the token has no subject (sub)")
	}
	if !cleanText(c.Sub, maxSubject, false) {
		return "", tokenErr(ReasonClaims, "the token's subject (sub) must be printable text of at most 255 characters")
	}
	return c.Sub, nil
}

// cis2Identity takes the organisation and job role from the nhsid_nrbac_roles
// entry whose person_roleid is selected_roleid.
func (c *claims) cis2Identity() (*Identity, error) {
	sub, err := c.subject()
	if err != nil {
		return nil, err
	}
	if c.SelectedRoleID == "" {
		return nil, tokenErr(ReasonClaims, "the CIS2 token has no selected_roleid: request the selectedrole scope")
	}
	var sel *nrbacRole
	for i := range c.NRBACRoles {
		if c.NRBACRoles[i].PersonRoleID != c.SelectedRoleID {
			continue
		}
		if sel != nil {
			return nil, tokenErr(ReasonClaims, "selected_roleid matches more than one entry of nhsid_nrbac_roles")
		}
		sel = &c.NRBACRoles[i]
	}
	if sel == nil {
		return nil, tokenErr(ReasonClaims, "selected_roleid matches no person_roleid in nhsid_nrbac_roles")
	}
	org, ok := odsCode(sel.OrgCode)
	if !ok {
		return nil, tokenErr(ReasonClaims, "the selected role's org_code is not an ODS code")
	}
	role, ok := jobRole(sel.RoleCode)
	if !ok {
		return nil, tokenErr(ReasonClaims, "the selected role's role_code has no job role (an R code such as R8000)")
	}
	roles := []string{role}
	for _, r := range c.NRBACRoles {
		if o, _ := odsCode(r.OrgCode); o != org {
			continue
		}
		if jr, ok := jobRole(r.RoleCode); ok && !slices.Contains(roles, jr) {
			roles = append(roles, jr)
		}
	}
	return &Identity{Kind: KindUser, Subject: sub, Org: org, Role: role, Roles: roles}, nil
}

// councilIdentity reads org_code and roles; selected_role picks one of
// several roles.
func (c *claims) councilIdentity() (*Identity, error) {
	sub, err := c.subject()
	if err != nil {
		return nil, err
	}
	org, ok := odsCode(c.OrgCode)
	if !ok {
		return nil, tokenErr(ReasonClaims, "the council token's org_code is missing or not an ODS code")
	}
	if len(c.Roles) == 0 {
		return nil, tokenErr(ReasonClaims, "the council token's roles claim is empty")
	}
	roles := make([]string, 0, len(c.Roles))
	for _, r := range c.Roles {
		if !validJobRole(r) {
			return nil, tokenErr(ReasonClaims, "the council token's roles must be job role codes such as R1330")
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	role := roles[0]
	switch {
	case c.SelectedRole != "":
		if !slices.Contains(roles, c.SelectedRole) {
			return nil, tokenErr(ReasonClaims, "the council token's selected_role is not one of its roles")
		}
		role = c.SelectedRole
		roles = append([]string{role}, slices.DeleteFunc(roles, func(r string) bool { return r == role })...)
	case len(roles) > 1:
		return nil, tokenErr(ReasonClaims, "the council token has several roles and no selected_role saying which one is acting")
	}
	return &Identity{Kind: KindUser, Subject: sub, Org: org, Role: role, Roles: roles}, nil
}

// systemIdentity reads a client credentials token: client_id (or sub) and
// the org_code the issuer maps the client to.
func (c *claims) systemIdentity() (*Identity, error) {
	sub := c.ClientID
	if sub == "" {
		var err error
		if sub, err = c.subject(); err != nil {
			return nil, err
		}
	} else if !cleanText(sub, maxSubject, false) {
		return nil, tokenErr(ReasonClaims, "the token's client_id must be printable text of at most 255 characters")
	}
	org, ok := odsCode(c.OrgCode)
	if !ok {
		return nil, tokenErr(ReasonClaims, "the system token's org_code is missing or not an ODS code: the issuer must map the client to its organisation")
	}
	return &Identity{Kind: KindSystem, Subject: sub, Org: org}, nil
}

// personIdentity reads a person's own token: a valid NHS number, and no
// purpose other than PATRQT.
func (c *claims) personIdentity() (*Identity, error) {
	sub, err := c.subject()
	if err != nil {
		return nil, err
	}
	if !fhir.ValidNHSNumber(c.NHSNumber) {
		return nil, tokenErr(ReasonClaims, "the token's nhs_number is not a valid NHS number (10 digits, Modulus 11)")
	}
	if c.PurposeOfUse != "" || c.ReasonForRequest != "" {
		if p, err := c.purpose(); err != nil || p != PurposePatientRequested {
			return nil, tokenErr(ReasonBadPurpose, "a person's own token may only state purpose PATRQT")
		}
	}
	return &Identity{Kind: KindPerson, Subject: sub, NHSNumber: c.NHSNumber, Purpose: PurposePatientRequested}, nil
}

// odsCode upper-cases an ODS organisation code and checks its form: 3 to 10
// letters and digits.
func odsCode(s string) (string, bool) {
	if len(s) < 3 || len(s) > 10 {
		return "", false
	}
	s = strings.ToUpper(s)
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return "", false
		}
	}
	return s, true
}

// jobRole returns the R part of a CIS2 role_code ("S8000:G8000:R8000"); a
// bare job role code is accepted too.
func jobRole(roleCode string) (string, bool) {
	role := ""
	for part := range strings.SplitSeq(roleCode, ":") {
		if !validJobRole(part) {
			continue
		}
		if role != "" {
			return "", false // two job roles in one role_code
		}
		role = part
	}
	return role, role != ""
}

// validJobRole checks the form of an SDS job role code: R and four digits.
func validJobRole(s string) bool {
	if len(s) != 5 || s[0] != 'R' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// cleanText reports whether s is valid UTF-8 of at most max characters
// without control characters (newlines and tabs allowed if multiline).
func cleanText(s string, max int, multiline bool) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return false
		}
	}
	return true
}

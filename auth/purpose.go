package auth

import "strings"

// ActReasonSystem is the code system of purpose of use codes.
const ActReasonSystem = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

// Purpose of use codes (v3-ActReason) with a special meaning here.
const (
	PurposeTreatment        = "TREAT"  // treatment: direct care
	PurposeCoordination     = "COC"    // coordination of care
	PurposeEmergency        = "ETREAT" // emergency treatment: needs a break-glass reason
	PurposeBreakGlass       = "BTG"    // break the glass: needs a break-glass reason
	PurposePatientRequested = "PATRQT" // the person's own request (person tokens)
)

// GP Connect's reason_for_request value for direct care.
const reasonDirectCare = "directcare"

// maxBreakGlassReason bounds the stated reason, in characters.
const maxBreakGlassReason = 1000

// knownPurpose lists the v3-ActReason codes the gateway accepts as a purpose
// of use (see shared/reference/uk-standards.md). Whether a purpose is allowed
// for a request is the policy's decision, not this package's.
func knownPurpose(code string) bool {
	switch code {
	case "TREAT", "COC", "ETREAT", "BTG", "HPAYMT", "HOPERAT", "PUBHLTH", "HRESCH", "PATRQT":
		return true
	}
	return false
}

func isBreakGlass(purpose string) bool {
	return purpose == PurposeBreakGlass || purpose == PurposeEmergency
}

// NormalisePurpose returns the v3-ActReason code of a purpose_of_use value:
// a bare code ("TREAT", case-insensitive) or system|code with
// [ActReasonSystem]. ok is false for anything else.
func NormalisePurpose(raw string) (code string, ok bool) {
	raw = strings.TrimSpace(raw)
	if sys, c, found := strings.Cut(raw, "|"); found {
		if sys != ActReasonSystem {
			return "", false
		}
		raw = c
	}
	code = strings.ToUpper(raw)
	return code, knownPurpose(code)
}

// purpose reads the purpose of use: purpose_of_use if present, otherwise
// GP Connect's reason_for_request (only "directcare", meaning TREAT).
func (c *claims) purpose() (string, error) {
	switch {
	case c.PurposeOfUse != "":
		code, ok := NormalisePurpose(c.PurposeOfUse)
		if !ok {
			return "", tokenErr(ReasonBadPurpose, "purpose_of_use must be a v3-ActReason code: TREAT, COC, ETREAT, BTG, PATRQT, HPAYMT, HOPERAT, PUBHLTH or HRESCH")
		}
		return code, nil
	case c.ReasonForRequest != "":
		if !strings.EqualFold(strings.TrimSpace(c.ReasonForRequest), reasonDirectCare) {
			return "", tokenErr(ReasonBadPurpose, `reason_for_request must be "directcare"`)
		}
		return PurposeTreatment, nil
	}
	return "", tokenErr(ReasonMissingPurpose, "the token states no purpose of use: add a purpose_of_use claim (a v3-ActReason code such as TREAT)")
}

// breakGlassReason returns the stated reason when purpose is BTG or ETREAT,
// and "" otherwise.
func (c *claims) breakGlassReason(purpose string) (string, error) {
	if !isBreakGlass(purpose) {
		return "", nil
	}
	r := strings.TrimSpace(c.BreakGlassReason)
	if r == "" {
		return "", tokenErr(ReasonBreakGlassReason, "emergency access (BTG or ETREAT) needs a break_glass_reason claim stating why")
	}
	if !cleanText(r, maxBreakGlassReason, true) {
		return "", tokenErr(ReasonBreakGlassReason, "break_glass_reason must be plain text of at most 1000 characters")
	}
	return r, nil
}

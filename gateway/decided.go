package gateway

import (
	"strings"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/policy"
)

// decidedInputs gathers, for the audit record, what each decision about a
// record saw, so that an impact preview replays it exactly (see
// audit.Decided). Alike inputs share one entry.
type decidedInputs struct {
	list    []audit.Decided
	at      map[string]int
	omitted int
}

// noteInput adds one decision's input. have says which patient facts were
// worked out; the others are recorded as unknown.
func (t *trail) noteInput(action, typ string, attrs *policy.ResourceAttributes, c *policy.Context, have policy.Facts, allowed bool) {
	if action != policy.ActionRead && action != policy.ActionSearch && action != policy.ActionHistory {
		return // writes and operations are decided in full, not replayed
	}
	d := audit.Decided{Action: action, Type: typ, Patient: attrs.Patient, Categories: attrs.Categories,
		Labels: attrs.Labels, AuthorOrgs: attrs.AuthorOrgs, Facts: factString(c, have), Allowed: allowed, Count: 1}
	key := strings.Join([]string{d.Action, d.Type, d.Patient, strings.Join(d.Categories, ","), strings.Join(d.Labels, ","),
		strings.Join(d.AuthorOrgs, ","), d.Facts, boolString(allowed)}, "\x1f")
	in := &t.decided
	if i, ok := in.at[key]; ok {
		in.list[i].Count++
		return
	}
	if len(in.list) >= audit.MaxDecided {
		in.omitted++
		return
	}
	if in.at == nil {
		in.at = map[string]int{}
	}
	in.at[key] = len(in.list)
	in.list = append(in.list, d)
}

// factString encodes the facts in audit.Decided's form.
func factString(c *policy.Context, have policy.Facts) string {
	b := make([]byte, 0, 5)
	for _, f := range []struct{ known, v bool }{
		{have.Related, c.Related}, {have.Objected, c.Objected}, {have.Self, c.Self},
		{have.KnownToCouncil, c.KnownToCouncil}, {have.ProviderNamed, c.ProviderNamed},
	} {
		switch {
		case !f.known:
			b = append(b, '?')
		case f.v:
			b = append(b, '1')
		default:
			b = append(b, '0')
		}
	}
	return string(b)
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

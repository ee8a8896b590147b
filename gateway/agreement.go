package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/policy"
)

// agreementView is the agreement of the active version, with what the
// gateway's own settings add (how long the audit trail is kept).
type agreementView struct {
	*policy.Agreement
	AuditRetention string `json:"audit_retention"`
}

func (s *Server) agreementOf(e *policy.Engine) (agreementView, error) {
	a, err := e.Agreement()
	if err != nil {
		return agreementView{}, err
	}
	return agreementView{Agreement: a, AuditRetention: retentionWords(s.cfg.AuditRetention)}, nil
}

// retentionWords says how long audit records are kept.
func retentionWords(d time.Duration) string {
	const year = 365 * 24 * time.Hour
	switch {
	case d <= 0:
		return "kept without a time limit (no purge is configured)"
	case d%year == 0:
		return fmt.Sprintf("kept for %d years, then deleted (a checkpoint keeps the chain verifiable)", d/year)
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("kept for %d days, then deleted (a checkpoint keeps the chain verifiable)", d/(24*time.Hour))
	}
	return "kept for " + d.String() + ", then deleted"
}

// policyAgreement serves the data sharing agreement of the version this
// request pinned, in plain words, to those who manage the policy
// (POLICY-10-manage).
func (s *Server) policyAgreement(c *gin.Context) error {
	a := accessOf(c)
	if err := a.decideWholeOperation(c.Request.Context(), opPolicyManage); err != nil {
		return err
	}
	v, err := s.agreementOf(a.engine)
	if err != nil {
		return err
	}
	return writePage(c, wantsHTML(c), "agreement.html", v)
}

// rightsPage is the people's rights page: public (no token, like
// /metadata), generated from the active policy version, so it changes
// the moment a version that changes who sees what is activated. It shows
// only the agreement (who takes part, who sees which kind of record, why)
// and how to use one's rights: no patient data, no audit records.
// _format=json gives the same as JSON.
func (s *Server) rightsPage(c *gin.Context) error {
	if s.cfg.Policy == nil {
		return fhir.Errorf(http.StatusServiceUnavailable, "transient", "this gateway has no access policy loaded, so it cannot say what it shares")
	}
	v, err := s.agreementOf(s.cfg.Policy.Current())
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store") // it follows the live policy
	return writePage(c, c.Query("_format") != "json", "rights.html", publicPart(v, s.base(c)))
}

// rightsView is what the rights page shows: the agreement's public part.
type rightsView struct {
	Name                   string                    `json:"name"`
	Revision               string                    `json:"revision"`
	Organisations          []policy.AgreementOrg     `json:"organisations"`
	Kinds                  []policy.AgreementKind    `json:"kinds"`
	Categories             []policy.CategoryAccess   `json:"categories"`
	Purposes               []policy.AgreementPurpose `json:"purposes"`
	BreakGlass             policy.BreakGlass         `json:"break_glass"`
	Objection              policy.Objection          `json:"objection"`
	RelationshipWindowDays int                       `json:"relationship_window_days"`
	AuditRetention         string                    `json:"audit_retention"`
	// ThirdParty are the active policy's rules for sharing with a named
	// third party (SHARE-13-*, share.rego), in its own words.
	ThirdParty []policy.Rule `json:"third_party"`
	Base       string        `json:"-"`
}

// publicPart keeps what the public page shows: the organisations and
// kinds that share, who sees which categories, the purposes, emergency
// access and objection.
func publicPart(v agreementView, base string) rightsView {
	r := rightsView{Name: v.Name, Revision: v.Revision, Categories: v.Categories, BreakGlass: v.BreakGlass, Objection: v.Objection,
		RelationshipWindowDays: v.RelationshipWindowDays, AuditRetention: v.AuditRetention, Base: base,
		Organisations: []policy.AgreementOrg{}, Kinds: []policy.AgreementKind{}, Purposes: []policy.AgreementPurpose{}, ThirdParty: []policy.Rule{}}
	for _, rule := range v.Rules {
		if strings.HasPrefix(rule.ID, "SHARE-13-") {
			r.ThirdParty = append(r.ThirdParty, rule)
		}
	}
	for _, o := range v.Organisations {
		if o.Shares {
			r.Organisations = append(r.Organisations, o)
		}
	}
	for _, k := range v.Kinds {
		if k.Shares {
			r.Kinds = append(r.Kinds, k)
		}
	}
	for _, p := range v.Purposes {
		if p.Purpose == "direct_care" || p.Purpose == "self_access" {
			r.Purposes = append(r.Purposes, p)
		}
	}
	return r
}

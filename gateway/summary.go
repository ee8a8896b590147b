package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/summary"
	"github.com/socialcare-fhir/gateway/policy"
)

// IPSSummaryOperation is the canonical OperationDefinition of $summary
// (HL7 IPS).
const IPSSummaryOperation = "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"

// Codes the summary's searches select by (the translator's, see
// docs/social-care-mapping.md).
const (
	observationCodes = "https://socialcare-fhir.example.org/CodeSystem/observation-code"
	snomedSystem     = "http://snomed.info/sct"
)

// summaryParams are the $summary operation's parameters.
type summaryParams struct {
	identifier string // NHS number, type-level form only
	recentDays int
}

// patientSummary answers GET /Patient/{id}/$summary and
// GET /Patient/$summary?identifier=https://fhir.nhs.uk/Id/nhs-number|<n>:
// the person's social care summary as a FHIR document Bundle (or a
// readable page with _format=html or Accept: text/html), generated on
// request and not stored. Every resource in it is decided by the policy as
// a read of it would be, with the same redactions; the request is one
// audited interaction naming every resource it returned.
func (s *Server) patientSummary(c *gin.Context) error {
	ctx := c.Request.Context()
	typeLevel := routeOf(c).ID == ""
	p, err := parseSummaryParams(c, typeLevel)
	if err != nil {
		return err
	}
	a := accessOf(c)
	patient, err := s.summaryPatient(ctx, c, a, p)
	if err != nil {
		return err
	}
	now := s.cfg.Clock().UTC()
	resources, err := s.gatherSummary(ctx, a, patient, now, p.recentDays)
	if err != nil {
		return err
	}
	in := summary.Input{Patient: resourceOf(patient), Now: now, RecentDays: p.recentDays, Base: s.base(c)}
	for _, v := range resources {
		in.Resources = append(in.Resources, resourceOf(v))
	}
	doc, err := summary.Build(in)
	if err != nil {
		return err
	}
	if wantsHTML(c) {
		var b bytes.Buffer
		if err := doc.WriteHTML(&b); err != nil {
			return err
		}
		c.Data(http.StatusOK, "text/html; charset=utf-8", b.Bytes())
		return nil
	}
	writeJSON(c, http.StatusOK, doc.Bundle)
	return nil
}

func resourceOf(v *store.Version) summary.Resource {
	return summary.Resource{Type: v.Type, ID: v.ID, JSON: v.JSON}
}

// wantsHTML reports whether the client asked for a readable page.
func wantsHTML(c *gin.Context) bool {
	if f, ok := c.GetQuery("_format"); ok {
		f = strings.TrimSpace(f)
		return f == "html" || f == "text/html"
	}
	return strings.Contains(c.GetHeader("Accept"), "text/html")
}

// parseSummaryParams reads the operation's parameters, reporting every
// problem at once.
func parseSummaryParams(c *gin.Context, typeLevel bool) (summaryParams, error) {
	p := summaryParams{recentDays: summary.DefaultRecentDays}
	var issues []fhir.Issue
	bad := func(code, param, msg string) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: code, Diagnostics: msg, Expression: []string{param}})
	}
	q, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return p, fhir.Errorf(http.StatusBadRequest, "invalid", "the query string is not well formed: %s", queryError(err))
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch k {
		case "identifier":
			if !typeLevel {
				bad("invalid", k, "identifier selects the person in Patient/$summary; Patient/{id}/$summary already names them")
				continue
			}
			p.identifier = v
		case "recentDays":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > summary.MaxRecentDays {
				bad("invalid", k, "recentDays is the number of days of recent visits and medication to include: a whole number from 1 to "+strconv.Itoa(summary.MaxRecentDays))
				continue
			}
			p.recentDays = n
		case "profile", "graph":
			bad("not-supported", k, k+" is not supported: the gateway returns its social care summary document (see /metadata)")
		case "_format", "_pretty":
		default:
			bad("not-supported", k, "$summary takes identifier (Patient/$summary only), recentDays and _format")
		}
	}
	if typeLevel && p.identifier == "" && len(issues) == 0 {
		bad("required", "identifier", "Patient/$summary needs identifier=https://fhir.nhs.uk/Id/nhs-number|<NHS number>, or use Patient/{id}/$summary")
	}
	if len(issues) > 0 {
		return p, &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
	}
	return p, nil
}

// summaryPatient finds the person and decides the caller's read of their
// Patient: by id, a refusal is the read's 403; by NHS number, the search
// runs under the policy, so a person the caller may not see is not found,
// exactly as one unknown (the answer reveals nothing about who has a
// social care record).
func (s *Server) summaryPatient(ctx context.Context, c *gin.Context, a *access, p summaryParams) (*store.Version, error) {
	if p.identifier == "" {
		id, err := pathID(c)
		if err != nil {
			return nil, err
		}
		v, err := s.store.Read(ctx, "Patient", id)
		if err != nil {
			return nil, err
		}
		body, _, err := a.decide(ctx, policy.ActionRead, v)
		if err != nil {
			return nil, err
		}
		cp := *v
		cp.JSON = body
		return &cp, nil
	}
	system, number, ok := strings.Cut(p.identifier, "|")
	if !ok || system != nhsNumberSystem {
		return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", "identifier must be an NHS number: identifier=%s|<10 digits>", nhsNumberSystem).At("identifier")
	}
	if !fhir.ValidNHSNumber(number) {
		return nil, fhir.Errorf(http.StatusBadRequest, "invalid", "the identifier is not a valid NHS number (10 digits passing the Modulus 11 check)").At("identifier")
	}
	found, err := s.searchDecided(ctx, a, "Patient", url.Values{"identifier": {nhsNumberSystem + "|" + number}})
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "no person with this NHS number has a social care record you may see")
	case 1:
		return found[0], nil
	}
	return nil, fhir.Errorf(http.StatusConflict, "multiple-matches", "more than one person has this NHS number; ask for Patient/{id}/$summary with the record's id")
}

// gatherSummary reads what the summary is built from: the person's
// resources of each kind (searches under the policy, each resource then
// decided and redacted as a read is), the time-bound ones within their
// windows, then the directory resources they reference. Every resource it
// returns goes into the document.
func (s *Server) gatherSummary(ctx context.Context, a *access, patient *store.Version, now time.Time, recentDays int) ([]*store.Version, error) {
	since := "ge" + now.AddDate(0, 0, -recentDays).Format(time.RFC3339)
	incidentsSince := "ge" + now.AddDate(0, -summary.IncidentMonths, 0).Format(time.RFC3339)
	obsCodes := func(codes ...string) string {
		for i, c := range codes {
			codes[i] = observationCodes + "|" + c
		}
		return strings.Join(codes, ",")
	}
	queries := []struct {
		typ    string
		params url.Values
	}{
		{"EpisodeOfCare", url.Values{}},
		{"Flag", url.Values{}},
		{"ServiceRequest", url.Values{}},
		{"CarePlan", url.Values{}},
		{"Goal", url.Values{}},
		{"RelatedPerson", url.Values{}},
		{"Observation", url.Values{"code": {obsCodes("primary-support-reason", "assessed-need",
			"change-in-circumstances", "change-in-health", "change-in-physical-condition", "change-in-care-needs")}}},
		{"Encounter", url.Values{"type": {snomedSystem + "|439708006"}, "date": {since}}},
		{"Observation", url.Values{"code": {obsCodes("care-note", "significant-occurrence")}, "date": {since}}},
		{"MedicationAdministration", url.Values{"effective-time": {since}}},
		{"AdverseEvent", url.Values{"date": {incidentsSince}}},
		{"DocumentReference", url.Values{"type": {RightsSystem + "|" + codeStatement}}},
	}
	var out []*store.Version
	for _, q := range queries {
		q.params.Set("patient", "Patient/"+patient.ID)
		vs, err := s.searchDecided(ctx, a, q.typ, q.params)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	dir, err := s.directoryOf(ctx, a, append([]*store.Version{patient}, out...))
	if err != nil {
		return nil, err
	}
	return append(out, dir...), nil
}

// searchDecided runs a search the gateway writes itself as the caller:
// restricted by the policy in the database, then every match decided and
// redacted as a read of it is, every page followed.
func (s *Server) searchDecided(ctx context.Context, a *access, typ string, params url.Values) ([]*store.Version, error) {
	return s.searchDecidedNoting(ctx, a, typ, params, true)
}

// searchDecidedNoting is searchDecided; with note false what it returns
// is not named in the request's audit record (a caller that reads much to
// report little names only what it reports).
func (s *Server) searchDecidedNoting(ctx context.Context, a *access, typ string, params url.Values, note bool) ([]*store.Version, error) {
	params.Set("_count", strconv.Itoa(s.cfg.MaxCount))
	var out []*store.Version
	for {
		q, err := search.Parse(typ, params, search.Options{DefaultCount: s.cfg.MaxCount, MaxCount: s.cfg.MaxCount})
		if err != nil {
			return nil, errors.Join(errors.New("gateway: internal summary query"), err)
		}
		page, err := s.store.Search(ctx, q, a.restrict(policy.ActionRead, q))
		if err != nil {
			return nil, err
		}
		kept, err := a.decideVersions(ctx, policy.ActionRead, page.Matches, note)
		if err != nil {
			return nil, err
		}
		out = append(out, kept...)
		if page.Next == "" {
			return out, nil
		}
		params.Set("_cursor", page.Next)
	}
}

// directoryRef finds references to the directory resources a summary
// names (who provides a service, who wrote a plan).
var directoryRef = regexp.MustCompile(`"reference":"((?:Organization|PractitionerRole|Practitioner)/[A-Za-z0-9\-.]{1,64})"`)

// directoryOf reads the Organizations, PractitionerRoles and
// Practitioners that vs reference (two rounds: a role names its
// practitioner and organisation), each decided by the policy as a read;
// those the caller may not see are left out.
func (s *Server) directoryOf(ctx context.Context, a *access, vs []*store.Version) ([]*store.Version, error) {
	seen := map[string]bool{}
	var out []*store.Version
	from := vs
	for range 2 {
		var wanted []string
		for _, v := range from {
			for _, m := range directoryRef.FindAllSubmatch(v.JSON, -1) {
				if r := string(m[1]); !seen[r] {
					seen[r] = true
					wanted = append(wanted, r)
				}
			}
		}
		slices.Sort(wanted)
		var read []*store.Version
		for _, r := range wanted {
			typ, id, _ := strings.Cut(r, "/")
			v, err := s.store.Read(ctx, typ, id)
			if errors.Is(err, fhir.ErrNotFound) || errors.Is(err, fhir.ErrGone) {
				continue
			}
			if err != nil {
				return nil, err
			}
			read = append(read, v)
		}
		kept, err := a.decidePage(ctx, policy.ActionRead, read)
		if err != nil {
			return nil, err
		}
		out = append(out, kept...)
		from = kept
	}
	return out, nil
}

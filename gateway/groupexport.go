package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/export"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/policy"
)

// A group-level export (Group/{id}/$export) is a patient-level export of
// a cohort: the Group is read as a GET of it would be (404 when there is
// none, 403 when the policy does not let the caller read it), and its
// current members, fixed at the kick-off, become the job's patients, so
// that every type is searched in their compartments only, with the
// caller's restriction and a decision per resource as in any export. A
// member the caller may not see is searched but nothing of theirs is
// exported; nobody outside the group ever is.

// groupCohort reads the export's Group and sets the job's cohort: its
// current members, or those of the patient parameters (each of which must
// be one), and with _since those who joined after it.
func (s *Server) groupCohort(c *gin.Context, job *export.Job) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	obj, err := s.readGroup(ctx, c, id)
	if err != nil {
		return err
	}
	var since time.Time
	if job.Since != "" {
		since, _ = time.Parse(time.RFC3339Nano, job.Since) // checked by exportJob
	}
	members, joined := groupMembers(obj, s.base(c), s.now(), since)
	if len(job.Patients) > 0 {
		var issues []fhir.Issue
		for _, p := range job.Patients {
			if !slices.Contains(members, p) {
				issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Expression: []string{"patient"},
					Diagnostics: "patient: " + p + " is not a current member of Group/" + id + " (inactive and ended members are not exported)"})
			}
		}
		if len(issues) > 0 {
			return &fhir.Error{Status: http.StatusBadRequest, Issues: issues}
		}
		members = job.Patients
	}
	job.Group = "Group/" + id
	job.Patients = members
	job.Joined = slices.DeleteFunc(joined, func(p string) bool { return !slices.Contains(members, p) })
	return nil
}

// readGroup is the Group id as the caller may read it (decoded), or the
// answer a read of it would give instead.
func (s *Server) readGroup(ctx context.Context, c *gin.Context, id string) (map[string]any, error) {
	v, err := s.store.Read(ctx, "Group", id)
	switch {
	case errors.Is(err, fhir.ErrNotFound):
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "there is no Group %q to export (search /Group for the cohorts you may read)", id)
	case err != nil:
		return nil, goneWithHeaders(c, v, err)
	}
	body, _, err := accessOf(c).decide(ctx, policy.ActionRead, v)
	if err != nil {
		return nil, err
	}
	obj, err := fhir.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// groupMembers are the Patients a Group has as members at now (member
// entity "Patient/<id>", or that under base): not inactive, their period
// begun and not ended. Joined are those of them whose period began after
// since (none when since is zero); a member without a start is taken to
// have been one all along. Members of other types are not patients and
// are left out.
func groupMembers(group map[string]any, base string, now, since time.Time) (members, joined []string) {
	list, _ := group["member"].([]any)
	for _, m := range list {
		member, _ := m.(map[string]any)
		if inactive, _ := member["inactive"].(bool); inactive {
			continue
		}
		entity, _ := member["entity"].(map[string]any)
		ref, _ := entity["reference"].(string)
		ref = strings.TrimPrefix(ref, base+"/")
		pid, ok := strings.CutPrefix(ref, "Patient/")
		if !ok || !fhir.ValidID(pid) {
			continue
		}
		period, _ := member["period"].(map[string]any)
		start, _ := period["start"].(string)
		end, _ := period["end"].(string)
		var began time.Time
		if start != "" {
			lo, _, ok := search.DateRange(start)
			if !ok || lo.After(now) {
				continue // not a member yet (or a start the validator would refuse)
			}
			began = lo
		}
		if end != "" {
			if _, hi, ok := search.DateRange(end); !ok || !hi.After(now) {
				continue // the membership has ended
			}
		}
		members = appendNew(members, ref)
		if !since.IsZero() && began.After(since) {
			joined = appendNew(joined, ref)
		}
	}
	return members, joined
}

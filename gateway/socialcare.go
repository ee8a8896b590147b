package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/ingest"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
	"github.com/socialcare-fhir/gateway/policy"
)

// Social care ingest, for council and care provider systems:
//
//	POST /social-care/records                one record (application/json) → 201/200 summary, 422 problems
//	POST /social-care/$import                NDJSON (application/x-ndjson) or CLD CSV (text/csv) → 202 job
//	GET  /social-care/$import-status/{job}   202 + X-Progress while running, 200 report when done
//	GET  /social-care/schema[/1.0]           the record format's JSON Schema
//
// Answers other than errors are plain JSON (application/json), not FHIR:
// the senders are social care systems, and a summary listing each stored
// resource with its outcome is easier for them than a batch-response
// Bundle. Errors are OperationOutcomes, as everywhere.
const (
	socialCareRecords = "/social-care/records"
	socialCareImport  = "/social-care/$import"
	socialCareStatus  = "/social-care/$import-status/"
)

// importUploadTimeout bounds the upload of a bulk import (the import itself
// runs in the background, unbounded).
const importUploadTimeout = 15 * time.Minute

var validJobID = regexp.MustCompile(`^[0-9a-f-]{36}$`)

func (s *Server) socialCareRoutes(e *gin.Engine, api []gin.HandlerFunc) {
	schema := []gin.HandlerFunc{withTimeout(s.cfg.RequestTimeout), s.socialCareSchema}
	e.GET("/social-care/schema", schema...)
	e.GET("/social-care/schema/1.0", schema...)
	e.POST(socialCareRecords, slices.Concat([]gin.HandlerFunc{s.auditResponses}, api, []gin.HandlerFunc{s.authenticate, endpoint(s.postSocialCareRecord)})...)
	e.GET(socialCareStatus+":job", slices.Concat([]gin.HandlerFunc{s.auditResponses}, api, []gin.HandlerFunc{s.authenticate, endpoint(s.socialCareImportStatus)})...)
	// The import has its own, larger body limit: not the API group's.
	e.POST(socialCareImport, s.auditResponses, withTimeout(importUploadTimeout), limitBody(s.cfg.MaxImportBytes), negotiate(), s.authenticate, endpoint(s.mayBulkImport), endpoint(s.postSocialCareImport))
}

func (s *Server) socialCareSchema(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "application/schema+json", socialcare.Schema())
}

// ingester is the configured Ingester, or a 501 when there is none.
func (s *Server) ingester() (*ingest.Ingester, error) {
	if s.cfg.Ingester == nil {
		return nil, fhir.Errorf(http.StatusNotImplemented, "not-supported", "social care ingest is not enabled on this gateway")
	}
	return s.cfg.Ingester, nil
}

func (s *Server) postSocialCareRecord(c *gin.Context) error {
	ing, err := s.ingester()
	if err != nil {
		return err
	}
	if mediaType(c) != "application/json" {
		return fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported", "send one social care record with Content-Type: application/json (see %s/social-care/schema)", s.base(c))
	}
	if err := accessOf(c).mayWriteAtAll(c.Request.Context(), recordType); err != nil {
		return err
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return bodyError(fmt.Errorf("%w: %w", errReadBody, err))
	}
	rec, err := socialcare.Decode(body, time.Now())
	if err != nil {
		return err
	}
	if err := accessOf(c).mayIngest(c.Request.Context(), rec); err != nil {
		return err
	}
	res, err := ing.Decoded(c.Request.Context(), rec)
	if err != nil {
		return err
	}
	t := trailOf(c)
	t.patients = appendNew(t.patients, res.Patient)
	for _, r := range res.Resources {
		t.resources = appendNew(t.resources, r.ResourceType+"/"+r.ID)
	}
	status := http.StatusOK
	if res.Outcome == ingest.Created {
		status = http.StatusCreated
		c.Header("Location", s.base(c)+"/"+res.Patient)
	}
	writePlainJSON(c, status, res)
	return nil
}

func (s *Server) postSocialCareImport(c *gin.Context) error {
	ing, err := s.ingester()
	if err != nil {
		return err
	}
	var format string
	switch mediaType(c) {
	case "application/x-ndjson", "application/ndjson":
		format = ingest.FormatNDJSON
	case "text/csv":
		format = ingest.FormatCLD
	default:
		return fhir.Errorf(http.StatusUnsupportedMediaType, "not-supported",
			"send records as NDJSON (Content-Type: application/x-ndjson) or Client Level Data CSV (Content-Type: text/csv)")
	}
	// Every record must come from the caller's organisation, as a single
	// record must (mayIngest); the others are rejected, line by line.
	job, err := ing.SubmitFrom(c.Request.Context(), accessOf(c).id.Org, format, c.Request.Body)
	if err != nil {
		return bodyError(err)
	}
	c.Header("Content-Location", s.base(c)+socialCareStatus+job.ID)
	writePlainJSON(c, http.StatusAccepted, jobStatus(job))
	return nil
}

func (s *Server) socialCareImportStatus(c *gin.Context) error {
	ing, err := s.ingester()
	if err != nil {
		return err
	}
	id := c.Param("job")
	if !validJobID.MatchString(id) {
		return fhir.Errorf(http.StatusNotFound, "not-found", "there is no import job %q", id)
	}
	job, err := ing.Job(c.Request.Context(), id)
	if err != nil {
		return err
	}
	// Only the organisation that sent the import may follow it: to
	// anyone else the job does not exist.
	if job.Org != "" && job.Org != accessOf(c).id.Org {
		return fhir.Errorf(http.StatusNotFound, "not-found", "there is no import job %q", id)
	}
	switch job.State {
	case ingest.JobRunning:
		c.Header("X-Progress", fmt.Sprintf("%d records processed, %d rejected", job.Done, job.Rejected))
		c.Header("Retry-After", "2")
		writePlainJSON(c, http.StatusAccepted, jobStatus(job))
	case ingest.JobDone:
		writePlainJSON(c, http.StatusOK, jobStatus(job))
	default:
		// The job stopped early: the Bulk Data pattern's error answer, an
		// OperationOutcome saying what happened and what to do.
		return &fhir.Error{Status: http.StatusInternalServerError, Issues: job.Problems,
			Err: errors.New("import job " + job.ID + " stopped early")}
	}
	return nil
}

// importStatus is the JSON body of the import answers.
type importStatus struct {
	Job      string             `json:"job"`
	Format   string             `json:"format"`
	State    string             `json:"state"`
	Started  time.Time          `json:"started"`
	Finished *time.Time         `json:"finished,omitempty"`
	Done     int                `json:"done"`
	Rejected int                `json:"rejected"`
	Report   *ingest.BulkReport `json:"report,omitempty"`
}

func jobStatus(j *ingest.Job) importStatus {
	st := importStatus{Job: j.ID, Format: j.Format, State: j.State, Started: j.Started, Done: j.Done, Rejected: j.Rejected, Report: j.Report}
	if !j.Finished.IsZero() {
		st.Finished = &j.Finished
	}
	return st
}

func mediaType(c *gin.Context) string {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

var errReadBody = errors.New("read request body")

// bodyError maps a failure to read the request body: 413 past the limit,
// 400 for other read failures; other errors pass through.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	if !errors.Is(err, ingest.ErrUpload) && !errors.Is(err, errReadBody) {
		return err
	}
	return fhir.Errorf(http.StatusBadRequest, "structure", "the request body could not be read")
}

func writePlainJSON(c *gin.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		_ = c.Error(fmt.Errorf("encode answer: %w", err))
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}

// recordType is the resource type a social care record as a whole is
// decided as (input.resource.type): it becomes many resources, and those
// of its parts that establish care relationships are decided as the FHIR
// types they become (relationshipParts).
const recordType = "SocialCareRecord"

// mayIngest decides whether the caller may send this record: it must come
// from the caller's own organisation, and the policy's write rules must
// allow the record under the organisations it names as authors
// (WRITE-7-source) and each part of it that establishes a care relationship
// (WRITE-7-relationship). For a care provider, provider_named comes from
// the care packages held for the person (WRITE-7-provider-named), never
// from the record's own.
func (a *access) mayIngest(ctx context.Context, rec *socialcare.Record) error {
	if rec.Source.Organisation != a.id.Org {
		return fhir.Errorf(http.StatusForbidden, "forbidden",
			"the record's source.organisation is not the organisation your token acts for; send records only for your own organisation").At("source.organisation")
	}
	pc, held, err := a.personContext(ctx, rec.Person.NHSNumber)
	if err != nil {
		return err
	}
	if err := a.decideWrite(ctx, recordType, rec.Organisations(), pc); err != nil {
		return err
	}
	for _, part := range relationshipParts(rec) {
		if err := a.decideWrite(ctx, part.typ, []string{a.id.Org}, pc); err != nil {
			return withPath(err, part.path, part.typ)
		}
	}
	if held != "" && !a.writesAny(ctx) {
		// A commissioned provider's record joins the Patient the council
		// holds (whose package names the provider): its visits and notes
		// are that person's, seen by those who see the person.
		rec.Subject = held
	}
	return nil
}

// writesAny reports whether the caller's organisation writes records for
// anyone (the council), as against only for the people a package names.
func (a *access) writesAny(ctx context.Context) bool {
	return !a.needs(ctx, policy.ActionWrite).ProviderNamed
}

// personContext is the policy context of a record about the person with
// this NHS number: whether the caller's organisation is named by a care
// package held for them (a referral fact of any stored Patient with that
// number), when the policy needs to know, and that Patient ("Patient/<id>",
// the first by id when several are). A person not yet known, or sent
// without an NHS number, is named by none.
func (a *access) personContext(ctx context.Context, nhsNumber string) (policy.Context, string, error) {
	if !a.needs(ctx, policy.ActionWrite).ProviderNamed || nhsNumber == "" {
		return policy.Context{}, "", nil
	}
	held, err := a.patients(ctx, &patientFacts{}, "Patient", url.Values{"identifier": {nhsNumberSystem + "|" + nhsNumber}})
	if err != nil || len(held) == 0 {
		return policy.Context{}, "", err
	}
	f, err := a.loadAmong(ctx, policy.Facts{ProviderNamed: true}, slices.Collect(maps.Keys(held)))
	if err != nil {
		return policy.Context{}, "", err
	}
	for _, p := range slices.Sorted(maps.Keys(held)) {
		if f.providerNamed[p] {
			return policy.Context{ProviderNamed: true}, p, nil
		}
	}
	return policy.Context{}, "", nil
}

// recordPart is a part of a record that establishes a care relationship:
// where it is in the record and the FHIR type it becomes.
type recordPart struct{ path, typ string }

// relationshipParts are the parts of rec that the translator turns into
// resources establishing care relationships for organisations other than
// the authors: the episode (EpisodeOfCare), care package lines
// (ServiceRequest performers), sharing decisions (Consent, objections) and
// the person's GP practice (Patient.generalPractitioner). The rest
// (Patient, Organization, visit and assessment Encounters) names only the
// record's author organisations, which WRITE-7-source judges.
func relationshipParts(rec *socialcare.Record) []recordPart {
	var out []recordPart
	if rec.Person.GPPractice != "" {
		out = append(out, recordPart{"person.gpPractice", "Patient"})
	}
	if rec.Episode != nil {
		out = append(out, recordPart{"episode", "EpisodeOfCare"})
	}
	if len(rec.CarePackage) > 0 {
		out = append(out, recordPart{"carePackage", "ServiceRequest"})
	}
	if len(rec.SharingDecisions) > 0 {
		out = append(out, recordPart{"sharingDecisions", "Consent"})
	}
	return out
}

// withPath adds to a refusal the part of the record it is about.
func withPath(err error, path, typ string) error {
	var fe *fhir.Error
	if !errors.As(err, &fe) || len(fe.Issues) == 0 {
		return err
	}
	fe.Issues[0].Diagnostics = fmt.Sprintf("%s (it would become a %s; only the council records it): %s", path, typ, fe.Issues[0].Diagnostics)
	fe.Issues[0].Expression = []string{path}
	return fe
}

// decideWrite asks the policy whether the caller may write a resource of
// type typ (recordType: a whole record) attributed to authors.
func (a *access) decideWrite(ctx context.Context, typ string, authors []string, pc policy.Context) error {
	attrs := policy.ResourceAttributes{AuthorOrgs: authors}
	d, err := a.engine.Decide(ctx, policy.Input{Action: policy.ActionWrite, Subject: a.subject(),
		Resource: policy.Resource{Type: typ, ResourceAttributes: attrs}, Context: pc})
	if err != nil {
		return fmt.Errorf("policy decision: %w", err)
	}
	a.trail.noteDecision(typ, "", attrs, d)
	if !d.Allow {
		return refused(d)
	}
	return nil
}

// mayBulkImport lets only organisations that may submit records for anyone
// (the council's adult social care) start a bulk import; care providers
// send their records one at a time, each checked against the care packages
// held for the person.
func (s *Server) mayBulkImport(c *gin.Context) error {
	a := accessOf(c)
	return a.decideWrite(c.Request.Context(), recordType, []string{a.id.Org}, policy.Context{})
}

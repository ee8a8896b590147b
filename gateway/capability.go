package gateway

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
)

// bulkDataOps is the base of the Bulk Data Access OperationDefinitions.
const bulkDataOps = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"

// capabilities answers GET /metadata with a CapabilityStatement built from
// the same tables the handlers use, so it cannot claim what is not served.
func (s *Server) capabilities(c *gin.Context) {
	type code struct {
		Code string `json:"code"`
	}
	type param struct {
		Name          string `json:"name"`
		Type          string `json:"type"`
		Documentation string `json:"documentation,omitempty"`
	}
	type op struct {
		Name          string `json:"name"`
		Definition    string `json:"definition"`
		Documentation string `json:"documentation,omitempty"`
	}
	const opBase = "https://socialcare-fhir.example.org/OperationDefinition/"
	type resource struct {
		Type              string   `json:"type"`
		Interaction       []code   `json:"interaction"`
		Versioning        string   `json:"versioning"`
		ReadHistory       bool     `json:"readHistory"`
		UpdateCreate      bool     `json:"updateCreate"`
		ConditionalCreate bool     `json:"conditionalCreate"`
		ConditionalRead   string   `json:"conditionalRead"`
		ConditionalUpdate bool     `json:"conditionalUpdate"`
		ConditionalDelete string   `json:"conditionalDelete"`
		SearchInclude     []string `json:"searchInclude,omitempty"`
		SearchRevInclude  []string `json:"searchRevInclude,omitempty"`
		SearchParam       []param  `json:"searchParam"`
		Operation         []op     `json:"operation,omitempty"`
	}
	interactions := []code{{"read"}, {"vread"}, {"update"}, {"delete"}, {"history-instance"}, {"history-type"}, {"create"}, {"search-type"}}
	// Which types reference which, for _revinclude.
	revs := map[string][]string{}
	for _, t := range fhir.ResourceTypes {
		for _, p := range search.Params(t) {
			if p.Type != "reference" {
				continue
			}
			for _, target := range p.Targets {
				revs[target] = append(revs[target], t+":"+p.Name)
			}
		}
	}
	var resources []resource
	for _, t := range fhir.ResourceTypes {
		if t == "AuditEvent" {
			// Served from the append-only audit trail, not the record store.
			resources = append(resources, resource{Type: t, Interaction: []code{{"read"}, {"search-type"}},
				Versioning: "no-version", ConditionalRead: "not-supported", ConditionalDelete: "not-supported",
				SearchParam: []param{
					{Name: "patient", Type: "reference", Documentation: "the patient concerned"},
					{Name: "agent", Type: "string", Documentation: "the user or client id"},
					{Name: "agent-org", Type: "token", Documentation: "the user's organisation (ODS code)"},
					{Name: "purpose", Type: "token", Documentation: "purpose of use (v3-ActReason code)"},
					{Name: "date", Type: "date", Documentation: "ge and lt only"},
					{Name: "allowed", Type: "token", Documentation: "true or false: the policy decision"},
					{Name: "break-glass", Type: "token", Documentation: "true for emergency accesses"},
					{Name: "entity", Type: "reference", Documentation: "AuditEvent/<id>: the break-glass review of that audit record (verdict and note on its entity)"},
				},
				Operation: []op{
					{Name: "break-glass-pending", Definition: opBase + "break-glass-pending", Documentation: "GET /AuditEvent/$break-glass-pending: break-glass accesses awaiting IG review"},
					{Name: "break-glass-review", Definition: opBase + "break-glass-review", Documentation: "POST /AuditEvent/{id}/$review with Parameters justified and note; the review is an AuditEvent in the audit chain"},
					{Name: "explain", Definition: opBase + "explain", Documentation: "GET /AuditEvent/{id}/$explain[?revision=recorded|active]: the record's decisions explained again from the inputs it keeps (rules with their titles and descriptions, facts, redactions); _format=html for a readable page (AUDIT-8-ig-review)"},
				}})
			continue
		}
		r := resource{Type: t, Interaction: interactions, Versioning: "versioned-update", ReadHistory: true, UpdateCreate: true,
			ConditionalCreate: true, ConditionalRead: "not-supported", ConditionalDelete: "not-supported", SearchRevInclude: revs[t]}
		if t == "Patient" {
			r.Operation = []op{{Name: "who-accessed", Definition: opBase + "who-accessed",
				Documentation: "GET /Patient/{id}/$who-accessed: who has seen this person's record or tried to (the person, and council staff who know them: policy rules SELF-6-access-report, AUDIT-8-access-report); _format=html for a readable page"},
				{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything",
					Documentation: "GET /Patient/{id}/$everything: the Patient and the resources of its compartment the caller may read (AuditEvents excepted), Patient first then by type; _count, _since, _type, paging by the next link; start and end are not supported"},
				{Name: "summary", Definition: IPSSummaryOperation,
					Documentation: "GET /Patient/{id}/$summary or /Patient/$summary?identifier=https://fhir.nhs.uk/Id/nhs-number|<n>: the person's social care summary, a document Bundle shaped after the IPS (recentDays: days of recent visits and medication, default 14); _format=html for a readable page; profile and graph are not supported"},
				{Name: "subject-access", Definition: opBase + "subject-access",
					Documentation: "GET /Patient/{id}/$subject-access: the person's whole record as they may see it (policy rules SELF-6-subject-access, RIGHTS-10-requests), a collection Bundle with the access report, or a printable page with _format=html"}}
			if s.cfg.Exports != nil {
				r.Operation = append(r.Operation, op{Name: "export", Definition: bulkDataOps + "patient-export",
					Documentation: "GET or POST /Patient/$export (Prefer: respond-async): the Patients the caller may read and their compartments as NDJSON; _type, _since, _outputFormat, _typeFilter, patient (POST)"})
			}
		}
		if t == "Group" && s.cfg.Exports != nil {
			r.Operation = []op{{Name: "export", Definition: bulkDataOps + "group-export",
				Documentation: "GET or POST /Group/{id}/$export (Prefer: respond-async): the current members of a Group the caller may read (not inactive, period not ended) and their compartments as NDJSON, each resource decided as a read; _type, _since (members who joined after it are exported whole), _outputFormat, _typeFilter, patient (POST: members only); the Group itself is not exported"}}
		}
		if t == "Task" {
			// Rights requests move on by their operations only (rectification.go).
			r.Interaction = slices.DeleteFunc(slices.Clone(interactions), func(c code) bool { return c.Code == "update" || c.Code == "delete" })
			r.UpdateCreate, r.ConditionalCreate = false, false
			r.Operation = []op{
				{Name: "accept", Definition: opBase + "accept", Documentation: "POST /Task/{id}/$accept: correct the resource of a rectification request (Parameters resource or patch); an opinion is annotated instead (RIGHTS-10-requests)"},
				{Name: "decline", Definition: opBase + "decline", Documentation: "POST /Task/{id}/$decline with Parameters reason: refuse a correction; a supplementary statement is attached to the resource"},
				{Name: "recipients", Definition: opBase + "recipients", Documentation: "GET /Task/{id}/$recipients: the organisations the audit trail shows were sent the resource before it was corrected"},
				{Name: "overdue", Definition: opBase + "overdue", Documentation: "GET /Task/$overdue[?code=rectification|subject-access]: open rights requests past their one-month deadline"},
			}
		}
		for _, p := range search.Params(t) {
			r.SearchParam = append(r.SearchParam, param{Name: p.Name, Type: p.Type, Documentation: p.Documentation})
			if p.Type == "reference" {
				r.SearchInclude = append(r.SearchInclude, t+":"+p.Name)
			}
		}
		resources = append(resources, r)
	}
	rest := map[string]any{
		"mode":        "server",
		"resource":    resources,
		"interaction": []code{{"batch"}},
		"searchParam": []param{
			{Name: "_count", Type: "number", Documentation: "page size (default and cap are configured)"},
			{Name: "_sort", Type: "string", Documentation: "_id, _lastUpdated and date parameters; '-' for descending"},
			{Name: "_total", Type: "token", Documentation: "none (default) or accurate"},
			{Name: "_summary", Type: "token", Documentation: "count"},
			{Name: "_elements", Type: "string", Documentation: "top-level elements to return"},
			{Name: "_include", Type: "string"},
			{Name: "_revinclude", Type: "string"},
		},
	}
	if s.cfg.SMART != nil {
		rest["security"] = smartSecurity(s.cfg.SMART.TokenURL())
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         time.Now().UTC().Format("2006-01-02"),
		"kind":         "instance",
		"publisher":    "socialcare-fhir gateway",
		"software":     map[string]any{"name": "socialcare-fhir gateway", "version": s.cfg.Version},
		"implementation": map[string]any{
			"description": "FHIR R4 gateway for adult social care records shared with the NHS",
			"url":         s.base(c),
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json", "json"},
		"rest":        []any{rest},
	}
	ops := []op{{Name: "data-quality", Definition: opBase + "data-quality",
		Documentation: "GET /$data-quality (and /Patient/{id}/$data-quality): gaps and errors in the record, as JSON Parameters, CSV (_format=csv) or a page (_format=html) (QUALITY-9-data-quality)"},
		{Name: "data-quality-trend", Definition: opBase + "data-quality-trend",
			Documentation: "POST /$data-quality-snapshot: the report's counts over the whole record now, stored (a Task holding a MeasureReport; a daily job takes one too); GET /$data-quality-trend (_count, _format=json|csv|html): counts per check per snapshot with the change since the one before (QUALITY-9-data-quality)"},
		{Name: "case-file-sample", Definition: opBase + "case-file-sample",
			Documentation: "POST /$case-file-sample (Parameters: size, stratify-by team|service, seed, team, service, questionnaire): a reproducible stratified sample of case files to audit; GET /$case-file-sample/{id}, GET /$case-file-sample/{id}/$report (json, csv, html); GET|POST /$case-file-review/{task}: a case file with the checklist, and the reviewer's QuestionnaireResponse; GET /$case-file-checklist (CASEAUDIT-13-case-file-audit)"}}
	if s.cfg.Exports != nil {
		// Bulk Data Access: system, patient and group-level $export.
		cs["instantiates"] = []string{"http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"}
		ops = append(ops, op{Name: "export", Definition: bulkDataOps + "export",
			Documentation: "GET or POST /$export (Prefer: respond-async): every resource the caller may read, as NDJSON; status at the Content-Location URL, files kept for " + s.cfg.ExportExpiry.String()})
	}
	if s.cfg.Retention != nil {
		ops = append(ops,
			op{Name: "disposal-due", Definition: opBase + "disposal-due", Documentation: "GET /$disposal-due[?patient=]: records past their retention, for appraisal; nothing is destroyed automatically (RETAIN-12-appraisal)"},
			op{Name: "disposal", Definition: opBase + "disposal", Documentation: "POST /$disposal (dryRun to preview), POST /$disposal/{id}/$approve by a second records manager, GET /$disposal/{id}: the certificate of destruction (RETAIN-12-disposal)"},
			op{Name: "legal-hold", Definition: opBase + "legal-hold", Documentation: "POST /$legal-hold, POST /$legal-hold/{id}/$lift, POST /$retention-extend: holds and extensions, each with a reason (RETAIN-12-hold)"})
	}
	cs["rest"].([]any)[0].(map[string]any)["operation"] = ops
	writeJSON(c, http.StatusOK, cs)
}

// smartSecurity is rest.security for a gateway issuing SMART Backend
// Services tokens: the SMART-on-FHIR service and its token endpoint
// (SMART App Launch 1 oauth-uris extension, still read by clients).
func smartSecurity(tokenURL string) map[string]any {
	return map[string]any{
		"extension": []any{map[string]any{
			"url":       "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
			"extension": []any{map[string]any{"url": "token", "valueUri": tokenURL}},
		}},
		"service": []any{map[string]any{
			"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}},
			"text":   "SMART Backend Services (client_credentials, private_key_jwt); see /.well-known/smart-configuration",
		}},
		"description": "Every request needs a bearer token: NHS CIS2, council or trusted-issuer tokens, or a SMART Backend Services token from the token endpoint. SMART scopes (system/*.rs, system/<Type>.rs) limit a token to reading and searching those types; the data sharing policy decides the rest.",
	}
}

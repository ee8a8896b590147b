package audit

import (
	"encoding/base64"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Code systems used in AuditEvents. All but the last two are HL7, DICOM,
// IHE BALP and NHS England systems; the last two are this project's own.
const (
	sysAuditEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysRestful          = "http://hl7.org/fhir/restful-interaction"
	sysDCM              = "http://dicom.nema.org/resources/ontology/DCM"
	sysAuthZSubType     = "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType"
	sysBALPEntityType   = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
	sysParticipation    = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysRoleClass        = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	sysSecurityRoleType = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	sysActReason        = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	sysSourceType       = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysEntityType       = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole       = "http://terminology.hl7.org/CodeSystem/object-role"
	sysJobRole          = "https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName"
	sysODS              = "https://fhir.nhs.uk/Id/ods-organization-code"
	sysRecordCategory   = "https://socialcare-fhir.example.org/CodeSystem/record-category"
	sysAuditSubtype     = "https://socialcare-fhir.example.org/CodeSystem/audit-event-subtype"
)

func coding(system, code, display string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

func concept(system, code string) map[string]any {
	return map[string]any{"coding": []any{coding(system, code, "")}}
}

func detail(typ, value string) map[string]any {
	return map[string]any{"type": typ, "valueString": value}
}

// auditEvent renders a stored event record as a FHIR R4 AuditEvent shaped
// after IHE BALP: RESTful activity as audit-event-type#rest with a
// restful-interaction subtype, refused attempts as DCM#110113 Security Alert
// with a BALP authorization subtype.
func (l *Log) auditEvent(r *record) map[string]any {
	action := actions[r.Interaction]
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"id":           r.ID,
		"meta":         map[string]any{"lastUpdated": r.T.UTC().Format(time.RFC3339Nano)},
		"action":       action,
		"recorded":     r.T.UTC().Format(time.RFC3339Nano),
		"outcome":      r.Outcome,
		"source": map[string]any{
			"site":     l.opt.Source,
			"observer": map[string]any{"display": l.opt.Source},
			"type":     []any{coding(sysSourceType, "4", "Application Server")},
		},
	}
	if r.Allowed {
		ev["type"] = coding(sysAuditEventType, "rest", "Restful Operation")
		if r.Interaction == InteractionIngest {
			ev["subtype"] = []any{coding(sysAuditSubtype, InteractionIngest, "Social care record ingest")}
		} else {
			ev["subtype"] = []any{coding(sysRestful, r.Interaction, r.Interaction)}
		}
	} else {
		ev["type"] = coding(sysDCM, "110113", "Security Alert")
		ev["subtype"] = []any{coding(sysAuthZSubType, "AuthZ-Consent", "Authorization Decision using Roles and Consent")}
		ev["action"] = "E"
		desc := "refused by policy"
		if len(r.Reasons) > 0 {
			desc += ": " + strings.Join(r.Reasons, ", ")
		}
		ev["outcomeDesc"] = desc
	}
	if r.Allowed && r.Outcome != "0" && r.HTTPStatus != 0 {
		ev["outcomeDesc"] = "HTTP " + strconv.Itoa(r.HTTPStatus)
	}
	ev["agent"] = l.agents(r, action)
	ev["entity"] = entities(r)
	return ev
}

// agents lists the client, the server, the requesting user and the user's
// organisation. BALP: for a read the client is the Destination (110152) and
// the server the Source (110153); for queries, writes and operations the
// other way round. A refused attempt names the client as an Application
// (110150) and adds the gateway as the authorization server.
func (l *Log) agents(r *record, action string) []any {
	clientRole, serverRole := coding(sysDCM, "110153", "Source Role ID"), coding(sysDCM, "110152", "Destination Role ID")
	if action == "R" {
		clientRole, serverRole = serverRole, clientRole
	}
	if !r.Allowed {
		clientRole = coding(sysDCM, "110150", "Application")
	}
	system := r.AgentKind == KindSystem
	clientID := r.ClientID
	if clientID == "" && system {
		clientID = r.Subject
	}
	client := map[string]any{
		"type":      map[string]any{"coding": []any{clientRole}},
		"who":       map[string]any{"identifier": map[string]any{"value": clientID}},
		"requestor": system,
	}
	if clientID == "" {
		client["who"] = map[string]any{"display": "unidentified client"}
	}
	if r.Network != "" {
		// AuditEvent.agent.network: type 2 is an IP address.
		client["network"] = map[string]any{"address": r.Network, "type": "2"}
	}
	if system && r.Purpose != "" {
		client["purposeOfUse"] = []any{concept(sysActReason, r.Purpose)}
	}
	server := map[string]any{
		"type":      map[string]any{"coding": []any{serverRole}},
		"who":       map[string]any{"display": l.opt.Source},
		"requestor": false,
	}
	agents := []any{client, server}
	if !r.Allowed {
		agents = append(agents, map[string]any{
			"type":      map[string]any{"coding": []any{coding(sysSecurityRoleType, "authserver", "authorization server")}},
			"who":       map[string]any{"display": l.opt.Source},
			"requestor": false,
		})
	}
	if r.AgentKind == KindUser || r.AgentKind == KindPerson {
		user := map[string]any{
			"type":      map[string]any{"coding": []any{coding(sysParticipation, "IRCP", "information recipient")}},
			"who":       map[string]any{"identifier": map[string]any{"value": r.Subject}},
			"requestor": true,
		}
		if r.AgentKind == KindPerson && r.AgentPatient != "" {
			user["who"] = map[string]any{"reference": r.AgentPatient}
		}
		if r.Role != "" {
			user["role"] = []any{concept(sysJobRole, r.Role)}
		}
		if r.Purpose != "" {
			user["purposeOfUse"] = []any{concept(sysActReason, r.Purpose)}
		}
		agents = append(agents, user)
	}
	if r.Org != "" {
		agents = append(agents, map[string]any{
			"type":      map[string]any{"coding": []any{coding(sysRoleClass, "PROV", "healthcare provider")}},
			"who":       map[string]any{"identifier": map[string]any{"system": sysODS, "value": r.Org}},
			"requestor": false,
		})
	}
	return agents
}

// entities lists the patients, the resources returned or touched, the
// query of a search, and the request itself (BALP's X-Request-Id entity)
// carrying the gateway's own details: the policy decision, break-glass
// reason and record categories.
func entities(r *record) []any {
	var out []any
	for _, p := range r.Patients {
		out = append(out, map[string]any{
			"what": map[string]any{"reference": p},
			"type": coding(sysEntityType, "1", "Person"),
			"role": coding(sysObjectRole, "1", "Patient"),
		})
	}
	for _, res := range r.Resources {
		e := map[string]any{
			"what": map[string]any{"reference": res},
			"type": coding(sysEntityType, "2", "System Object"),
			"role": coding(sysObjectRole, "4", "Domain Resource"),
		}
		if r.ReviewOf != "" && res == "AuditEvent/"+r.ReviewOf {
			e["detail"] = reviewDetails(r)
		}
		out = append(out, e)
	}
	for _, t := range slices.Sorted(maps.Keys(r.Counts)) {
		out = append(out, map[string]any{
			"what":   map[string]any{"display": t},
			"type":   coding(sysEntityType, "2", "System Object"),
			"role":   coding(sysObjectRole, "4", "Domain Resource"),
			"detail": []any{map[string]any{"type": "count", "valueString": strconv.Itoa(r.Counts[t])}},
		})
	}
	if r.Query != "" || strings.HasPrefix(r.Interaction, "search") {
		q := map[string]any{
			"type":  coding(sysEntityType, "2", "System Object"),
			"role":  coding(sysObjectRole, "24", "Query"),
			"query": base64.StdEncoding.EncodeToString([]byte(r.Query)),
		}
		if r.ResourceType != "" {
			q["what"] = map[string]any{"display": r.ResourceType}
		}
		out = append(out, q)
	}
	if d := r.Destruction; d != nil {
		detail := []any{
			map[string]any{"type": "disposal", "valueString": d.Disposal},
			map[string]any{"type": "proposed-by", "valueString": d.ProposedBy},
			map[string]any{"type": "versions-destroyed", "valueString": strconv.Itoa(d.Versions)},
		}
		for _, rule := range d.Rules {
			detail = append(detail, map[string]any{"type": "retention-rule", "valueString": rule})
		}
		if d.Schedule != "" {
			detail = append(detail, map[string]any{"type": "retention-schedule", "valueString": d.Schedule})
		}
		out = append(out, map[string]any{
			"what":   map[string]any{"display": "destruction record"},
			"type":   coding(sysEntityType, "2", "System Object"),
			"role":   coding(sysObjectRole, "4", "Domain Resource"),
			"detail": detail,
		})
	}
	out = append(out, requestEntity(r))
	return out
}

// reviewDetails are the verdict of a review record and its note, on the
// entity of the AuditEvent reviewed (AuditEvent.entity.detail), and when
// a review made before reviews were audit records was made.
func reviewDetails(r *record) []any {
	details := []any{detail("review-verdict", r.Verdict), detail("review-note", r.ReviewNote)}
	if r.ReviewedAt != 0 {
		details = append(details, detail("reviewed-at", time.UnixMilli(r.ReviewedAt).UTC().Format(time.RFC3339Nano)))
	}
	return details
}

func requestEntity(r *record) map[string]any {
	decision := "permit"
	if !r.Allowed {
		decision = "deny"
	}
	details := []any{detail("interaction", r.Interaction)}
	if r.Operation != "" {
		details = append(details, detail("operation", r.Operation))
	}
	if r.ResourceType != "" {
		details = append(details, detail("resource-type", r.ResourceType))
	}
	if r.HTTPStatus != 0 {
		details = append(details, detail("http-status", strconv.Itoa(r.HTTPStatus)))
	}
	details = append(details, detail("policy-decision", decision))
	if r.Revision != "" {
		details = append(details, detail("policy-revision", r.Revision))
	}
	for _, why := range r.Reasons {
		details = append(details, detail("policy-reason", why))
	}
	for _, o := range r.Obligations {
		details = append(details, detail("obligation", o))
	}
	if r.BreakGlass {
		details = append(details, detail("break-glass", "true"))
	}
	if r.BreakGlassReason != "" {
		details = append(details, detail("break-glass-reason", r.BreakGlassReason))
	}
	for _, c := range r.Categories {
		details = append(details, detail("category", sysRecordCategory+"|"+c))
	}
	e := map[string]any{
		"type":   coding(sysBALPEntityType, "XrequestId", ""),
		"detail": details,
	}
	if r.RequestID != "" {
		e["what"] = map[string]any{"identifier": map[string]any{"value": r.RequestID}}
	}
	return e
}

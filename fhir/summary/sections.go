package summary

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/socialcare-fhir/gateway/fhir"
)

// The project's code systems and extensions the translator writes (see
// docs/social-care-mapping.md).
const (
	base             = "https://socialcare-fhir.example.org"
	observationCode  = base + "/CodeSystem/observation-code"
	flagCode         = base + "/CodeSystem/flag-code"
	statementKind    = base + "/CodeSystem/statement-kind"
	securityLabel    = base + "/CodeSystem/security-label"
	rightsRequest    = base + "/CodeSystem/rights-request"
	relationshipCode = base + "/CodeSystem/relationship"
	medicationResult = base + "/CodeSystem/medication-outcome"
	harmLevel        = base + "/StructureDefinition/harm-level"
	extBase          = base + "/StructureDefinition/"
	snomed           = "http://snomed.info/sct"
	homeVisit        = "439708006"
	interpreterExt   = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
)

// sectionDef is one section: its code and how it is built from the
// indexed resources (its narrative and the entries it references).
type sectionDef struct {
	title, system, code string
	build               func(ix *indexed, in Input) (table, []string)
}

// sections are the document's sections in the order a GP reads them.
var sections = []sectionDef{
	{"Responsible local authority and social care contact", SectionSystem, "local-authority", localAuthority},
	{"Safeguarding and alerts", LOINC, "104605-1", alerts},
	{"Services and care packages", SectionSystem, "services-and-care", services},
	{"Care and support plan", LOINC, "18776-5", carePlan},
	{"What matters to the person: outcomes in their own words", LOINC, "81338-6", outcomes},
	{"Assessed needs", LOINC, "47420-5", needs},
	{"Communication needs and reasonable adjustments", SectionSystem, "communication", communication},
	{"Legal information: Lasting Power of Attorney", SectionSystem, "legal-information", legal},
	{"People important to the person and carers", SectionSystem, "personal-contacts", contacts},
	{"Social history: primary support reason", LOINC, "29762-2", socialHistory},
	{"Recent visits", SectionSystem, "recent-visits", visits},
	{"Help with medication", LOINC, "10160-0", medication},
	{"Falls, accidents and incidents", SectionSystem, "incidents", incidents},
	{"Changes in circumstances", SectionSystem, "changes-in-circumstances", changes},
	{"Supplementary statements", SectionSystem, "supplementary-statements", statements},
	{"Allergies and intolerances", LOINC, "48765-2", notHeld},
	{"Problem list", LOINC, "11450-4", notHeld},
}

// item is one decoded resource.
type item struct {
	ref string // "Type/id"
	o   map[string]any
}

// indexed is the input decoded, by type and by reference.
type indexed struct {
	patient item
	byType  map[string][]item
	byRef   map[string]item
}

func index(in Input) (*indexed, error) {
	ix := &indexed{byType: map[string][]item{}, byRef: map[string]item{}}
	for i, r := range append([]Resource{in.Patient}, in.Resources...) {
		o, err := fhir.DecodeObject(r.JSON)
		if err != nil {
			return nil, fmt.Errorf("summary: decode %s/%s: %w", r.Type, r.ID, err)
		}
		it := item{ref: r.Type + "/" + r.ID, o: o}
		if i == 0 {
			ix.patient = it
			continue
		}
		ix.byType[r.Type] = append(ix.byType[r.Type], it)
		ix.byRef[it.ref] = it
	}
	return ix, nil
}

func (ix *indexed) person() Person {
	p := ix.patient.o
	var nhs string
	for _, id := range list(p, "identifier") {
		if str(id, "system") == "https://fhir.nhs.uk/Id/nhs-number" {
			nhs = str(id, "value")
		}
	}
	return Person{Name: humanName(at(p, "name")), NHSNumber: nhs, BirthDate: when(str(p, "birthDate"))}
}

// where are the resources of typ for which ok holds, sorted by key (newest
// first when desc).
func (ix *indexed) where(typ string, ok func(map[string]any) bool, key func(map[string]any) string, desc bool) []item {
	var out []item
	for _, it := range ix.byType[typ] {
		if ok == nil || ok(it.o) {
			out = append(out, it)
		}
	}
	if key != nil {
		slices.SortStableFunc(out, func(a, b item) int {
			c := strings.Compare(key(a.o), key(b.o))
			if desc {
				return -c
			}
			return c
		})
	}
	return out
}

// name is what a directory reference is called: an Organization's name, a
// PractitionerRole's practitioner and role, a Practitioner's name; "" when
// the caller was not given it.
func (ix *indexed) name(reference string) string {
	it, ok := ix.byRef[reference]
	if !ok {
		return ""
	}
	switch strings.SplitN(reference, "/", 2)[0] {
	case "Organization":
		return str(it.o, "name")
	case "Practitioner":
		return humanName(at(it.o, "name"))
	case "PractitionerRole":
		parts := appendNew(nil, ix.name(ref(it.o, "practitioner")), concepts(list(it.o, "code")))
		s := strings.Join(parts, ", ")
		if org := ix.name(ref(it.o, "organization")); org != "" {
			s = strings.TrimPrefix(s+" ("+org+")", " ")
		}
		return s
	}
	return ""
}

// refsOf are the references of items, for a section's entries.
func refsOf(items ...[]item) []string {
	var out []string
	for _, is := range items {
		for _, it := range is {
			out = appendNew(out, it.ref)
		}
	}
	return out
}

// isOpinion reports whether a statement is a professional's opinion.
func isOpinion(o map[string]any) bool {
	return hasCoding(list(o, "category"), statementKind, "opinion") || hasCoding(list(o, "meta", "security"), securityLabel, "professional-opinion")
}

func statement(o map[string]any) Line {
	return Line{Text: str(o, "valueString"), Opinion: isOpinion(o)}
}

func codeOf(system string, codes ...string) func(map[string]any) bool {
	return func(o map[string]any) bool {
		return slices.ContainsFunc(codes, func(c string) bool { return hasCoding(list(o, "code"), system, c) })
	}
}

func localAuthority(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Local authority", "Known since", "Status", "Social care contact"}, Empty: noInformation}
	episodes := ix.where("EpisodeOfCare", nil, func(o map[string]any) string { return str(o, "period", "start") }, true)
	plans := ix.where("CarePlan", nil, func(o map[string]any) string { return str(o, "period", "start") }, true)
	var contact string
	var used []item
	for _, p := range plans {
		if c := ix.name(ref(p.o, "author")); c != "" {
			contact = c
			used = append(used, ix.byRef[ref(p.o, "author")])
			break
		}
	}
	for _, e := range episodes {
		t.Rows = append(t.Rows, row{fact(ix.name(ref(e.o, "managingOrganization"))), fact(when(str(e.o, "period", "start"))),
			fact(str(e.o, "status")), fact(contact)})
	}
	if len(episodes) == 0 {
		if la := ix.name(ref(ix.patient.o, "managingOrganization")); la != "" {
			t.Rows = append(t.Rows, row{fact(la), nil, nil, fact(contact)})
			used = append(used, ix.byRef[ref(ix.patient.o, "managingOrganization")])
		}
	}
	if len(t.Rows) == 0 {
		return t, nil
	}
	return t, refsOf(episodes, used)
}

func alerts(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Alert", "Since", "Until", "Status", "Details"}, Empty: noInformation}
	flags := ix.where("Flag", func(o map[string]any) bool { return !codeOf(flagCode, "communication-need")(o) },
		func(o map[string]any) string { return str(o, "period", "start") }, true)
	var used []item
	for _, f := range flags {
		// The details of a safeguarding concern stay on its incident: shown
		// only when the caller was given it.
		var detail Cell
		for _, ae := range ix.byType["AdverseEvent"] {
			if sameIdentifier(f.o, ae.o) {
				detail = append(detail, fact(strings.Join(extensions(ae.o, extBase+"incident-description"), " "))...)
				used = append(used, ae)
			}
		}
		t.Rows = append(t.Rows, row{fact(concept(at(f.o, "code"))), fact(when(str(f.o, "period", "start"))),
			fact(when(str(f.o, "period", "end"))), fact(str(f.o, "status")), detail})
	}
	if len(flags) > 0 {
		t.Intro = "Alerts recorded for the person. The details of a safeguarding concern are shown only to those the data sharing policy allows."
	}
	return t, refsOf(flags, used)
}

// sameIdentifier reports whether two resources share an identifier (a Flag
// and the incident it was raised for).
func sameIdentifier(a, b map[string]any) bool {
	for _, x := range list(a, "identifier") {
		for _, y := range list(b, "identifier") {
			if str(x, "system") == str(y, "system") && str(x, "value") != "" && str(x, "value") == str(y, "value") {
				return true
			}
		}
	}
	return false
}

func services(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Service", "Type", "Provider", "Frequency", "Start", "End", "Status"}, Empty: noInformation}
	srs := ix.where("ServiceRequest", nil, startOf, true)
	var used []item
	for _, sr := range srs {
		provider := ix.name(ref(sr.o, "performer"))
		if provider != "" {
			used = append(used, ix.byRef[ref(sr.o, "performer")])
		}
		bounds := at(sr.o, "occurrenceTiming", "repeat", "boundsPeriod")
		if bounds == nil {
			bounds = at(sr.o, "occurrencePeriod")
		}
		cats := list(sr.o, "category")
		t.Rows = append(t.Rows, row{fact(concept(at(sr.o, "code"))), fact(concepts(cats)), fact(provider), fact(frequency(sr.o)),
			fact(when(str(bounds, "start"))), fact(when(str(bounds, "end"))), fact(str(sr.o, "status"))})
	}
	return t, refsOf(srs, used)
}

func startOf(o map[string]any) string {
	if s := str(o, "occurrenceTiming", "repeat", "boundsPeriod", "start"); s != "" {
		return s
	}
	return str(o, "occurrencePeriod", "start")
}

// frequency shows a care package line's visit pattern and planned hours.
func frequency(o map[string]any) string {
	var parts []string
	rep := at(o, "occurrenceTiming", "repeat")
	var days []string
	for _, d := range list(rep, "dayOfWeek") {
		if s, ok := d.(string); ok {
			days = append(days, strings.ToUpper(s[:1])+s[1:])
		}
	}
	var times []string
	for _, tm := range list(rep, "timeOfDay") {
		if s, ok := tm.(string); ok && len(s) >= 5 {
			times = append(times, s[:5])
		}
	}
	visit := ""
	switch {
	case len(days) == 7:
		visit = "Daily"
	case len(days) > 0:
		visit = strings.Join(days, ", ")
	}
	if len(times) > 0 {
		visit = strings.TrimSpace(visit + " at " + strings.Join(times, ", "))
	}
	if d := str(rep, "duration"); d != "" {
		visit = strings.TrimSpace(visit + ", " + d + " " + str(rep, "durationUnit") + " a visit")
	}
	parts = appendNew(parts, strings.TrimPrefix(visit, ", "))
	if q := str(o, "quantityQuantity", "value"); q != "" {
		parts = appendNew(parts, q+" "+str(o, "quantityQuantity", "unit"))
	}
	if c := str(extension(o, extBase+"carers-per-visit"), "valuePositiveInt"); c != "" {
		parts = appendNew(parts, c+" carer(s) per visit")
	}
	return strings.Join(parts, "; ")
}

func carePlan(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Plan", "Status", "Period", "Agreed with the person", "Planned support", "Next review date"}, Empty: noInformation}
	plans := ix.where("CarePlan", nil, func(o map[string]any) string { return str(o, "period", "start") }, true)
	for i, p := range plans {
		var support Cell
		for _, a := range list(p.o, "activity") {
			if d := str(a, "detail", "description"); d != "" {
				support = append(support, Line{Text: d})
			}
		}
		agreed := ""
		switch str(extension(p.o, extBase+"agreed-with-person"), "valueBoolean") {
		case "true":
			agreed = "Yes"
		case "false":
			agreed = "No"
		}
		review := when(str(extension(p.o, extBase+"next-review-date"), "valueDate"))
		if i == 0 && review != "" {
			t.Intro = "Next review date: " + review + "."
		}
		t.Rows = append(t.Rows, row{fact(str(p.o, "title")), fact(str(p.o, "status")), fact(period(at(p.o, "period"))), fact(agreed), support, fact(review)})
	}
	return t, refsOf(plans)
}

func outcomes(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Outcome", "Target date", "Status"}, Empty: noInformation}
	goals := ix.where("Goal", nil, nil, false)
	for _, g := range goals {
		text := concept(at(g.o, "description"))
		if ref(g.o, "expressedBy") == ix.patient.ref && text != "" {
			text = "“" + text + "”"
		}
		t.Rows = append(t.Rows, row{fact(text), fact(when(str(g.o, "target", "dueDate"))), fact(str(g.o, "lifecycleStatus"))})
	}
	if len(goals) > 0 {
		t.Intro = "Outcomes in quotation marks are the person's own words, from their care and support plan."
	}
	return t, refsOf(goals)
}

func needs(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Assessed need", "Assessed by"}, Empty: noInformation}
	obs := ix.where("Observation", codeOf(observationCode, "assessed-need"), nil, false)
	for _, o := range obs {
		t.Rows = append(t.Rows, row{Cell{statement(o.o)}, fact(ix.name(ref(o.o, "performer")))})
	}
	return t, refsOf(obs)
}

func communication(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Need or adjustment"}, Empty: noInformation}
	var entries []string
	p := ix.patient.o
	var langs []string
	for _, c := range list(p, "communication") {
		langs = appendNew(langs, concept(at(c, "language")))
	}
	if len(langs) > 0 {
		t.Rows = append(t.Rows, row{fact("Preferred language: " + strings.Join(langs, ", "))})
	}
	if str(extension(p, interpreterExt), "valueBoolean") == "true" {
		t.Rows = append(t.Rows, row{fact("Needs an interpreter")})
	}
	if len(t.Rows) > 0 {
		entries = append(entries, ix.patient.ref)
	}
	flags := ix.where("Flag", codeOf(flagCode, "communication-need"), nil, false)
	for _, f := range flags {
		t.Rows = append(t.Rows, row{fact(concept(at(f.o, "code")))})
	}
	return t, append(entries, refsOf(flags)...)
}

func isLPA(o map[string]any) bool {
	return hasCoding(list(o, "relationship"), relationshipCode, "lasting-power-of-attorney")
}

func legal(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Lasting Power of Attorney", "Held by", "Relationship", "Attorney contact"}, Empty: noInformation}
	lpas := ix.where("RelatedPerson", isLPA, nil, false)
	for _, rp := range lpas {
		kind := strings.ReplaceAll(str(extension(rp.o, extBase+"lpa-type"), "valueCode"), "-", " ")
		if kind == "" {
			kind = "type not recorded"
		}
		t.Rows = append(t.Rows, row{fact(kind), fact(humanName(at(rp.o, "name"))), fact(relationshipWords(rp.o)), fact(telecoms(rp.o))})
	}
	return t, refsOf(lpas)
}

// relationshipWords are a RelatedPerson's relationships in words.
func relationshipWords(o map[string]any) string { return concepts(list(o, "relationship")) }

func contacts(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Name", "Relationship", "Contact"}, Empty: noInformation}
	rps := ix.where("RelatedPerson", nil, nil, false)
	for _, rp := range rps {
		t.Rows = append(t.Rows, row{fact(humanName(at(rp.o, "name"))), fact(relationshipWords(rp.o)), fact(telecoms(rp.o))})
	}
	return t, refsOf(rps)
}

func socialHistory(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"Primary support reason"}, Empty: noInformation}
	obs := ix.where("Observation", codeOf(observationCode, "primary-support-reason"), nil, false)
	for _, o := range obs {
		t.Rows = append(t.Rows, row{fact(concept(at(o.o, "valueCodeableConcept")))})
	}
	return t, refsOf(obs)
}

func isVisit(o map[string]any) bool { return hasCoding(list(o, "type"), snomed, homeVisit) }

func visits(ix *indexed, in Input) (table, []string) {
	t := table{Columns: []string{"When", "Services", "Status", "Provider", "Notes", "Significant occurrences"}, Empty: noInformation,
		Intro: fmt.Sprintf("Visits in the %d days to %s, newest first.", in.RecentDays, when(in.Now.UTC().Format("2006-01-02")))}
	vs := ix.where("Encounter", isVisit, func(o map[string]any) string { return str(o, "period", "start") }, true)
	notes := ix.where("Observation", codeOf(observationCode, "care-note", "significant-occurrence"), func(o map[string]any) string { return str(o, "effectiveDateTime") }, false)
	byVisit := map[string][]item{}
	for _, n := range notes {
		byVisit[ref(n.o, "encounter")] = append(byVisit[ref(n.o, "encounter")], n)
	}
	var used []item
	for _, v := range vs {
		var noteCell, occCell Cell
		for _, n := range byVisit[v.ref] {
			if codeOf(observationCode, "significant-occurrence")(n.o) {
				occCell = append(occCell, statement(n.o))
			} else {
				noteCell = append(noteCell, statement(n.o))
			}
			used = append(used, n)
		}
		status := str(v.o, "status")
		if vs := str(extension(v.o, extBase+"visit-status"), "valueCoding", "code"); vs != "" {
			status = vs
		}
		provider := ix.name(ref(v.o, "serviceProvider"))
		if provider != "" {
			used = append(used, ix.byRef[ref(v.o, "serviceProvider")])
		}
		types := list(v.o, "type")
		t.Rows = append(t.Rows, row{fact(period(at(v.o, "period"))), fact(concepts(types[min(1, len(types)):])), fact(status), fact(provider), noteCell, occCell})
	}
	return t, refsOf(vs, used)
}

func medication(ix *indexed, in Input) (table, []string) {
	t := table{Columns: []string{"When", "Medicine", "Dose", "Support", "Outcome"}, Empty: noInformation}
	mas := ix.where("MedicationAdministration", nil, func(o map[string]any) string { return str(o, "effectiveDateTime") }, true)
	counts := map[string]int{}
	for _, m := range mas {
		outcome := "given"
		if str(m.o, "status") != "completed" {
			outcome = strings.ReplaceAll(codeIn(at(m.o, "statusReason"), medicationResult), "-", " ")
			if outcome == "" {
				outcome = str(m.o, "status")
			}
		}
		counts[outcome]++
		result := Cell{{Text: outcome}}
		if str(m.o, "status") != "completed" {
			if why := str(m.o, "statusReason", "text"); why != "" {
				result = append(result, Line{Text: why})
			}
		}
		t.Rows = append(t.Rows, row{fact(when(str(m.o, "effectiveDateTime"))), fact(concept(at(m.o, "medicationCodeableConcept"))),
			fact(str(m.o, "dosage", "text")), fact(concept(at(m.o, "category"))), result})
	}
	if len(mas) > 0 {
		var parts []string
		for _, k := range []string{"given", "refused", "missed", "not available"} {
			if counts[k] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		t.Intro = fmt.Sprintf("Help with medication in the %d days to %s: %s. Latest first.", in.RecentDays, when(in.Now.UTC().Format("2006-01-02")), strings.Join(parts, ", "))
	}
	return t, refsOf(mas)
}

func incidents(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"When", "What happened", "Harm", "Description", "Action taken"}, Empty: noInformation,
		Intro: fmt.Sprintf("Incidents in the last %d months, newest first.", IncidentMonths)}
	aes := ix.where("AdverseEvent", nil, func(o map[string]any) string { return str(o, "date") }, true)
	for _, ae := range aes {
		t.Rows = append(t.Rows, row{fact(when(str(ae.o, "date"))), fact(concept(at(ae.o, "event"))), fact(str(extension(ae.o, harmLevel), "valueCoding", "code")),
			fact(strings.Join(extensions(ae.o, extBase+"incident-description"), " ")), fact(strings.Join(extensions(ae.o, extBase+"action-taken"), " "))})
	}
	return t, refsOf(aes)
}

func changes(ix *indexed, _ Input) (table, []string) {
	t := table{Columns: []string{"When", "Kind", "What changed"}, Empty: noInformation}
	obs := ix.where("Observation", codeOf(observationCode, "change-in-circumstances", "change-in-health", "change-in-physical-condition", "change-in-care-needs"),
		func(o map[string]any) string { return str(o, "effectiveDateTime") }, true)
	for _, o := range obs {
		t.Rows = append(t.Rows, row{fact(when(str(o.o, "effectiveDateTime"))), fact(concept(at(o.o, "code"))), Cell{statement(o.o)}})
	}
	return t, refsOf(obs)
}

// statements are the supplementary statements attached to the person's
// records (a correction the council declined, or the person's view of a
// professional opinion): DocumentReferences of type
// rights-request|supplementary-statement, the text as a plain-text
// attachment.
func statements(ix *indexed, _ Input) (table, []string) {
	t := table{Intro: "The person disputes these records; their statement is attached to each.", Columns: []string{"When", "About", "Statement"}, Empty: "No supplementary statements are attached."}
	docs := ix.where("DocumentReference", func(o map[string]any) bool {
		return hasCoding([]any{at(o, "type")}, rightsRequest, "supplementary-statement")
	},
		func(o map[string]any) string { return str(o, "date") }, true)
	for _, d := range docs {
		var about []string
		for _, r := range list(d.o, "context", "related") {
			if ref := str(r, "reference"); !strings.HasPrefix(ref, "Task/") {
				about = append(about, ref)
			}
		}
		t.Rows = append(t.Rows, row{fact(when(str(d.o, "date"))), fact(strings.Join(about, ", ")), fact(attachmentText(d.o))})
	}
	return t, refsOf(docs)
}

// attachmentText is the first plain-text attachment of a DocumentReference.
func attachmentText(o map[string]any) string {
	for _, c := range list(o, "content") {
		if strings.HasPrefix(str(c, "attachment", "contentType"), "text/plain") {
			if b, err := base64.StdEncoding.DecodeString(str(c, "attachment", "data")); err == nil {
				return string(b)
			}
		}
	}
	return ""
}

// notHeld is an IPS section social care records do not hold.
func notHeld(*indexed, Input) (table, []string) {
	return table{Empty: "Not held in social care records: see the GP record."}, nil
}

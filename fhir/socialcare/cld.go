package socialcare

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// CLD columns the reader uses. Other Client Level Data columns (ethnicity,
// client type, accommodation, unit cost, ...) are accepted and ignored: the
// record format has no place for them yet.
const (
	cldLACode       = "LA_Code"
	cldPersonID     = "LA_Person_Unique_Identifier"
	cldNHSNumber    = "NHS_Number"
	cldGP           = "GP_Practice_Code"
	cldGender       = "Gender"
	cldBirth        = "Date_of_Birth"
	cldDeath        = "Date_of_Death"
	cldPSR          = "Primary_Support_Reason"
	cldPostcode     = "Postcode"
	cldEventType    = "Event_Type"
	cldEventRef     = "Event_Reference"
	cldEventStart   = "Event_Start_Date"
	cldEventEnd     = "Event_End_Date"
	cldEventOutcome = "Event_Outcome"
	cldAssessment   = "Assessment_Type"
	cldServiceType  = "Service_Type"
	cldComponent    = "Service_Component"
	cldDelivery     = "Delivery_Mechanism"
	cldProviderCQC  = "Provider_CQC_Location_ID"
	cldPlannedUnits = "Planned_units_per_week"
)

// cldColumnOf maps record field names back to the CLD column they came
// from, so that problems point at the CSV.
var cldColumnOf = map[string]string{
	"person.id": cldPersonID, "person.nhsNumber": cldNHSNumber, "person.gpPractice": cldGP,
	"person.gender": cldGender, "person.birthDate": cldBirth, "person.deathDate": cldDeath,
	"person.primarySupportReason": cldPSR, "person.address.postcode": cldPostcode,
	"source.organisation": cldLACode, "id": cldEventRef, "start": cldEventStart, "end": cldEventEnd,
	"outcome": cldEventOutcome, "serviceType": cldServiceType, "serviceComponent": cldComponent,
	"deliveryMechanism": cldDelivery, "provider.cqcLocationId": cldProviderCQC,
	"plannedUnitsPerWeek": cldPlannedUnits, "author.organisation": cldLACode, "type": cldEventType,
}

var ukDate = regexp.MustCompile(`^(\d{2})/(\d{2})/(\d{4})$`)

// ReadCLD reads a council's Adult Social Care Client Level Data CSV (a
// header row, then one row per event with the person's fields repeated, or
// person rows with no event) and groups consecutive rows of the same person
// into one Record. It calls fn for each record in order with the number of
// its first data row (the header is row 1). A record with problems is
// reported through fn's err (a *fhir.Error whose expressions name the row
// and column, for example "row[7].Service_Type") and does not stop the rest.
//
// CLD has no names, authors or recording times: entries are authored by the
// council (LA_Code as its organisation code) and recorded at the event's
// start date (midnight UTC); Request events are skipped.
func ReadCLD(r io.Reader, now time.Time, fn func(row int, rec *Record, err error) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("socialcare: read CLD header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{cldLACode, cldPersonID} {
		if _, ok := col[strings.ToLower(need)]; !ok {
			return &fhir.Error{Status: http.StatusBadRequest, Issues: []fhir.Issue{{Severity: "error", Code: "structure",
				Diagnostics: "The CSV header has no " + need + " column; the first row must name the Client Level Data columns."}}}
		}
	}
	var g *cldGroup
	flush := func() error {
		if g == nil {
			return nil
		}
		rec, err := g.finish(now)
		g = nil
		return fn(rec.firstRow, rec.rec, err)
	}
	for rowNum := 2; ; rowNum++ {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if ferr := flush(); ferr != nil {
					return ferr
				}
				bad := &fhir.Error{Status: http.StatusUnprocessableEntity, Issues: []fhir.Issue{issue("structure", fmt.Sprintf("row[%d]", rowNum), "This row is not valid CSV: "+pe.Err.Error())}}
				if ferr := fn(rowNum, nil, bad); ferr != nil {
					return ferr
				}
				continue
			}
			return fmt.Errorf("socialcare: read CLD row %d: %w", rowNum, err)
		}
		row := cldRow{col: col, fields: fields}
		key := row.get(cldLACode) + "\x00" + row.get(cldPersonID)
		if g != nil && g.key != key {
			if ferr := flush(); ferr != nil {
				return ferr
			}
		}
		if g == nil {
			g = newCLDGroup(key, rowNum, row)
		}
		g.addEvent(rowNum, row)
	}
}

type cldRow struct {
	col    map[string]int
	fields []string
}

func (r cldRow) get(name string) string {
	i, ok := r.col[strings.ToLower(name)]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// date returns an ISO date for a CLD date written YYYY-MM-DD or DD/MM/YYYY.
func (r cldRow) date(name string) string {
	v := r.get(name)
	if m := ukDate.FindStringSubmatch(v); m != nil {
		return m[3] + "-" + m[2] + "-" + m[1]
	}
	return v
}

// cldGroup builds one Record from a person's consecutive rows.
type cldGroup struct {
	key      string
	rec      *Record
	firstRow int
	// rowOf maps a record path prefix ("carePackage[0]") to its CSV row.
	rowOf  map[string]int
	latest string
	// earliest is the first event's start, ongoing whether a service has
	// not ended: the council's involvement (the record's episode).
	earliest string
	ongoing  bool
	extra    []fhir.Issue
}

type cldResult struct {
	rec      *Record
	firstRow int
}

func newCLDGroup(key string, rowNum int, row cldRow) *cldGroup {
	la := row.get(cldLACode)
	gender := strings.ToLower(row.get(cldGender))
	switch gender {
	case "not known", "not specified", "":
		gender = "unknown"
	}
	rec := &Record{
		SchemaVersion: SchemaVersion,
		Source:        Source{System: "Client Level Data return", Organisation: la},
		Person: Person{
			Entry:                Entry{ID: row.get(cldPersonID), Author: &Author{Organisation: la}},
			NHSNumber:            strings.ReplaceAll(row.get(cldNHSNumber), " ", ""),
			BirthDate:            row.date(cldBirth),
			Gender:               gender,
			GPPractice:           row.get(cldGP),
			DeathDate:            row.date(cldDeath),
			PrimarySupportReason: row.get(cldPSR),
		},
	}
	if pc := row.get(cldPostcode); pc != "" {
		rec.Person.Address = &Address{Postcode: pc}
	}
	return &cldGroup{key: key, rec: rec, firstRow: rowNum, rowOf: map[string]int{"person": rowNum, "source": rowNum}}
}

func (g *cldGroup) addEvent(rowNum int, row cldRow) {
	typ := row.get(cldEventType)
	if st := row.date(cldEventStart); st != "" && (g.earliest == "" || st < g.earliest) {
		g.earliest = st
	}
	if typ == "" || strings.EqualFold(typ, "Request") {
		return
	}
	la := g.rec.Source.Organisation
	start := row.date(cldEventStart)
	entry := Entry{ID: row.get(cldEventRef), Author: &Author{Organisation: la}, Recorded: start + "T00:00:00Z"}
	if start > g.latest {
		g.latest = start
	}
	switch {
	case strings.EqualFold(typ, "Assessment"), strings.EqualFold(typ, "Review"):
		g.rowOf[fmt.Sprintf("assessments[%d]", len(g.rec.Assessments))] = rowNum
		g.rec.Assessments = append(g.rec.Assessments, Assessment{
			Entry: entry, Type: strings.ToLower(typ), AssessmentType: row.get(cldAssessment),
			Start: start, End: row.date(cldEventEnd), Outcome: row.get(cldEventOutcome),
		})
	case strings.EqualFold(typ, "Service"):
		g.rowOf[fmt.Sprintf("carePackage[%d]", len(g.rec.CarePackage))] = rowNum
		line := PackageLine{
			Entry: entry, ServiceType: row.get(cldServiceType), ServiceComponent: row.get(cldComponent),
			DeliveryMechanism: row.get(cldDelivery), Start: start, End: row.date(cldEventEnd),
			PlannedUnitsPerWeek: json.Number(row.get(cldPlannedUnits)),
		}
		if cqc := row.get(cldProviderCQC); cqc != "" {
			line.Provider = &Provider{CQCLocationID: cqc}
		}
		if line.End == "" {
			g.ongoing = true
		}
		g.rec.CarePackage = append(g.rec.CarePackage, line)
	default:
		g.extra = append(g.extra, issue("value", fmt.Sprintf("row[%d].%s", rowNum, cldEventType),
			"Unknown Event_Type. Use one of: Request; Assessment; Service; Review."))
	}
}

func (g *cldGroup) finish(now time.Time) (cldResult, error) {
	rec := g.rec
	recorded := g.latest
	if recorded == "" {
		recorded = now.UTC().Format(time.DateOnly)
	}
	rec.Person.Recorded = recorded + "T00:00:00Z"
	rec.Source.SentAt = now.UTC().Format(time.RFC3339)
	// The return is the council's involvement with the person: an episode
	// from the first event, active while a service goes on, so that the
	// council knows the people it imports as it knows those it sends
	// records for.
	if g.earliest != "" {
		ep := &Episode{Entry: Entry{ID: rec.Person.ID + "-cld", Author: &Author{Organisation: rec.Source.Organisation}, Recorded: rec.Person.Recorded},
			Status: "finished", Start: g.earliest, End: recorded}
		if g.ongoing {
			ep.Status, ep.End = "active", ""
		}
		rec.Episode = ep
		g.rowOf["episode"] = g.firstRow
	}
	issues := append(g.extra, validate(rec, now)...)
	if len(issues) == 0 {
		return cldResult{rec, g.firstRow}, nil
	}
	for i := range issues {
		for j, e := range issues[i].Expression {
			issues[i].Expression[j] = g.csvPath(e)
		}
	}
	return cldResult{nil, g.firstRow}, unprocessable(issues)
}

// csvPath turns a record path into "row[N].Column" where it can.
func (g *cldGroup) csvPath(p string) string {
	if strings.HasPrefix(p, "row[") {
		return p
	}
	prefix, rest, _ := strings.Cut(p, ".")
	row, ok := g.rowOf[prefix]
	if !ok {
		return p
	}
	key := rest
	if prefix == "person" || prefix == "source" {
		key = p
	}
	if c, ok := cldColumnOf[key]; ok {
		return fmt.Sprintf("row[%d].%s", row, c)
	}
	return fmt.Sprintf("row[%d]", row)
}

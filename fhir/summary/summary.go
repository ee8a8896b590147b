// Package summary assembles a person's social care summary: a FHIR R4
// document Bundle (type document, a Composition first) shaped after the HL7
// International Patient Summary, with the sections social care adds
// following the PRSB standard "Information provided by local authorities in
// shared care records". See docs/summary.md for the sections, their codes
// and what each is built from.
//
// Data moves through it like this: the caller (the gateway's $summary
// operation) gathers the resources of the person's record that the access
// policy lets it see, already decided and redacted one by one; [Build]
// sorts them into sections, writes each section's XHTML narrative, and
// returns a [Document] holding the Bundle and a readable HTML page
// ([Document.WriteHTML]). Build reads nothing and decides nothing: a
// resource it is not given does not exist for it, and every resource it is
// given is an entry of the Bundle.
package summary

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
)

// Code systems and identifiers of the document.
const (
	LOINC = "http://loinc.org"
	// SectionSystem holds the project's codes for the sections the IPS
	// has none for.
	SectionSystem = "https://socialcare-fhir.example.org/CodeSystem/summary-section"
	// IdentifierSystem is the system of the document's business
	// identifier, whose value is the Patient's id: the same for every
	// regeneration of one person's summary.
	IdentifierSystem = "https://socialcare-fhir.example.org/Id/patient-summary"
	// EmptyReasonSystem is the R4 list-empty-reason code system.
	EmptyReasonSystem = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
	// DocumentType is the LOINC document type of the IPS (60591-5
	// Patient summary Document).
	DocumentType = "60591-5"
)

// Windows of the time-bound sections.
const (
	DefaultRecentDays = 14 // recent visits and help with medication
	MaxRecentDays     = 366
	IncidentMonths    = 12 // falls, accidents and incidents
)

// Resource is one stored resource the caller may see, as the policy left
// it (redactions applied).
type Resource struct {
	Type, ID string
	JSON     []byte
}

// Input is what a summary is built from.
type Input struct {
	// Patient is the person's Patient; Resources the rest of what the
	// caller may see of their record (and the directory resources it
	// references), in any order.
	Patient   Resource
	Resources []Resource
	// Now dates the document; RecentDays is the window of recent visits
	// and help with medication (0: DefaultRecentDays). The gatherer
	// applies the windows; they are named in the narrative.
	Now        time.Time
	RecentDays int
	// Base is the FHIR base URL the entries' fullUrls are built on.
	Base string
}

// Person is what the page's heading shows of the person.
type Person struct{ Name, NHSNumber, BirthDate string }

// Section is one section of the Composition.
type Section struct {
	Title string
	// System and Code identify the section: LOINC from the IPS where one
	// fits, else SectionSystem.
	System, Code string
	// Div is the generated XHTML narrative; Entries the "Type/id" of the
	// resources it is built from, none when the section is empty.
	Div     string
	Entries []string
}

// Document is a generated summary.
type Document struct {
	Title     string
	Timestamp string
	Person    Person
	Sections  []Section
	// Bundle is the document Bundle, ready to encode.
	Bundle *Bundle
}

// Bundle is the document Bundle.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Identifier   identifier    `json:"identifier"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp"`
	Entry        []BundleEntry `json:"entry"`
}

// BundleEntry is one entry: the Composition, then the resources.
type BundleEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// Build assembles the summary document of in.
func Build(in Input) (*Document, error) {
	if in.RecentDays <= 0 {
		in.RecentDays = DefaultRecentDays
	}
	ix, err := index(in)
	if err != nil {
		return nil, err
	}
	d := &Document{Title: "Social care summary", Timestamp: in.Now.UTC().Format(time.RFC3339), Person: ix.person()}
	for _, def := range sections {
		t, entries := def.build(ix, in)
		div, err := t.div()
		if err != nil {
			return nil, fmt.Errorf("summary: narrative of %s: %w", def.title, err)
		}
		d.Sections = append(d.Sections, Section{Title: def.title, System: def.system, Code: def.code, Div: div, Entries: entries})
	}
	comp, err := d.composition(in)
	if err != nil {
		return nil, err
	}
	d.Bundle = &Bundle{ResourceType: "Bundle", ID: comp.id, Identifier: identifier{IdentifierSystem, in.Patient.ID},
		Type: "document", Timestamp: d.Timestamp}
	d.Bundle.Entry = append(d.Bundle.Entry, BundleEntry{FullURL: "urn:uuid:" + comp.id, Resource: comp.json})
	for _, r := range append([]Resource{in.Patient}, in.Resources...) {
		d.Bundle.Entry = append(d.Bundle.Entry, BundleEntry{FullURL: in.Base + "/" + r.Type + "/" + r.ID, Resource: r.JSON})
	}
	return d, nil
}

type composition struct {
	id   string
	json []byte
}

// composition is the document's Composition: its sections, each with its
// narrative and entries, or the emptyReason "unavailable" when it has
// none (see emptyReason).
func (d *Document) composition(in Input) (composition, error) {
	id := newUUID()
	var secs []any
	for _, s := range d.Sections {
		// The project's codes are displayed by the section's title; LOINC
		// codes go without a display rather than with a made-up one.
		coding := map[string]any{"system": s.System, "code": s.Code}
		if s.System == SectionSystem {
			coding["display"] = s.Title
		}
		sec := map[string]any{
			"title": s.Title,
			"code":  map[string]any{"coding": []any{coding}},
			"text":  map[string]any{"status": "generated", "div": s.Div},
		}
		if len(s.Entries) == 0 {
			sec["emptyReason"] = emptyReason
		} else {
			var es []any
			for _, e := range s.Entries {
				es = append(es, map[string]any{"reference": e})
			}
			sec["entry"] = es
		}
		secs = append(secs, sec)
	}
	c := map[string]any{
		"resourceType": "Composition",
		"id":           id,
		"identifier":   map[string]any{"system": IdentifierSystem, "value": in.Patient.ID},
		"status":       "final",
		"type":         map[string]any{"coding": []any{map[string]any{"system": LOINC, "code": DocumentType, "display": "Patient summary Document"}}},
		"subject":      map[string]any{"reference": "Patient/" + in.Patient.ID},
		"date":         d.Timestamp,
		"author":       []any{map[string]any{"display": "Social care FHIR gateway (generated on request from the social care record)"}},
		"title":        d.Title,
		"section":      secs,
	}
	b, err := fhir.MarshalResource(c)
	if err != nil {
		return composition{}, fmt.Errorf("summary: encode the Composition: %w", err)
	}
	return composition{id: id, json: b}, nil
}

// emptyReason is given to every section without entries, whether nothing
// is recorded or nothing recorded may be shown to the caller: "unavailable"
// claims neither that nothing exists (nilknown) nor that something is held
// back (withheld), so an empty section reveals nothing the policy would
// not.
var emptyReason = map[string]any{
	"coding": []any{map[string]any{"system": EmptyReasonSystem, "code": "unavailable", "display": "Unavailable"}},
	"text":   "No information available",
}

// noInformation is an empty section's narrative (the same whatever the
// reason, see emptyReason).
const noInformation = "No information available."

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Package quality finds gaps and errors in the social care record: the data
// reports council staff run to keep records current and accurate (the
// citizens' jury's recommendation 5: "we will produce data reports to
// identify gaps and errors").
//
// A [Builder] is fed every resource of the record (or of one person's
// record) that the person running the report may read, in any order, and
// then gives the [Report]: for each check in [Checks], the items found,
// each naming the resource to look at and the person it is about. The
// checks read only what the social care translator writes (see
// docs/social-care-mapping.md):
//
//   - review-overdue: an active care and support plan (CarePlan) whose
//     next-review-date extension is before today;
//   - package-without-plan: a person with an active care package line
//     (ServiceRequest) but no active care and support plan;
//   - package-without-visit: an active care package line whose person has
//     had no visit, assessment or note (Encounter, Observation) in the
//     window (Options.VisitWindow) up to today;
//   - nhs-number-missing, nhs-number-unverified: a Patient without an NHS
//     number, or whose number's UK Core verification status is not 01
//     (number present and verified);
//   - no-gp: a Patient without a registered GP practice;
//   - duplicate-nhs-number, duplicate-name-birth-date: two or more
//     Patients with one NHS number, or with the same family name, first
//     given name and birth date;
//   - unsigned-entry: an entry (Provenance) with no signature;
//   - provider-entry-without-package: a record written by an organisation
//     other than the council running the report (a care provider) for a
//     person none of whose care package lines names that organisation;
//   - invalid-resource: a stored resource that no longer passes the R4
//     validator (only with Options.Validate).
//
// Details never quote record content (names, notes): they say what is
// missing or late and name the resource.
package quality

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/validate"
)

// Check codes.
const (
	ReviewOverdue               = "review-overdue"
	PackageWithoutPlan          = "package-without-plan"
	PackageWithoutVisit         = "package-without-visit"
	NHSNumberMissing            = "nhs-number-missing"
	NHSNumberUnverified         = "nhs-number-unverified"
	NoGP                        = "no-gp"
	DuplicateNHSNumber          = "duplicate-nhs-number"
	DuplicateNameBirthDate      = "duplicate-name-birth-date"
	UnsignedEntry               = "unsigned-entry"
	ProviderEntryWithoutPackage = "provider-entry-without-package"
	InvalidResource             = "invalid-resource"
)

// Check is one check of the report.
type Check struct {
	Code, Title string
}

// Checks are the report's checks, in the order it lists them.
var Checks = []Check{
	{ReviewOverdue, "Care and support plan reviews overdue"},
	{PackageWithoutPlan, "People with a care package but no current care and support plan"},
	{PackageWithoutVisit, "Open care packages with no visit or note recently"},
	{NHSNumberMissing, "People with no NHS number"},
	{NHSNumberUnverified, "People whose NHS number is not verified"},
	{NoGP, "People with no registered GP practice"},
	{DuplicateNHSNumber, "Possible duplicate people: the same NHS number"},
	{DuplicateNameBirthDate, "Possible duplicate people: the same name and date of birth"},
	{UnsignedEntry, "Entries without a signature"},
	{ProviderEntryWithoutPackage, "Provider entries with no commissioning care package"},
	{InvalidResource, "Records that fail FHIR R4 validation"},
}

// Identifier systems and extensions the checks read.
const (
	nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"
	odsSystem       = "https://fhir.nhs.uk/Id/ods-organization-code"
	extNHSVerify    = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
	extReviewDate   = "https://socialcare-fhir.example.org/StructureDefinition/next-review-date"
	planCategory    = "care-and-support-plan"
	sourceOrgSystem = "https://socialcare-fhir.example.org/CodeSystem/source-organisation"
	verifiedCode    = "01"
)

// Options configure a report.
type Options struct {
	// Today is the day the report is for (reviews due before it are
	// overdue).
	Today time.Time
	// VisitWindow is how long an open care package may go without a visit
	// or note (default 28 days).
	VisitWindow time.Duration
	// Org is the ODS code of the council running the report: records
	// written by any other organisation are providers' entries.
	Org string
	// Validate runs the R4 validator over every resource (slow on a
	// whole record).
	Validate bool
}

// Item is one finding.
type Item struct {
	Check    string
	Patient  string // "Patient/<id>", or "" for a record about no one
	Resource string // "Type/id": the record to look at
	Detail   string
}

// Report is what a Builder found.
type Report struct {
	Generated time.Time
	Options   Options
	// Scanned is how many resources were read.
	Scanned int
	// Items are the findings, by check (in Checks order), then patient
	// and resource.
	Items []Item
}

// Count is how many items c found.
func (r *Report) Count(c string) int {
	n := 0
	for _, it := range r.Items {
		if it.Check == c {
			n++
		}
	}
	return n
}

// Builder accumulates resources for a report.
type Builder struct {
	opt     Options
	scanned int
	items   []Item
	// per person
	activePlan  map[string]bool
	packages    []pkg
	lastContact map[string]string // patient -> latest visit/note date (YYYY-MM-DD...)
	byNHS       map[string][]string
	byName      map[string][]string
	orgODS      map[string]string // "Organization/<id>" -> ODS code
	authored    []authored
}

type pkg struct {
	patient, resource string
	performers        []string // "Organization/<id>"
}

type authored struct {
	patient, resource, ods string
}

// New starts a report.
func New(opt Options) *Builder {
	if opt.VisitWindow <= 0 {
		opt.VisitWindow = 28 * 24 * time.Hour
	}
	return &Builder{opt: opt, activePlan: map[string]bool{}, lastContact: map[string]string{},
		byNHS: map[string][]string{}, byName: map[string][]string{}, orgODS: map[string]string{}}
}

func (b *Builder) add(check, patient, resource, detail string) {
	b.items = append(b.items, Item{Check: check, Patient: patient, Resource: resource, Detail: detail})
}

// Add feeds one resource: its type, id, the patient its access is
// decided on ("" for none) and its content as the reader sees it.
func (b *Builder) Add(typ, id, patient string, obj map[string]any) {
	b.scanned++
	ref := typ + "/" + id
	if b.opt.Validate {
		if err := validate.Check(obj); err != nil {
			b.add(InvalidResource, patient, ref, firstLine(err.Error()))
		}
	}
	for _, ods := range authors(obj) {
		if ods != b.opt.Org && patient != "" {
			b.authored = append(b.authored, authored{patient, ref, ods})
		}
	}
	switch typ {
	case "Patient":
		b.patient(ref, obj)
	case "Organization":
		for _, idf := range list(obj["identifier"]) {
			if str(idf, "system") == odsSystem {
				b.orgODS[ref] = str(idf, "value")
			}
		}
	case "CarePlan":
		if str(obj, "status") != "active" || !hasCategory(obj, planCategory) {
			return
		}
		b.activePlan[patient] = true
		for _, e := range list(obj["extension"]) {
			if str(e, "url") == extReviewDate {
				if due := str(e, "valueDate"); due != "" && due < b.opt.Today.Format(time.DateOnly) {
					b.add(ReviewOverdue, patient, ref, "review was due on "+due)
				}
			}
		}
	case "ServiceRequest":
		if str(obj, "status") != "active" {
			return
		}
		p := pkg{patient: patient, resource: ref}
		for _, perf := range list(obj["performer"]) {
			if r := str(perf, "reference"); strings.HasPrefix(r, "Organization/") {
				p.performers = append(p.performers, r)
			}
		}
		b.packages = append(b.packages, p)
	case "Encounter":
		if per, ok := obj["period"].(map[string]any); ok {
			b.contact(patient, cmp.Or(str(per, "end"), str(per, "start")))
		}
	case "Observation":
		b.contact(patient, cmp.Or(str(obj, "effectiveDateTime"), str(obj, "issued")))
	case "Provenance":
		if len(list(obj["signature"])) == 0 {
			b.add(UnsignedEntry, patient, ref, "the entry has no signature")
		}
	}
}

// NHSNumber is a Patient's NHS number, or "".
func NHSNumber(obj map[string]any) string {
	for _, idf := range list(obj["identifier"]) {
		if str(idf, "system") == nhsNumberSystem {
			return str(idf, "value")
		}
	}
	return ""
}

// FamilyAndBirthDate are the family name (of the official name, or the
// first) and birth date the duplicate check compares.
func FamilyAndBirthDate(obj map[string]any) (family, birthDate string) {
	n := mainName(obj)
	return strings.TrimSpace(str(n, "family")), str(obj, "birthDate")
}

func mainName(obj map[string]any) map[string]any {
	names := list(obj["name"])
	for _, x := range names {
		if str(x, "use") == "official" {
			n, _ := x.(map[string]any)
			return n
		}
	}
	if len(names) == 0 {
		return nil
	}
	n, _ := names[0].(map[string]any)
	return n
}

func (b *Builder) patient(ref string, obj map[string]any) {
	nhs, verified := "", false
	for _, idf := range list(obj["identifier"]) {
		if str(idf, "system") != nhsNumberSystem {
			continue
		}
		nhs = str(idf, "value")
		for _, e := range list(idf.(map[string]any)["extension"]) {
			if str(e, "url") != extNHSVerify {
				continue
			}
			cc, _ := e.(map[string]any)["valueCodeableConcept"].(map[string]any)
			for _, c := range list(cc["coding"]) {
				if str(c, "code") == verifiedCode {
					verified = true
				}
			}
		}
	}
	switch {
	case nhs == "":
		b.add(NHSNumberMissing, ref, ref, "no NHS number is recorded")
	case !verified:
		b.add(NHSNumberUnverified, ref, ref, "the NHS number's verification status is not 01 (number present and verified)")
	}
	if nhs != "" {
		b.byNHS[nhs] = append(b.byNHS[nhs], ref)
	}
	if len(list(obj["generalPractitioner"])) == 0 {
		b.add(NoGP, ref, ref, "no registered GP practice is recorded")
	}
	if key := nameKey(obj); key != "" {
		b.byName[key] = append(b.byName[key], ref)
	}
}

func (b *Builder) contact(patient, when string) {
	if patient != "" && when > b.lastContact[patient] {
		b.lastContact[patient] = when
	}
}

// Report finishes the cross-record checks and returns the findings.
func (b *Builder) Report(now time.Time) *Report {
	items := slices.Clone(b.items)
	add := func(check, patient, resource, detail string) {
		items = append(items, Item{Check: check, Patient: patient, Resource: resource, Detail: detail})
	}
	since := b.opt.Today.Add(-b.opt.VisitWindow).Format(time.DateOnly)
	named := map[string]map[string]bool{} // patient -> ODS codes its packages name
	seenPlanless := map[string]bool{}
	for _, p := range b.packages {
		if !b.activePlan[p.patient] && !seenPlanless[p.patient] {
			seenPlanless[p.patient] = true
			add(PackageWithoutPlan, p.patient, p.patient, "an active care package ("+p.resource+") but no active care and support plan")
		}
		if last := b.lastContact[p.patient]; last < since {
			detail := "no visit, assessment or note since " + since
			if last != "" {
				detail += " (the last on " + last[:min(len(last), 10)] + ")"
			}
			add(PackageWithoutVisit, p.patient, p.resource, detail)
		}
		for _, o := range p.performers {
			if ods := b.orgODS[o]; ods != "" {
				if named[p.patient] == nil {
					named[p.patient] = map[string]bool{}
				}
				named[p.patient][ods] = true
			}
		}
	}
	for _, a := range b.authored {
		if !named[a.patient][a.ods] {
			add(ProviderEntryWithoutPackage, a.patient, a.resource, "written by "+a.ods+", which no care package line of this person names")
		}
	}
	dups := func(check string, groups map[string][]string, what string) {
		for _, refs := range groups {
			refs = slices.Compact(slices.Sorted(slices.Values(refs)))
			if len(refs) < 2 {
				continue
			}
			for _, r := range refs {
				others := slices.DeleteFunc(slices.Clone(refs), func(o string) bool { return o == r })
				add(check, r, r, what+" as "+strings.Join(others, ", "))
			}
		}
	}
	dups(DuplicateNHSNumber, b.byNHS, "the same NHS number")
	dups(DuplicateNameBirthDate, b.byName, "the same name and date of birth")
	order := map[string]int{}
	for i, c := range Checks {
		order[c.Code] = i
	}
	slices.SortStableFunc(items, func(x, y Item) int {
		return cmp.Or(cmp.Compare(order[x.Check], order[y.Check]), cmp.Compare(x.Patient, y.Patient), cmp.Compare(x.Resource, y.Resource))
	})
	return &Report{Generated: now, Options: b.opt, Scanned: b.scanned, Items: items}
}

// authors are the ODS codes of the organisations that wrote a record.
func authors(obj map[string]any) []string {
	meta, _ := obj["meta"].(map[string]any)
	var out []string
	for _, t := range list(meta["tag"]) {
		if str(t, "system") == sourceOrgSystem {
			out = append(out, str(t, "code"))
		}
	}
	return out
}

func hasCategory(obj map[string]any, code string) bool {
	for _, cc := range list(obj["category"]) {
		m, _ := cc.(map[string]any)
		for _, c := range list(m["coding"]) {
			if str(c, "code") == code {
				return true
			}
		}
	}
	return false
}

// nameKey is family|first given|birth date, lower case, from the official
// (or first) name; "" when any part is missing.
func nameKey(obj map[string]any) string {
	birth := str(obj, "birthDate")
	n := mainName(obj)
	if birth == "" || n == nil {
		return ""
	}
	given := list(n["given"])
	family := str(n, "family")
	if family == "" || len(given) == 0 {
		return ""
	}
	g, _ := given[0].(string)
	return strings.ToLower(strings.TrimSpace(family)) + "|" + strings.ToLower(strings.TrimSpace(g)) + "|" + birth
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return fmt.Sprintf("%.300s", s)
}

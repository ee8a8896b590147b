package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// dsa is the part of data.json (data.dsa) the plain-English agreement
// reads. Fields it does not know are ignored: the policy may grow.
type dsa struct {
	Agreement     string `json:"agreement"`
	Organisations map[string]struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"organisations"`
	Kinds map[string]struct {
		Reads              string   `json:"reads"`
		Writes             string   `json:"writes"`
		NHS                bool     `json:"nhs"`
		ExcludedCategories []string `json:"excluded_categories"`
		ReadsAudit         bool     `json:"reads_audit"`
	} `json:"kinds"`
	Purposes struct {
		DirectCare  []string `json:"direct_care"`
		BreakGlass  []string `json:"break_glass"`
		SelfAccess  []string `json:"self_access"`
		AuditReview []string `json:"audit_review"`
	} `json:"purposes"`
	RoleClasses map[string]struct {
		Roles         []string `json:"roles"`
		SubjectKinds  []string `json:"subject_kinds"`
		BreakGlass    bool     `json:"break_glass"`
		Restricted    bool     `json:"restricted"`
		Categories    []string `json:"categories"`
		Audit         bool     `json:"audit"`
		DataQuality   bool     `json:"data_quality"`
		Rights        bool     `json:"rights"`
		ApprovePolicy bool     `json:"approve_policy"`
	} `json:"role_classes"`
	Vocabulary                []string            `json:"vocabulary"`
	SafeguardingDetailClasses []string            `json:"safeguarding_detail_classes"`
	Redactions                map[string][]string `json:"redactions"`
	SummaryOnly               map[string][]string `json:"summary_only"`
	RelationshipWindowDays    int                 `json:"relationship_window_days"`
	AccessReportKinds         []string            `json:"access_report_kinds"`
	RightsKinds               []string            `json:"rights_kinds"`
}

func parseAgreement(data []byte) (*dsa, error) {
	var doc struct {
		DSA dsa `json:"dsa"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return &dsa{}, fmt.Errorf("%s: %w", DataFile, err)
	}
	return &doc.DSA, nil
}

func (d *dsa) purposeWords(code string) string {
	var uses []string
	for _, p := range []struct {
		codes []string
		words string
	}{
		{d.Purposes.DirectCare, "direct care"},
		{d.Purposes.BreakGlass, "emergency (break glass) access"},
		{d.Purposes.SelfAccess, "a person's access to their own record"},
		{d.Purposes.AuditReview, "reviewing the audit trail and the record's quality"},
	} {
		if slices.Contains(p.codes, code) {
			uses = append(uses, p.words)
		}
	}
	if len(uses) == 0 {
		return "not a purpose the agreement allows"
	}
	return strings.Join(uses, " or ")
}

// redactionWhy says why pointer p is removed for role class cls from a
// record of categories cats.
func (d *dsa) redactionWhy(p, cls string, cats []string) string {
	var why []string
	if slices.Contains(cats, "safeguarding") && !slices.Contains(d.SafeguardingDetailClasses, cls) && slices.Contains(d.Redactions["safeguarding"], p) {
		why = append(why, "safeguarding details stay with "+classList(d.SafeguardingDetailClasses)+": others see that the alert exists, not what it says")
	}
	for _, cat := range d.SummaryOnly[cls] {
		if slices.Contains(cats, cat) && slices.Contains(d.Redactions["care-package-summary"], p) {
			why = append(why, ClassWords(cls)+" see only a summary of records of "+CategoryWords(cat))
		}
	}
	return strings.Join(why, "; ")
}

// Agreement is the data sharing agreement of one policy version in plain
// words: who takes part, which role classes see which categories of
// record and for which purposes, emergency access, objection, people's
// rights, and the rules with their descriptions. [Engine.Agreement] builds
// it from the version's data.json and rule annotations.
type Agreement struct {
	Revision      string             `json:"revision"`
	Name          string             `json:"name"`
	Organisations []AgreementOrg     `json:"organisations"`
	Kinds         []AgreementKind    `json:"kinds"`
	RoleClasses   []AgreementClass   `json:"role_classes"`
	Categories    []CategoryAccess   `json:"categories"`
	Purposes      []AgreementPurpose `json:"purposes"`
	// BreakGlass is who may use emergency access and what follows it.
	BreakGlass BreakGlass `json:"break_glass"`
	// Objection is how a person's objection to sharing works.
	Objection Objection `json:"objection"`
	// RelationshipWindowDays is how long an encounter or referral counts
	// as a care relationship.
	RelationshipWindowDays int `json:"relationship_window_days"`
	// AccessReportKinds and RightsKinds are the kinds of organisation
	// whose staff fetch a person's access report and handle their
	// rights requests for them.
	AccessReportKinds []string `json:"access_report_kinds"`
	RightsKinds       []string `json:"rights_kinds"`
	Rules             []Rule   `json:"rules"`
}

// AgreementOrg is one organisation of the agreement.
type AgreementOrg struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Shares is whether its kind reads or writes anything.
	Shares bool `json:"shares"`
}

// AgreementKind is what one kind of organisation may do.
type AgreementKind struct {
	Kind        string   `json:"kind"`
	Words       string   `json:"words"`
	Reads       string   `json:"reads"`
	ReadsWords  string   `json:"reads_words"`
	Writes      string   `json:"writes"`
	WritesWords string   `json:"writes_words"`
	NHS         bool     `json:"nhs"`
	NeverSees   []string `json:"never_sees"`
	NeverWords  []string `json:"never_sees_words"`
	ReadsAudit  bool     `json:"reads_audit"`
	Shares      bool     `json:"shares"`
}

// AgreementClass is one role class: the job roles in it and what it sees.
type AgreementClass struct {
	Class              string   `json:"class"`
	Words              string   `json:"words"`
	Roles              []string `json:"roles"`
	SubjectKinds       []string `json:"subject_kinds,omitempty"`
	Categories         []string `json:"categories"`
	SummaryOnly        []string `json:"summary_only,omitempty"`
	BreakGlass         bool     `json:"break_glass"`
	Restricted         bool     `json:"restricted"`
	SafeguardingDetail bool     `json:"safeguarding_detail"`
	ReadsAudit         bool     `json:"reads_audit"`
	ApprovesPolicy     bool     `json:"approves_policy"`
	HandlesRights      bool     `json:"handles_rights"`
	RunsDataQuality    bool     `json:"runs_data_quality"`
}

// CategoryAccess is who sees one category of record.
type CategoryAccess struct {
	Category string `json:"category"`
	Words    string `json:"words"`
	// Classes are the role classes that see it (ClassWords: in words).
	Classes     []string `json:"classes"`
	ClassWords  []string `json:"class_words"`
	SummaryOnly []string `json:"summary_only,omitempty"`
	// AlertOnly are the role classes that see only that a safeguarding
	// concern exists, not its details (they are not in
	// safeguarding_detail_classes); AlertOnlyWords in words.
	AlertOnly      []string `json:"alert_only,omitempty"`
	AlertOnlyWords []string `json:"alert_only_words,omitempty"`
	// NeverKinds are the kinds of organisation that never see it.
	NeverKinds []string `json:"never_kinds,omitempty"`
	NeverWords []string `json:"never_words,omitempty"`
}

// AgreementPurpose is one purpose of use and its codes.
type AgreementPurpose struct {
	Purpose string   `json:"purpose"`
	Words   string   `json:"words"`
	Codes   []string `json:"codes"`
}

// BreakGlass is what emergency access requires and how it is reviewed.
type BreakGlass struct {
	Classes     []string `json:"classes"`
	ClassWords  []string `json:"class_words"`
	Kinds       []string `json:"kinds"`
	KindWords   []string `json:"kind_words"`
	Codes       []string `json:"purpose_codes"`
	Description string   `json:"description"`
	Reviewers   []string `json:"reviewers"`
}

// Objection is how an objection to sharing works.
type Objection struct {
	Description string `json:"description"`
	// Stops are the kinds of organisation an objection stops (they read
	// by care relationship); Continues those it does not.
	Stops          []string `json:"stops"`
	StopsWords     []string `json:"stops_words"`
	Continues      []string `json:"continues"`
	ContinuesWords []string `json:"continues_words"`
}

// Agreement builds the plain-English agreement of this version.
func (e *Engine) Agreement() (*Agreement, error) {
	d, err := parseAgreement(e.data)
	if err != nil {
		return nil, err
	}
	a := &Agreement{Revision: e.revision, Name: d.Agreement, RelationshipWindowDays: d.RelationshipWindowDays,
		AccessReportKinds: nonNil(d.AccessReportKinds), RightsKinds: nonNil(d.RightsKinds), Rules: e.Rules()}
	shares := func(kind string) bool {
		k, ok := d.Kinds[kind]
		return ok && ((k.Reads != "" && k.Reads != "none") || (k.Writes != "" && k.Writes != "none"))
	}
	for _, code := range slices.Sorted(maps.Keys(d.Organisations)) {
		o := d.Organisations[code]
		a.Organisations = append(a.Organisations, AgreementOrg{Code: code, Name: o.Name, Kind: o.Kind, Shares: shares(o.Kind)})
	}
	for _, kind := range slices.Sorted(maps.Keys(d.Kinds)) {
		k := d.Kinds[kind]
		a.Kinds = append(a.Kinds, AgreementKind{Kind: kind, Words: KindWords(kind), Reads: k.Reads, ReadsWords: readsWords(k.Reads),
			Writes: k.Writes, WritesWords: writesWords(k.Writes), NHS: k.NHS, NeverSees: nonNil(k.ExcludedCategories), NeverWords: categoryList(k.ExcludedCategories),
			ReadsAudit: k.ReadsAudit, Shares: shares(kind)})
	}
	classes := slices.Sorted(maps.Keys(d.RoleClasses))
	for _, cls := range classes {
		c := d.RoleClasses[cls]
		a.RoleClasses = append(a.RoleClasses, AgreementClass{Class: cls, Words: ClassWords(cls), Roles: nonNil(c.Roles), SubjectKinds: c.SubjectKinds,
			Categories: nonNil(c.Categories), SummaryOnly: d.SummaryOnly[cls], BreakGlass: c.BreakGlass, Restricted: c.Restricted,
			SafeguardingDetail: slices.Contains(d.SafeguardingDetailClasses, cls), ReadsAudit: c.Audit, ApprovesPolicy: c.ApprovePolicy,
			HandlesRights: c.Rights, RunsDataQuality: c.DataQuality})
	}
	for _, cat := range d.Vocabulary {
		ca := CategoryAccess{Category: cat, Words: CategoryWords(cat), Classes: []string{}, ClassWords: []string{}}
		for _, cls := range classes {
			if slices.Contains(d.RoleClasses[cls].Categories, cat) {
				if cat == "safeguarding" && !slices.Contains(d.SafeguardingDetailClasses, cls) {
					ca.AlertOnly, ca.AlertOnlyWords = append(ca.AlertOnly, cls), append(ca.AlertOnlyWords, ClassWords(cls))
					continue
				}
				ca.Classes = append(ca.Classes, cls)
				ca.ClassWords = append(ca.ClassWords, ClassWords(cls))
				if slices.Contains(d.SummaryOnly[cls], cat) {
					ca.SummaryOnly = append(ca.SummaryOnly, cls)
				}
			}
		}
		for _, kind := range slices.Sorted(maps.Keys(d.Kinds)) {
			if shares(kind) && slices.Contains(d.Kinds[kind].ExcludedCategories, cat) {
				ca.NeverKinds = append(ca.NeverKinds, kind)
				ca.NeverWords = append(ca.NeverWords, KindWords(kind))
			}
		}
		a.Categories = append(a.Categories, ca)
	}
	for _, p := range []struct {
		name, words string
		codes       []string
	}{
		{"direct_care", "the direct care of the person (treatment, continuity of care)", d.Purposes.DirectCare},
		{"break_glass", "emergency (break glass) access", d.Purposes.BreakGlass},
		{"self_access", "a person reading their own record", d.Purposes.SelfAccess},
		{"audit_review", "reviewing the audit trail and the quality of the record", d.Purposes.AuditReview},
	} {
		a.Purposes = append(a.Purposes, AgreementPurpose{Purpose: p.name, Words: p.words, Codes: nonNil(p.codes)})
	}
	bg := BreakGlass{Classes: []string{}, ClassWords: []string{}, Kinds: []string{}, KindWords: []string{}, Codes: nonNil(d.Purposes.BreakGlass), Reviewers: []string{}}
	if r, ok := e.Rule("PURPOSE-2-break-glass"); ok {
		bg.Description = r.Description
	}
	for _, cls := range classes {
		c := d.RoleClasses[cls]
		if c.BreakGlass {
			bg.Classes, bg.ClassWords = append(bg.Classes, cls), append(bg.ClassWords, ClassWords(cls))
		}
		if c.Audit {
			bg.Reviewers = append(bg.Reviewers, ClassWords(cls))
		}
	}
	ob := Objection{Stops: []string{}, StopsWords: []string{}, Continues: []string{}, ContinuesWords: []string{}}
	if r, ok := e.Rule("OBJ-5-objection"); ok {
		ob.Description = r.Description
	}
	for _, kind := range slices.Sorted(maps.Keys(d.Kinds)) {
		k := d.Kinds[kind]
		if k.NHS && shares(kind) {
			bg.Kinds, bg.KindWords = append(bg.Kinds, kind), append(bg.KindWords, KindWords(kind))
		}
		switch {
		case k.Reads == "relationship":
			ob.Stops, ob.StopsWords = append(ob.Stops, kind), append(ob.StopsWords, KindWords(kind))
		case shares(kind):
			ob.Continues, ob.ContinuesWords = append(ob.Continues, kind), append(ob.ContinuesWords, KindWords(kind))
		}
	}
	a.BreakGlass, a.Objection = bg, ob
	return a, nil
}

// CategoryWords says what a record category holds.
func CategoryWords(cat string) string {
	if w, ok := categoryWords[cat]; ok {
		return w
	}
	return cat
}

var categoryWords = map[string]string{
	"demographics":   "name, date of birth, address and NHS number",
	"contacts":       "family, carers and other contacts",
	"directory":      "the organisations and staff involved",
	"care-plan":      "care and support plans",
	"care-package":   "the package of care (who visits, when)",
	"visit":          "home-care visit notes",
	"medication":     "help with medication",
	"incident":       "falls and other incidents",
	"alert":          "alerts (that a safeguarding concern exists)",
	"safeguarding":   "safeguarding details",
	"financial":      "money and finances",
	"opinion":        "professional opinions and assessments",
	"consent":        "consent and objections to sharing",
	"provenance":     "who recorded what, and when",
	"audit":          "the audit trail of who looked at records",
	"rights-request": "requests to correct or copy a record",
	"cohort":         "lists of people an organisation cares for (for bulk transfers)",
	"other":          "other social care records",
}

// ClassWords names a role class in words.
func ClassWords(cls string) string {
	if w, ok := classWords[cls]; ok {
		return w
	}
	return cls
}

var classWords = map[string]string{
	"clinical":    "clinical staff",
	"admin":       "administrative staff",
	"social-work": "social workers",
	"care":        "care workers",
	"system":      "NHS computer systems acting for direct care",
	"ig":          "information governance leads",
	"caldicott":   "the Caldicott Guardian",
}

func categoryList(cats []string) []string {
	ws := make([]string, len(cats))
	for i, c := range cats {
		ws[i] = CategoryWords(c)
	}
	return ws
}

func classList(cs []string) string {
	ws := make([]string, len(cs))
	for i, c := range cs {
		ws[i] = ClassWords(c)
	}
	return strings.Join(ws, ", ")
}

// KindWords names a kind of organisation in words.
func KindWords(kind string) string {
	if w, ok := kindWords[kind]; ok {
		return w
	}
	return kind
}

var kindWords = map[string]string{
	"nhs-trust":     "NHS trusts (hospitals and community services)",
	"gp-practice":   "GP practices",
	"council-asc":   "the council's adult social care",
	"care-provider": "care providers the council commissions",
	"other":         "other organisations",
}

func readsWords(r string) string {
	switch r {
	case "relationship":
		return "the records of people they have a care relationship with, unless the person objected"
	case "known-to-council":
		return "the records of people known to the council"
	case "own-records":
		return "only what their own organisation wrote"
	case "", "none":
		return "nothing"
	}
	return r
}

func writesWords(w string) string {
	switch w {
	case "any":
		return "any record"
	case "provider-named":
		return "for people whose care package names them, under their own name"
	case "", "none":
		return "nothing"
	}
	return w
}

// Package retention applies the retention schedule of the policy data
// (policy.Schedule) to the records the gateway stores: it lists what is
// due for disposal for appraisal (Appraise), keeps the decisions people
// make about it (Store: legal holds, extensions, disposals proposed and
// approved), and never destroys anything by itself. The gateway's HTTP
// edge (gateway/retention.go) decides who may do what by the policy,
// purges what an approved disposal names (storage.Resources.Purge) and
// writes the destruction record to the audit trail.
//
// How the dates are worked out, per person (the patient compartment):
//
//   - death: Patient.deceasedDateTime; deceasedBoolean true without a
//     date counts from the Patient version that first said so.
//   - end of care: the person's care has ended when every EpisodeOfCare
//     of theirs is finished, cancelled or entered-in-error, or has a
//     period.end; it ended at the latest period.end (or, without one, at
//     the version that finished it). Death ends care too: end of care is
//     the earlier of the two when both are known. A person with no
//     EpisodeOfCare at all is taken to have ended care at their last
//     entry. An open episode and no death: care has not ended, nothing
//     of the person's counting from it is due.
//   - last entry: the latest meta.lastUpdated of any version of any
//     resource in the person's compartment.
//
// Each resource takes the rule of its record categories that keeps it
// longest; resources are listed per person and per governing category.
// Every version is read (deleted resources keep their history, and a
// disposal removes history too), so the walk costs one read of the store.
// The Patient resource goes last: it is due only when everything else of
// the person is.
package retention

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/search"
	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/policy"
)

// Source is what the appraisal reads: every stored version of a type.
type Source interface {
	Versions(ctx context.Context, resourceType string, fn func(*store.Version) error) error
}

// Item is one person's records of one category that share a rule and a
// due date: a line of the appraisal list, and of a disposal.
type Item struct {
	Patient  string `json:"patient"`
	Category string `json:"category"`
	Rule     string `json:"rule"`
	Years    int    `json:"years"`
	From     string `json:"from"`
	// Trigger is the date the period counts from; Due when it fell due.
	Trigger time.Time `json:"trigger"`
	Due     time.Time `json:"due"`
	// Resources are "Type/id" references; Versions counts their stored
	// versions.
	Resources []string `json:"resources"`
	Versions  int      `json:"versions"`
	// Held lists the legal holds in force on these records; a held item
	// is never approvable. Extended lists the extensions applied.
	Held     []string `json:"held,omitempty"`
	Extended []string `json:"extended,omitempty"`
}

// Approvable reports whether the item may be disposed of now.
func (it Item) Approvable(today time.Time) bool {
	return len(it.Held) == 0 && !it.Due.After(today)
}

// resource is what the walk keeps of one resource.
type resource struct {
	typ, id    string
	patient    string
	categories []string
	versions   int
	last       time.Time
	latest     int64          // the newest non-deleted version read
	obj        map[string]any // its content, for episodes and patients
	deceasedAt time.Time      // Patient: first version saying deceased without a date
}

type person struct {
	patient   string
	resources []*resource
}

// Appraise lists, as of today, every person's records and when each falls
// due under schedule, with the holds and extensions among decisions
// applied. Items not yet due are included (Due after today): callers
// filter with Due or Approvable.
func Appraise(ctx context.Context, src Source, schedule *policy.Schedule, decisions []*Decision, today time.Time) ([]Item, error) {
	people := map[string]*person{}
	for _, typ := range fhir.ResourceTypes {
		if typ == "AuditEvent" || (typ != "Patient" && !slices.Contains(search.CompartmentTypes(), typ)) {
			continue
		}
		byID := map[string]*resource{}
		err := src.Versions(ctx, typ, func(v *store.Version) error {
			r := byID[v.ID]
			if r == nil {
				r = &resource{typ: typ, id: v.ID}
				byID[v.ID] = r
			}
			r.versions++
			if v.LastUpdated.After(r.last) {
				r.last = v.LastUpdated
			}
			if v.Deleted || len(v.JSON) == 0 {
				return nil
			}
			obj, err := fhir.DecodeObject(v.JSON)
			if err != nil {
				return err
			}
			a := policy.Attributes(typ, obj)
			if a.Patient != "" {
				r.patient = a.Patient
			}
			for _, c := range a.Categories {
				if !slices.Contains(r.categories, c) {
					r.categories = append(r.categories, c)
				}
			}
			if typ == "Patient" {
				if b, _ := obj["deceasedBoolean"].(bool); b && (r.deceasedAt.IsZero() || v.LastUpdated.Before(r.deceasedAt)) {
					r.deceasedAt = v.LastUpdated
				}
			}
			if v.VersionID > r.latest {
				r.latest, r.obj = v.VersionID, obj
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, r := range byID {
			if typ == "Patient" && r.patient == "" {
				r.patient = "Patient/" + r.id
			}
			if r.patient == "" {
				continue // about no one person: not appraised here
			}
			p := people[r.patient]
			if p == nil {
				p = &person{patient: r.patient}
				people[r.patient] = p
			}
			p.resources = append(p.resources, r)
		}
	}
	var items []Item
	for _, pat := range sortedKeys(people) {
		items = append(items, appraisePerson(people[pat], schedule, decisions)...)
	}
	return items, nil
}

// dates are a person's triggers; zero when not known or not reached.
type dates struct {
	death, endOfCare, lastEntry time.Time
}

func personDates(p *person) dates {
	var d dates
	open, episodes := false, 0
	var careEnd time.Time
	for _, r := range p.resources {
		if r.last.After(d.lastEntry) {
			d.lastEntry = r.last
		}
		switch r.typ {
		case "Patient":
			if r.obj != nil {
				if t, ok := fhirTime(r.obj["deceasedDateTime"]); ok {
					d.death = t
				} else if b, _ := r.obj["deceasedBoolean"].(bool); b {
					d.death = r.deceasedAt
				}
			}
		case "EpisodeOfCare":
			if r.obj == nil {
				continue // deleted: it no longer says anything about care
			}
			episodes++
			status, _ := r.obj["status"].(string)
			period, _ := r.obj["period"].(map[string]any)
			end, hasEnd := fhirTime(period["end"])
			switch {
			case hasEnd:
				careEnd = later(careEnd, end)
			case status == "finished" || status == "cancelled" || status == "entered-in-error":
				careEnd = later(careEnd, r.last)
			default:
				open = true
			}
		}
	}
	switch {
	case episodes == 0:
		d.endOfCare = d.lastEntry
	case !open:
		d.endOfCare = careEnd
	}
	if !d.death.IsZero() && (d.endOfCare.IsZero() || d.death.Before(d.endOfCare)) {
		d.endOfCare = d.death
	}
	return d
}

func appraisePerson(p *person, schedule *policy.Schedule, decisions []*Decision) []Item {
	d := personDates(p)
	trigger := func(from string) time.Time {
		switch from {
		case policy.FromDeath:
			return d.death
		case policy.FromLastEntry:
			return d.lastEntry
		}
		return d.endOfCare
	}
	type key struct{ category, rule string }
	groups := map[key]*Item{}
	var patientRes []*resource
	for _, r := range p.resources {
		if r.typ == "Patient" {
			patientRes = append(patientRes, r)
			continue
		}
		cat, rule, t, due := governing(r, schedule, trigger)
		k := key{cat, rule.Rule}
		it := groups[k]
		if it == nil {
			it = &Item{Patient: p.patient, Category: cat, Rule: rule.Rule, Years: rule.Years, From: rule.From, Trigger: t, Due: due}
			groups[k] = it
		}
		it.Resources = append(it.Resources, r.typ+"/"+r.id)
		it.Versions += r.versions
	}
	var items []Item
	for _, k := range sortedKeys2(groups) {
		items = append(items, *groups[k])
	}
	// The Patient goes last: due when its own rule and everything else of
	// the person are.
	for _, r := range patientRes {
		cat, rule, t, due := governing(r, schedule, trigger)
		for _, it := range items {
			if it.Due.IsZero() {
				due = time.Time{}
				break
			}
			if !due.IsZero() && it.Due.After(due) {
				due = it.Due
			}
		}
		items = append(items, Item{Patient: p.patient, Category: cat, Rule: rule.Rule, Years: rule.Years, From: rule.From,
			Trigger: t, Due: due, Resources: []string{"Patient/" + r.id}, Versions: r.versions})
	}
	for i := range items {
		applyDecisions(&items[i], decisions)
	}
	// The Patient cannot go while anything else of the person is held or
	// extended past it.
	if n := len(patientRes); n > 0 {
		last := &items[len(items)-1]
		for _, it := range items[:len(items)-n] {
			last.Held = appendNew(last.Held, it.Held...)
			if !last.Due.IsZero() && (it.Due.IsZero() || it.Due.After(last.Due)) {
				last.Due = it.Due
			}
		}
	}
	for i := range items {
		slices.Sort(items[i].Resources)
	}
	return items
}

// governing is the rule of r's categories that keeps it longest, with its
// trigger and due date (zero: not due, the trigger not reached). A
// resource with no category is "other".
func governing(r *resource, schedule *policy.Schedule, trigger func(string) time.Time) (string, policy.RetentionRule, time.Time, time.Time) {
	cats := r.categories
	if len(cats) == 0 {
		cats = []string{"other"}
	}
	slices.Sort(cats)
	var bestCat string
	var best policy.RetentionRule
	var bestT, bestDue time.Time
	for i, c := range cats {
		rule := schedule.For(c)
		t := trigger(rule.From)
		var due time.Time
		if !t.IsZero() {
			due = t.AddDate(rule.Years, 0, 0)
		}
		if i == 0 || laterDue(due, bestDue) {
			bestCat, best, bestT, bestDue = c, rule, t, due
		}
	}
	return bestCat, best, bestT, bestDue
}

// laterDue: a is later than b (zero, never due, is latest of all).
func laterDue(a, b time.Time) bool {
	if b.IsZero() {
		return false
	}
	return a.IsZero() || a.After(b)
}

// applyDecisions marks the holds in force on the item and moves its due
// date to the latest extension that applies.
func applyDecisions(it *Item, decisions []*Decision) {
	for _, d := range decisions {
		if d.Patient != it.Patient || (d.Category != "" && d.Category != it.Category) || d.State != StateActive {
			continue
		}
		switch d.Kind {
		case KindHold:
			it.Held = append(it.Held, d.ID)
		case KindExtend:
			if d.Until != nil && !it.Due.IsZero() && d.Until.After(it.Due) {
				it.Due = *d.Until
			}
			it.Extended = append(it.Extended, d.ID)
		}
	}
}

// Due are the items due on or before today (held ones included: the list
// shows them as held, never as approvable).
func Due(items []Item, today time.Time) []Item {
	var out []Item
	for _, it := range items {
		if !it.Due.IsZero() && !it.Due.After(today) {
			out = append(out, it)
		}
	}
	return out
}

func fhirTime(v any) (time.Time, bool) {
	s, _ := v.(string)
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func appendNew(dst []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedKeys2[K interface {
	~struct{ category, rule string }
}, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b K) int {
		x, y := struct{ category, rule string }(a), struct{ category, rule string }(b)
		return strings.Compare(x.category+"\x00"+x.rule, y.category+"\x00"+y.rule)
	})
	return out
}

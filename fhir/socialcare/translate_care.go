package socialcare

import (
	"encoding/json"
	"strconv"
)

// packageLine translates a care package line into a ServiceRequest: the
// council's order to a provider for a service, with its planned hours and
// visit pattern.
func (b *builder) packageLine(l *PackageLine) {
	b.begin(&l.Entry)
	status := "active"
	if l.Status != "" {
		status, _ = lineStatuses.canonical(l.Status)
	}
	st, _ := cldServiceTypes.canonical(l.ServiceType)
	cats := []any{concept("", coding(CSCLDServiceType, st, st))}
	if l.DeliveryMechanism != "" {
		dm, _ := cldDeliveryMechanisms.canonical(l.DeliveryMechanism)
		cats = append(cats, concept("", coding(CSCLDDelivery, dm, dm)))
	}
	au := b.actor(l.Author)
	o := obj{
		"identifier": b.sourceIdentifier("care-package-line", l.ID),
		"status":     status,
		"intent":     "order",
		"category":   cats,
		"subject":    b.patient,
		"authoredOn": l.Recorded,
		"requester":  au.who,
	}
	if l.ServiceComponent != "" {
		sc, _ := cldServiceComponents.canonical(l.ServiceComponent)
		o["code"] = concept("", coding(CSCLDServiceComponent, sc, sc))
	}
	if vp := l.VisitPattern; vp != nil {
		rep := obj{"boundsPeriod": period(l.Start, l.End)}
		if len(vp.Days) > 0 {
			days := make([]any, len(vp.Days))
			for i, d := range vp.Days {
				days[i], _ = weekDays.canonical(d)
			}
			rep["dayOfWeek"] = days
		}
		if len(vp.Times) > 0 {
			times := make([]any, len(vp.Times))
			for i, t := range vp.Times {
				times[i] = t + ":00"
			}
			rep["timeOfDay"] = times
		}
		if vp.MinutesPerVisit > 0 {
			rep["duration"] = json.Number(strconv.Itoa(vp.MinutesPerVisit))
			rep["durationUnit"] = "min"
		}
		o["occurrenceTiming"] = obj{"repeat": rep}
		if vp.CarersPerVisit > 0 {
			o["extension"] = list(ext(ExtCarersPerVisit, "valuePositiveInt", json.Number(strconv.Itoa(vp.CarersPerVisit))))
		}
	} else {
		o["occurrencePeriod"] = period(l.Start, l.End)
	}
	switch {
	case l.PlannedHoursPerWeek != "":
		o["quantityQuantity"] = obj{"value": l.PlannedHoursPerWeek, "unit": "hours per week", "system": SystemUCUM, "code": "h/wk"}
	case l.PlannedUnitsPerWeek != "":
		o["quantityQuantity"] = obj{"value": l.PlannedUnitsPerWeek, "unit": "units per week"}
	}
	if pr := l.Provider; pr != nil {
		o["performer"] = list(b.provider(pr))
	}
	r := b.add(gServiceRequest, "ServiceRequest", b.id("ServiceRequest", l.ID), o)
	b.lines[l.ID] = r
	b.provenance("care-package-line", &l.Entry, r)
}

func (b *builder) provider(p *Provider) obj {
	key := "cqc|" + p.CQCLocationID
	if p.ODS != "" {
		key = "ods|" + p.ODS
	}
	return b.addOnce(gOrganization, "Organization", b.id("Organization", key), func() obj {
		var ids []any
		if p.ODS != "" {
			ids = append(ids, obj{"system": SystemODS, "value": p.ODS})
		}
		if p.CQCLocationID != "" {
			ids = append(ids, obj{"system": SystemCQCLocation, "value": p.CQCLocationID})
		}
		o := obj{"identifier": ids}
		if p.Name != "" {
			o["name"] = p.Name
		}
		setMeta(o, "Organization")
		return o
	})
}

// carePlan translates the care and support plan into a CarePlan with a Goal
// per outcome and an Observation per assessed need.
func (b *builder) carePlan(cp *CarePlan) {
	b.begin(&cp.Entry)
	au := b.actor(cp.Author)
	targets := make([]obj, 0, 1+len(cp.Needs)+len(cp.Outcomes))
	needs := make(map[string]obj, len(cp.Needs))
	var needRefs []obj
	for _, n := range cp.Needs {
		r := b.add(gPlanObservation, "Observation", b.id("Observation", "need|"+cp.ID+"|"+n.ID), obj{
			"meta":        meta("Observation"),
			"identifier":  b.sourceIdentifier("need", cp.ID+"/"+n.ID),
			"status":      "final",
			"category":    list(concept("", coding(CSObservationCategory, "care-and-support-plan", "Care and support plan"))),
			"code":        concept("", coding(CSObservation, "assessed-need", "Assessed need")),
			"subject":     b.patient,
			"performer":   list(au.who),
			"valueString": n.Text,
		})
		needs[n.ID] = r
		needRefs = append(needRefs, r)
		targets = append(targets, r)
	}
	var goalRefs []obj
	for _, g := range cp.Outcomes {
		status := "active"
		if g.Status != "" {
			status, _ = goalStatuses.canonical(g.Status)
		}
		o := obj{
			"identifier":      b.sourceIdentifier("outcome", cp.ID+"/"+g.ID),
			"lifecycleStatus": status,
			"description":     concept(g.Text),
			"subject":         b.patient,
			"expressedBy":     b.patient,
		}
		if g.TargetDate != "" {
			o["target"] = list(obj{"dueDate": g.TargetDate})
		}
		if len(g.NeedIDs) > 0 {
			addr := make([]any, 0, len(g.NeedIDs))
			for _, id := range g.NeedIDs {
				addr = append(addr, needs[id])
			}
			o["addresses"] = addr
		}
		r := b.add(gGoal, "Goal", b.id("Goal", cp.ID+"|"+g.ID), o)
		goalRefs = append(goalRefs, r)
		targets = append(targets, r)
	}
	status, _ := planStatuses.canonical(cp.Status)
	activities := make([]any, 0, len(b.lines)+len(cp.PlannedSupport))
	for i := range b.rec.CarePackage {
		activities = append(activities, obj{"reference": b.lines[b.rec.CarePackage[i].ID]})
	}
	for _, s := range cp.PlannedSupport {
		detail := obj{"status": activityStatus(status), "description": s.Text}
		if s.PackageLineID != "" {
			detail["extension"] = list(ext(ExtPackageLine, "valueReference", b.lines[s.PackageLineID]))
		}
		activities = append(activities, obj{"detail": detail})
	}
	o := obj{
		"identifier": b.sourceIdentifier("care-plan", cp.ID),
		"status":     status,
		"intent":     "plan",
		"category": list(concept("",
			coding(SystemSNOMED, snomedCarePlan, "Care plan"),
			coding(CSCarePlanCategory, "care-and-support-plan", "Care and support plan"))),
		"title":   "Care and support plan",
		"subject": b.patient,
		"period":  period(cp.Start, cp.End),
		"author":  au.who,
	}
	if b.episode != nil {
		o["supportingInfo"] = list(b.episode)
	}
	if len(needRefs) > 0 {
		info, _ := o["supportingInfo"].([]any)
		for _, r := range needRefs {
			info = append(info, r)
		}
		o["supportingInfo"] = info
	}
	if len(goalRefs) > 0 {
		o["goal"] = list(goalRefs...)
	}
	if len(activities) > 0 {
		o["activity"] = activities
	}
	var exts []any
	if cp.AgreedWithPerson != nil {
		exts = append(exts, ext(ExtAgreedWithPerson, "valueBoolean", *cp.AgreedWithPerson))
	}
	if cp.NextReviewDate != "" {
		exts = append(exts, ext(ExtNextReviewDate, "valueDate", cp.NextReviewDate))
	}
	if exts != nil {
		o["extension"] = exts
	}
	r := b.add(gCarePlan, "CarePlan", b.id("CarePlan", cp.ID), o)
	b.provenance("care-plan", &cp.Entry, append([]obj{r}, targets...)...)
}

// activityStatus is the status of a plan's described activities given the
// plan's status.
func activityStatus(planStatus string) string {
	switch planStatus {
	case "draft":
		return "not-started"
	case "active":
		return "in-progress"
	case "on-hold":
		return "on-hold"
	case "completed":
		return "completed"
	case "revoked":
		return "stopped"
	}
	return "unknown"
}

// assessment translates an assessment or review into an Encounter.
func (b *builder) assessment(a *Assessment) {
	b.begin(&a.Entry)
	typ, _ := assessmentTypes.canonical(a.Type)
	au := b.actor(a.Author)
	var kind, event obj
	if typ == "assessment" {
		kind = concept("", coding(SystemSNOMED, snomedAssessment, "Assessment of health and social care needs"))
		event = concept("", coding(CSCLDEventType, "Assessment", "Assessment"))
	} else {
		kind = concept("", coding(CSEncounterType, "care-and-support-review", "Care and support review"))
		event = concept("", coding(CSCLDEventType, "Review", "Review"))
	}
	class := coding(csActCode, "HH", "home health")
	switch setting, _ := settings.canonical(a.Setting); setting {
	case "virtual":
		class = coding(csActCode, "VR", "virtual")
	case "office":
		class = coding(csActCode, "AMB", "ambulatory")
	}
	status := "in-progress"
	if a.End != "" {
		status = "finished"
	}
	o := obj{
		"meta":            meta("Encounter"),
		"identifier":      b.sourceIdentifier("assessment", a.ID),
		"status":          status,
		"class":           class,
		"type":            list(kind, event),
		"subject":         b.patient,
		"participant":     list(obj{"individual": au.who}),
		"period":          period(a.Start, a.End),
		"serviceProvider": au.org,
	}
	if a.AssessmentType != "" {
		o["serviceType"] = concept(a.AssessmentType)
	}
	if b.episode != nil {
		o["episodeOfCare"] = list(b.episode)
	}
	if a.Outcome != "" {
		out, _ := cldEventOutcomes.canonical(a.Outcome)
		o["extension"] = list(ext(ExtEventOutcome, "valueCodeableConcept", concept("", coding(CSCLDEventOutcome, out, out))))
	}
	r := b.add(gAssessment, "Encounter", b.id("Encounter", "assessment|"+a.ID), o)
	b.provenance("assessment", &a.Entry, r)
}

// visit translates a home-care visit into an Encounter, and each of its
// notes and significant occurrences into an Observation marked fact or
// opinion.
func (b *builder) visit(v *Visit) {
	b.begin(&v.Entry)
	au := b.actor(v.Author)
	worker := au
	if v.Worker != nil {
		worker = b.actor(v.Worker)
	}
	vs, _ := visitStatuses.canonical(v.Status)
	status := map[string]string{
		"completed": "finished", "in-progress": "in-progress", "planned": "planned",
		"missed": "cancelled", "cancelled": "cancelled",
	}[vs]
	types := []any{concept("", coding(SystemSNOMED, snomedHomeVisit, "Home visit"))}
	for _, s := range v.Services {
		types = append(types, concept(s))
	}
	o := obj{
		"meta":            meta("Encounter"),
		"identifier":      b.sourceIdentifier("visit", v.ID),
		"status":          status,
		"class":           coding(csActCode, "HH", "home health"),
		"type":            types,
		"subject":         b.patient,
		"participant":     list(obj{"individual": worker.who}),
		"serviceProvider": worker.org,
	}
	var exts []any
	if v.PlannedStart != "" || v.PlannedEnd != "" {
		exts = append(exts, ext(ExtPlannedPeriod, "valuePeriod", period(v.PlannedStart, v.PlannedEnd)))
	}
	if vs == "missed" || vs == "cancelled" {
		exts = append(exts, ext(ExtVisitStatus, "valueCoding", coding(CSVisitStatus, vs, "")))
	}
	if exts != nil {
		o["extension"] = exts
	}
	if v.ActualStart != "" || v.ActualEnd != "" {
		o["period"] = period(v.ActualStart, v.ActualEnd)
	}
	if b.episode != nil {
		o["episodeOfCare"] = list(b.episode)
	}
	if v.PackageLineID != "" {
		o["basedOn"] = list(b.lines[v.PackageLineID])
	}
	enc := b.add(gEncounter, "Encounter", b.id("Encounter", "visit|"+v.ID), o)
	b.visits[v.ID] = enc

	when := v.ActualStart
	if when == "" {
		when = v.PlannedStart
	}
	targets := []obj{enc}
	for i, n := range v.Notes {
		targets = append(targets, b.note(v, "note", i, n, enc, worker, when))
	}
	for i, n := range v.Occurrences {
		targets = append(targets, b.note(v, "occurrence", i, n, enc, worker, when))
	}
	b.provenance("visit", &v.Entry, targets...)
}

func (b *builder) note(v *Visit, kind string, i int, n Note, enc obj, worker actor, when string) obj {
	sk, _ := statementKinds.canonical(n.Kind)
	code := coding(CSObservation, "care-note", "Care worker's note")
	if kind == "occurrence" {
		code = coding(CSObservation, "significant-occurrence", "Significant occurrence")
	}
	key := v.ID + "/" + kind + "/" + strconv.Itoa(i)
	o := obj{
		"identifier":  b.sourceIdentifier("visit-"+kind, key),
		"status":      "final",
		"category":    list(statementCategory(sk)),
		"code":        concept("", code),
		"subject":     b.patient,
		"encounter":   enc,
		"performer":   list(worker.who),
		"valueString": n.Text,
	}
	if when != "" {
		o["effectiveDateTime"] = when
	}
	if sk == "opinion" {
		setMeta(o, "Observation", secOpinion())
	} else {
		setMeta(o, "Observation")
	}
	return b.add(gNoteObservation, "Observation", b.id("Observation", kind+"|"+key), o)
}

func statementCategory(kind string) obj {
	if kind == "opinion" {
		return concept("", coding(CSStatementKind, "opinion", "Opinion"))
	}
	return concept("", coding(CSStatementKind, "fact", "Fact"))
}

package validate

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"strings"
	"time"
)

// qty3 is Quantity's qty-3, which every profile of Quantity (Age, Count,
// Distance, Duration, SimpleQuantity) inherits.
var qty3 = invariant{
	key: "qty-3", human: "If a code for the unit is present, the system SHALL also be present",
	expr: "code.empty() or system.exists()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "code") || present(o, "system") },
}

// typeInvariants are the invariants of the R4 data types the served
// resources use, keyed by samply struct name. Element's ele-1 and
// DomainResource's dom-2 to dom-5 are checked by the walk itself.
var typeInvariants = map[string][]invariant{
	"Attachment": {{
		key: "att-1", human: "If the Attachment has data, it SHALL have a contentType",
		expr: "data.empty() or contentType.exists()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "data") || present(o, "contentType") },
	}},
	"ContactPoint": {{
		key: "cpt-2", human: "A system is required if a value is provided.",
		expr: "value.empty() or system.exists()",
		ok:   func(o, _ map[string]any) bool { return !present(o, "value") || present(o, "system") },
	}},
	"Dosage":            {simpleQuantity("maxDosePerAdministration"), simpleQuantity("maxDosePerLifetime")},
	"DosageDoseAndRate": {simpleQuantity("doseQuantity"), simpleQuantity("rateQuantity")},
	"Duration": {qty3, {
		key: "drt-1", human: "There SHALL be a code if there is a value and it SHALL be an expression of time.  If system is present, it SHALL be UCUM.",
		expr: "code.exists() implies ((system = %ucum) and value.exists())",
		ok: func(o, _ map[string]any) bool {
			return !present(o, "code") || (o["system"] == ucum && present(o, "value"))
		},
	}},
	"Age":      {qty3},
	"Count":    {qty3},
	"Distance": {qty3},
	"Extension": {{
		key: "ext-1", human: "Must have either extensions or value[x], not both",
		expr: "extension.exists() != value.exists()",
		ok:   func(o, _ map[string]any) bool { return present(o, "extension") != hasChoice(o, "value") },
	}},
	"Narrative": {{
		key:   "txt-1",
		human: "The narrative SHALL contain only the basic html formatting elements and attributes described in chapters 7-11 (except section 4 of chapter 9) and 15 of the HTML 4.0 standard, <a> elements (either name or href), images and internally contained style attributes",
		expr:  "htmlChecks()",
		ok:    func(o, _ map[string]any) bool { return narrative(o).basic },
	}, {
		key: "txt-2", human: "The narrative SHALL have some non-whitespace content",
		expr: "htmlChecks()",
		ok:   func(o, _ map[string]any) bool { return narrative(o).content },
	}},
	"Period": {{
		key: "per-1", human: "If present, start SHALL have a lower value than end",
		expr: "start.hasValue().not() or end.hasValue().not() or (start <= end)",
		ok:   per1,
	}},
	"Quantity": {qty3},
	"Range": {{
		key: "rng-2", human: "If present, low SHALL have a lower value than high",
		expr: "low.empty() or high.empty() or (low <= high)",
		ok:   rng2,
	}, simpleQuantity("low"), simpleQuantity("high")},
	"Ratio": {{
		key: "rat-1", human: "Numerator and denominator SHALL both be present, or both are absent. If both are absent, there SHALL be some extension present",
		expr: "(numerator.empty() xor denominator.exists()) and (numerator.exists() or extension.exists())",
		ok: func(o, _ map[string]any) bool {
			num, den := present(o, "numerator"), present(o, "denominator")
			return num == den && (num || present(o, "extension"))
		},
	}},
	"Reference": {{
		key: "ref-1", human: "SHALL have a contained resource if a local reference is provided",
		expr: "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))",
		ok:   ref1,
	}},
	"SampledData":  {simpleQuantity("origin")},
	"TimingRepeat": timingRepeat,
}

// ucum is the code system of UCUM units (%ucum in FHIRPath).
const ucum = "http://unitsofmeasure.org"

// simpleQuantity is SimpleQuantity's sqty-1 on element name, which R4 types
// as a SimpleQuantity (the samply model has a plain Quantity).
func simpleQuantity(name string) invariant {
	return invariant{
		key: "sqty-1", human: "The comparator is not used on a SimpleQuantity",
		expr: "comparator.empty()", on: name,
		ok: func(o, _ map[string]any) bool { return !present(o, "comparator") },
	}
}

// timingRepeat are the invariants of Timing.repeat (R4 has no tim-3).
var timingRepeat = []invariant{{
	key: "tim-1", human: "if there's a duration, there needs to be duration units",
	expr: "duration.empty() or durationUnit.exists()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "duration") || present(o, "durationUnit") },
}, {
	key: "tim-2", human: "if there's a period, there needs to be period units",
	expr: "period.empty() or periodUnit.exists()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "period") || present(o, "periodUnit") },
}, {
	key: "tim-4", human: "duration SHALL be a non-negative value",
	expr: "duration.exists() implies duration >= 0",
	ok:   func(o, _ map[string]any) bool { return !negative(o["duration"]) },
}, {
	key: "tim-5", human: "period SHALL be a non-negative value",
	expr: "period.exists() implies period >= 0",
	ok:   func(o, _ map[string]any) bool { return !negative(o["period"]) },
}, {
	key: "tim-6", human: "If there's a periodMax, there must be a period",
	expr: "periodMax.empty() or period.exists()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "periodMax") || present(o, "period") },
}, {
	key: "tim-7", human: "If there's a durationMax, there must be a duration",
	expr: "durationMax.empty() or duration.exists()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "durationMax") || present(o, "duration") },
}, {
	key: "tim-8", human: "If there's a countMax, there must be a count",
	expr: "countMax.empty() or count.exists()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "countMax") || present(o, "count") },
}, {
	key: "tim-9", human: "If there's an offset, there must be a when (and not C, CM, CD, CV)",
	expr: "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))",
	ok:   tim9,
}, {
	key: "tim-10", human: "If there's a timeOfDay, there cannot be a when, or vice versa",
	expr: "timeOfDay.empty() or when.empty()",
	ok:   func(o, _ map[string]any) bool { return !present(o, "timeOfDay") || !present(o, "when") },
}}

func tim9(o, _ map[string]any) bool {
	if !present(o, "offset") {
		return true
	}
	whens, _ := o["when"].([]any)
	if len(whens) == 0 {
		return false
	}
	for _, w := range whens {
		switch w {
		case "C", "CM", "CD", "CV":
			return false
		}
	}
	return true
}

// negative reports whether v is a JSON number below zero.
func negative(v any) bool {
	r, ok := decimal(v)
	return ok && r.Sign() < 0
}

// decimal returns the exact value of the JSON number v.
func decimal(v any) (*big.Rat, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	return new(big.Rat).SetString(string(n))
}

// per1 checks that a Period's start is not after its end.
func per1(o, _ map[string]any) bool {
	start, _ := o["start"].(string)
	end, _ := o["end"].(string)
	if start == "" || end == "" {
		return true
	}
	c, known := compareDateTimes(start, end)
	return !known || c <= 0
}

// compareDateTimes compares two valid FHIR dateTimes the way FHIRPath does:
// at the precision they share, converting times to UTC. known is false when
// they are equal at that precision but one is more precise (FHIRPath's
// empty result), or when either cannot be parsed (reported elsewhere).
func compareDateTimes(a, b string) (c int, known bool) {
	if len(a) > 10 && len(b) > 10 {
		ta, errA := time.Parse(time.RFC3339Nano, a)
		tb, errB := time.Parse(time.RFC3339Nano, b)
		if errA != nil || errB != nil {
			return 0, false
		}
		return ta.Compare(tb), true
	}
	n := min(len(a), len(b), 10)
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c, true
	}
	return 0, min(len(a), 10) == min(len(b), 10) && (len(a) <= 10) == (len(b) <= 10)
}

// rng2 checks that a Range's low is not above its high, when both have
// values in the same unit (FHIRPath cannot compare other units here).
func rng2(o, _ map[string]any) bool {
	low, _ := o["low"].(map[string]any)
	high, _ := o["high"].(map[string]any)
	lv, okL := decimal(low["value"])
	hv, okH := decimal(high["value"])
	if !okL || !okH || !sameUnit(low, high) {
		return true
	}
	return lv.Cmp(hv) <= 0
}

// sameUnit reports whether two Quantities are in the same unit: the same
// system and code when either has a code, otherwise the same unit text.
func sameUnit(a, b map[string]any) bool {
	if present(a, "code") || present(b, "code") {
		return a["system"] == b["system"] && a["code"] == b["code"]
	}
	return a["unit"] == b["unit"]
}

// ref1 checks that a local reference ("#id") names a resource contained in
// the root resource. "#" alone refers to the containing resource.
func ref1(o, root map[string]any) bool {
	ref, _ := o["reference"].(string)
	if !strings.HasPrefix(ref, "#") || ref == "#" {
		return true
	}
	for _, c := range objects(root["contained"]) {
		if c["id"] == ref[1:] {
			return true
		}
	}
	return false
}

// narrativeFacts is what txt-1 and txt-2 need to know about a Narrative div.
type narrativeFacts struct {
	basic   bool // well-formed XHTML of the allowed elements, no event attributes
	content bool // some non-whitespace text, or an image
}

// narrativeElements are the XHTML elements R4 allows in a narrative: the
// basic formatting elements of HTML 4.0 chapters 7 to 11 and 15 (without
// scripts, forms, frames or objects), links and images.
var narrativeElements = map[string]bool{
	"a": true, "abbr": true, "acronym": true, "address": true, "b": true, "bdo": true,
	"big": true, "blockquote": true, "br": true, "caption": true, "cite": true,
	"code": true, "col": true, "colgroup": true, "dd": true, "dfn": true, "div": true,
	"dl": true, "dt": true, "em": true, "h1": true, "h2": true, "h3": true, "h4": true,
	"h5": true, "h6": true, "hr": true, "i": true, "img": true, "kbd": true, "li": true,
	"ol": true, "p": true, "pre": true, "q": true, "samp": true, "small": true,
	"span": true, "strong": true, "sub": true, "sup": true, "table": true,
	"tbody": true, "td": true, "tfoot": true, "th": true, "thead": true, "tr": true,
	"tt": true, "ul": true, "var": true,
}

// narrative parses the div of Narrative o. A div that is missing or not a
// string is reported elsewhere, so it breaks neither invariant here.
func narrative(o map[string]any) narrativeFacts {
	div, ok := o["div"].(string)
	if !ok {
		return narrativeFacts{basic: true, content: true}
	}
	d := xml.NewDecoder(strings.NewReader(div))
	d.Entity = xml.HTMLEntity
	f := narrativeFacts{basic: true}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			f.basic = false
			return f
		}
		switch t := tok.(type) {
		case xml.StartElement:
			f.basic = f.basic && narrativeElements[t.Name.Local] && !eventAttribute(t.Attr)
			f.content = f.content || t.Name.Local == "img"
		case xml.CharData:
			f.content = f.content || strings.TrimSpace(string(t)) != ""
		case xml.ProcInst, xml.Directive:
			f.basic = false
		}
	}
}

// eventAttribute reports whether attrs hold an event handler such as onclick.
func eventAttribute(attrs []xml.Attr) bool {
	for _, a := range attrs {
		if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
			return true
		}
	}
	return false
}

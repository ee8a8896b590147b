package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/gateway"
)

// groupEnv is trustEnv with RJ1 also related (an emergency encounter) to
// persons 02, 06 and 07, so that the group tests can tell membership
// from relationship.
func groupEnv(t *testing.T, cfg gateway.Config) (*env, map[string]*person) {
	t.Helper()
	e, people := trustEnv(t, cfg)
	day := time.Now().UTC().AddDate(0, 0, -3).Format("2006-01-02")
	for _, k := range []string{"02", "06", "07"} {
		p := people[k]
		body := `{"resourceType":"Encounter","id":"rj1-` + k + `","status":"finished",
		 "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER","display":"emergency"},
		 "subject":{"reference":"` + p.patient + `"},"serviceProvider":{"reference":"Organization/trust-rj1"},
		 "period":{"start":"` + day + `T10:00:00Z","end":"` + day + `T14:00:00Z"}}`
		obj, err := fhir.DecodeObject([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Update(context.Background(), &fhir.Resource{Type: "Encounter", ID: "rj1-" + k, Object: obj}, 0); err != nil {
			t.Fatal(err)
		}
		p.byType["Encounter"] = append(p.byType["Encounter"], fhir.Resource{Type: "Encounter", ID: "rj1-" + k, Object: obj})
	}
	return e, people
}

// createGroup POSTs a Group of members (JSON member elements) as the
// env's token and returns its id.
func (e *env) createGroup(t *testing.T, name string, members ...string) string {
	t.Helper()
	body := `{"resourceType":"Group","type":"person","actual":true,"name":"` + name + `",
	 "identifier":[{"system":"https://socialcare-fhir.example.org/Id/cohort","value":"` + name + `"}],
	 "member":[` + strings.Join(members, ",") + `]}`
	r := e.do(http.MethodPost, "/Group", body)
	e.mustStatus(r, http.StatusCreated)
	var g struct{ ID string }
	if err := json.Unmarshal(r.Body, &g); err != nil || g.ID == "" {
		t.Fatalf("created Group: %s", r.Body)
	}
	return g.ID
}

func member(patient string, extra string) string {
	return `{"entity":{"reference":"` + patient + `"}` + extra + `}`
}

// inCompartment keeps what names the person (their Patient, or a
// reference to it).
func inCompartment(rs map[string]string, patient string) map[string]string {
	out := map[string]string{}
	for ref, body := range rs {
		if ref == patient || strings.Contains(body, `"`+patient+`"`) {
			out[ref] = body
		}
	}
	return out
}

// A trust's Group export holds exactly what the trust reads of the
// group's current members: not a member it has no relationship with, nor
// one who objected, nor an inactive member or one whose membership
// ended, nor a person it is related to who is not in the group; and the
// audit records name the group and the patients.
func TestGroupExportHoldsTheVisibleMembersOnly(t *testing.T) {
	e, people := groupEnv(t, gateway.Config{ExportPageSize: 5, ExportFileResources: 4})
	past := time.Now().UTC().AddDate(0, -1, 0).Format("2006-01-02")
	id := e.createGroup(t, "rj1-cohort",
		member(people["01"].patient, `,"period":{"start":"`+past+`"}`),                    // related: exported
		member(people["03"].patient, ""),                                                  // no relationship: absent
		member(people["05"].patient, ""),                                                  // objected: absent
		member(people["06"].patient, `,"inactive":true`),                                  // related, inactive: absent
		member(people["07"].patient, `,"period":{"start":"2020-01-01","end":"`+past+`"}`), // related, ended: absent
		member("Practitioner/not-a-patient", ""),
	)
	// person 02 is related but no member
	want := inCompartment(e.readable(t, map[string]*person{"01": people["01"]}, patientTypes()), people["01"].patient)
	if len(want) < 3 {
		t.Fatalf("the trust reads %d resources of person 01: the fixture relationship is missing", len(want))
	}
	for _, k := range []string{"02", "06", "07"} {
		if len(inCompartment(e.readable(t, map[string]*person{k: people[k]}, []string{"Patient"}), people[k].patient)) == 0 {
			t.Fatalf("the trust cannot read person %s: the test would prove nothing", k)
		}
	}
	status := e.kickOff(t, http.MethodGet, "/Group/"+id+"/$export", "")
	m := e.poll(t, status)
	got := e.download(t, m)
	sameResources(t, got, want)
	for _, k := range []string{"02", "03", "05", "06", "07"} {
		p := people[k].patient
		for ref, body := range got {
			if ref == p || strings.Contains(body, `"`+p+`"`) {
				t.Errorf("%s of person %s was exported", ref, k)
			}
		}
	}
	for ref := range got {
		if strings.HasPrefix(ref, "Group/") {
			t.Errorf("%s exported: the Group is not part of its export", ref)
		}
	}
	if !strings.HasSuffix(m.Request, "/Group/"+id+"/$export") {
		t.Errorf("request %q", m.Request)
	}

	// POST with patient parameters: members only.
	t.Run("patient", func(t *testing.T) {
		body := `{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"` + people["01"].patient + `"}}]}`
		sameResources(t, e.download(t, e.poll(t, e.kickOff(t, http.MethodPost, "/Group/"+id+"/$export", body))), want)
		for _, k := range []string{"02", "06"} {
			body := `{"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":{"reference":"` + people[k].patient + `"}}]}`
			r := e.do(http.MethodPost, "/Group/"+id+"/$export", body, "Accept", "application/fhir+json", "Prefer", "respond-async")
			e.mustStatus(r, http.StatusBadRequest)
			if d := diagnostics(t, r); !strings.Contains(d, "not a current member") {
				t.Errorf("person %s: diagnostics %q", k, d)
			}
		}
	})

	// The audit records: the kick-off names the Group and the members
	// searched; the downloads name person 01 and nobody else.
	events, _, err := e.eng.Audit.Search(context.Background(), audit.Query{Org: "RJ1", Count: 500})
	if err != nil {
		t.Fatal(err)
	}
	var kickOffs, downloads []string
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		switch {
		case bytes.Contains(b, []byte(`"valueString":"$export-download"`)):
			downloads = append(downloads, string(b))
		case bytes.Contains(b, []byte(`"valueString":"$export"`)):
			kickOffs = append(kickOffs, string(b))
		}
	}
	if !slices.ContainsFunc(kickOffs, func(ev string) bool {
		return strings.Contains(ev, `"reference":"Group/`+id+`"`) && strings.Contains(ev, `"reference":"`+people["01"].patient+`"`) &&
			strings.Contains(ev, `"reference":"`+people["03"].patient+`"`) && !strings.Contains(ev, people["06"].patient)
	}) {
		t.Errorf("no kick-off record names the Group and its current members: %v", kickOffs)
	}
	if len(downloads) == 0 {
		t.Fatal("no download audited")
	}
	named := false
	for _, ev := range downloads {
		named = named || strings.Contains(ev, `"reference":"`+people["01"].patient+`"`)
		for _, k := range []string{"02", "03", "05", "06", "07"} {
			if strings.Contains(ev, people[k].patient) {
				t.Errorf("a download record names person %s: %s", k, ev)
			}
		}
	}
	if !named {
		t.Error("no download record names person 01")
	}
	if ok, out := e.verifyAudit(); !ok {
		t.Fatalf("the audit trail does not verify: %s", out)
	}
}

// The Group must be one the caller reads: another organisation's is
// refused as its read is (403), an unknown one is 404; the job's status
// and files are its owner's only.
func TestGroupExportOfAnothersGroup(t *testing.T) {
	e, people := groupEnv(t, gateway.Config{})
	trust := e.token
	id := e.createGroup(t, "rj1-cohort", member(people["01"].patient, ""))
	ok := []string{"Accept", "application/fhir+json", "Prefer", "respond-async"}

	r := e.do(http.MethodGet, "/Group/no-such-group/$export", "", ok...)
	e.mustStatus(r, http.StatusNotFound)
	if d := diagnostics(t, r); !strings.Contains(d, "no-such-group") {
		t.Errorf("404 says %q", d)
	}

	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RYQ", Role: "R8000", Purpose: "TREAT"})
	e.mustStatus(e.do(http.MethodGet, "/Group/"+id, ""), http.StatusForbidden)
	r = e.do(http.MethodGet, "/Group/"+id+"/$export", "", ok...)
	e.mustStatus(r, http.StatusForbidden)
	if d := diagnostics(t, r); !strings.Contains(d, "COHORT-11-own-cohort") {
		t.Errorf("403 says %q", d)
	}
	if s := e.searchAll(t, "/Group?member="+people["01"].patient); len(s.ids) != 0 {
		t.Errorf("another trust finds %v", s.ids)
	}
	// Another trust may not overwrite it either.
	e.mustStatus(e.do(http.MethodPut, "/Group/"+id, `{"resourceType":"Group","id":"`+id+`","type":"person","actual":true}`), http.StatusForbidden)

	e.token = councilToken(t, "R1330", "TREAT")
	e.mustStatus(e.do(http.MethodGet, "/Group/"+id+"/$export", "", ok...), http.StatusForbidden)
	council := e.createGroup(t, "council-cohort", member(people["01"].patient, ""))

	e.token = trust
	e.mustStatus(e.do(http.MethodGet, "/Group/"+council+"/$export", "", ok...), http.StatusForbidden)
	if s := e.searchAll(t, "/Group?member="+people["01"].patient); !slices.Equal(s.ids, []string{"Group/" + id}) {
		t.Errorf("the trust finds %v, want its own Group only", s.ids)
	}
	status := e.kickOff(t, http.MethodGet, "/Group/"+id+"/$export", "")
	m := e.poll(t, status)
	if len(m.Output) == 0 {
		t.Fatal("nothing exported")
	}
	file := strings.TrimPrefix(m.Output[0].URL, e.srv.URL)
	e.token = mint(t, auth.DevClaims{Kind: auth.ShapeCIS2, Org: "RYQ", Role: "R8000", Purpose: "TREAT"})
	for _, path := range []string{status, file} {
		e.mustStatus(e.do(http.MethodGet, path, ""), http.StatusNotFound)
	}
	e.token = trust
	e.mustStatus(e.do(http.MethodGet, file, ""), http.StatusOK)

	// The owner changes and deletes its Group; a deleted Group is gone.
	e.mustStatus(e.do(http.MethodPut, "/Group/"+id, `{"resourceType":"Group","id":"`+id+`","type":"person","actual":true}`), http.StatusOK)
	empty := e.poll(t, e.kickOff(t, http.MethodGet, "/Group/"+id+"/$export", ""))
	if len(empty.Output) != 0 {
		t.Errorf("a Group with no members exported %+v", empty.Output)
	}
	e.mustStatus(e.do(http.MethodDelete, "/Group/"+id, ""), http.StatusNoContent)
	e.mustStatus(e.do(http.MethodGet, "/Group/"+id+"/$export", "", ok...), http.StatusGone)
}

// With _since, a member who joined the group after it is exported
// whole; the others only with what changed after it.
func TestGroupExportSinceExportsNewMembersWhole(t *testing.T) {
	e, people := groupEnv(t, gateway.Config{})
	since := time.Now().UTC()
	time.Sleep(5 * time.Millisecond) // the member joins, and the record changes, after since
	joined := since.Add(2 * time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
	id := e.createGroup(t, "rj1-cohort",
		member(people["01"].patient, `,"period":{"start":"2020-01-01"}`),
		member(people["02"].patient, `,"period":{"start":"`+joined+`"}`))
	// One of person 01's records changes after since.
	enc := people["01"].byType["Encounter"][len(people["01"].byType["Encounter"])-1]
	obj := enc.Object
	obj["serviceType"] = map[string]any{"text": "emergency department follow-up"}
	if _, err := e.store.Update(context.Background(), &fhir.Resource{Type: "Encounter", ID: enc.ID, Object: obj}, 0); err != nil {
		t.Fatal(err)
	}
	m := e.poll(t, e.kickOff(t, http.MethodGet, "/Group/"+id+"/$export?_since="+since.Format(time.RFC3339Nano), ""))
	got := e.download(t, m)
	want := inCompartment(e.readable(t, map[string]*person{"02": people["02"]}, patientTypes()), people["02"].patient)
	want["Encounter/"+enc.ID] = compact(string(e.do(http.MethodGet, "/Encounter/"+enc.ID, "").Body))
	sameResources(t, got, want)
	if _, ok := got[people["01"].patient]; ok {
		t.Error("person 01's Patient, unchanged since, was exported")
	}
}

// Group is served: read, search by its parameters, and declared with the
// group-export operation.
func TestGroupCapability(t *testing.T) {
	e := newEnv(t, gateway.Config{})
	r := e.do(http.MethodGet, "/metadata", "")
	e.mustStatus(r, http.StatusOK)
	var cs struct {
		Rest []struct {
			Resource []struct {
				Type        string
				SearchParam []struct{ Name string }
				Operation   []struct{ Name, Definition string }
			}
		}
	}
	if err := json.Unmarshal(r.Body, &cs); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cs.Rest[0].Resource, func(r struct {
		Type        string
		SearchParam []struct{ Name string }
		Operation   []struct{ Name, Definition string }
	}) bool {
		return r.Type == "Group"
	})
	if i < 0 {
		t.Fatal("Group not declared")
	}
	g := cs.Rest[0].Resource[i]
	var params []string
	for _, p := range g.SearchParam {
		params = append(params, p.Name)
	}
	for _, p := range []string{"actual", "characteristic", "code", "exclude", "identifier", "managing-entity", "member", "type", "value"} {
		if !slices.Contains(params, p) {
			t.Errorf("search parameter %s not declared", p)
		}
	}
	if len(g.Operation) != 1 || g.Operation[0].Definition != "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export" {
		t.Errorf("Group operations %+v", g.Operation)
	}
}

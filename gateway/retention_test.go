package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/socialcare-fhir/gateway/auth"
	"github.com/socialcare-fhir/gateway/fhir/store/contract"
	"github.com/socialcare-fhir/gateway/fhir/store/sqlstore"
	"github.com/socialcare-fhir/gateway/gateway"
	"github.com/socialcare-fhir/gateway/retention"
	"github.com/socialcare-fhir/gateway/storage"
)

// retentionEnv is a gateway on the baseline policy with retention on,
// its clock in 2040 (the records below ended care in 2020: 8 years on,
// they are due), with three people stored:
//
//	gone-a: care ended 2020 (episode finished, period.end): due
//	held-b: care ended 2020, then a legal hold is placed by the test
//	open-c: an open episode: not due
//
// and tokens for two records managers (IG lead, Caldicott Guardian), a
// social worker and a GP.
type retentionEnv struct {
	*env
	ig, cg, sw, gp string
}

var retentionToday = time.Date(2040, 3, 1, 12, 0, 0, 0, time.UTC)

func newRetentionEnv(t *testing.T) *retentionEnv {
	t.Helper()
	base := openEngine(t, "")
	e := base.serve(t, gateway.Config{Policy: loadPolicy(t, "../policy"), Retention: base.eng.Retention, Records: base.eng.Resources,
		Clock: func() time.Time { return retentionToday }}, nil)
	r := &retentionEnv{env: e,
		ig: mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "ig-lead", Org: "SYN01", Role: "R0001", Purpose: "HOPERAT"}),
		cg: mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "caldicott", Org: "SYN01", Role: "R5105", Purpose: "HOPERAT"}),
		sw: mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "social-worker", Org: "SYN01", Role: "R1330", Purpose: "TREAT"}),
		gp: mint(t, auth.DevClaims{Kind: auth.ShapeCouncil, Subject: "gp", Org: "Y99001", Role: "R0260", Purpose: "TREAT"}),
	}
	ctx := context.Background()
	for _, p := range []struct{ id, status, end string }{{"gone-a", "finished", `,"period":{"start":"2015-01-01","end":"2020-01-31"}`}, {"held-b", "finished", `,"period":{"end":"2020-02-01"}`}, {"open-c", "active", ""}} {
		for _, js := range []string{
			`{"resourceType":"Patient","id":"` + p.id + `","name":[{"family":"Marker` + p.id + `"}],"birthDate":"1930-01-01"}`,
			`{"resourceType":"Patient","id":"` + p.id + `","name":[{"family":"Marker` + p.id + `"}],"birthDate":"1930-01-02"}`,
			`{"resourceType":"EpisodeOfCare","id":"ep-` + p.id + `","status":"` + p.status + `","patient":{"reference":"Patient/` + p.id + `"},"managingOrganization":{"reference":"Organization/SYN01"}` + p.end + `}`,
			`{"resourceType":"Observation","id":"obs-` + p.id + `","status":"final","code":{"text":"Visit note Secret` + p.id + `"},"subject":{"reference":"Patient/` + p.id + `"}}`,
			`{"resourceType":"Observation","id":"obs-` + p.id + `","status":"amended","code":{"text":"Visit note Secret` + p.id + `"},"subject":{"reference":"Patient/` + p.id + `"}}`,
		} {
			if _, err := e.store.Update(ctx, contract.Resource(t, js), 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r
}

func (r *retentionEnv) body(resp *response) map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		r.t.Fatalf("%d %s: %v", resp.Status, resp.Body, err)
	}
	return m
}

// stored fails the test unless the resource is still in the store.
func (r *retentionEnv) stored(typ, id string) {
	r.t.Helper()
	if _, err := r.store.Read(context.Background(), typ, id); err != nil {
		r.t.Fatalf("%s/%s: %v", typ, id, err)
	}
}

func dueResources(t *testing.T, m map[string]any) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, it := range m["items"].([]any) {
		for _, res := range it.(map[string]any)["resources"].([]any) {
			out[res.(string)] = true
		}
	}
	return out
}

func TestRetentionDisposal(t *testing.T) {
	r := newRetentionEnv(t)
	// The appraisal list: gone-a and held-b, every resource; open-c not.
	resp := r.as(r.ig, "GET", "/$disposal-due", "")
	r.mustStatus(resp, 200)
	due := dueResources(t, r.body(resp))
	for _, want := range []string{"Patient/gone-a", "EpisodeOfCare/ep-gone-a", "Observation/obs-gone-a", "Patient/held-b", "Observation/obs-held-b"} {
		if !due[want] {
			t.Errorf("%s not in the appraisal list %v", want, due)
		}
	}
	if due["Patient/open-c"] || due["Observation/obs-open-c"] {
		t.Errorf("open-c's care has not ended, yet it is listed: %v", due)
	}

	// A legal hold on held-b: listed as held, never approvable; a
	// proposal is refused with 409.
	resp = r.as(r.ig, "POST", "/$legal-hold", `{"patient":"Patient/held-b","reason":"litigation: claim 2039-17"}`)
	r.mustStatus(resp, 201)
	hold := r.body(resp)["id"].(string)
	resp = r.as(r.ig, "POST", "/$disposal", `{"patient":"Patient/held-b","reason":"past retention"}`)
	r.mustStatus(resp, 409)

	// A dry run shows what would go and changes nothing.
	before := countAll(t, r.env)
	resp = r.as(r.ig, "POST", "/$disposal", `{"patient":"Patient/gone-a","dryRun":true}`)
	r.mustStatus(resp, 200)
	if dr := r.body(resp); dr["state"] != "dry-run" || len(dr["items"].([]any)) == 0 {
		t.Fatalf("dry run: %s", resp.Body)
	}
	if after := countAll(t, r.env); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the dry run changed the store:\n%v\n%v", before, after)
	}
	r.stored("Patient", "gone-a")

	// Proposed by the IG lead; the IG lead cannot approve it, the
	// Caldicott Guardian can.
	resp = r.as(r.ig, "POST", "/$disposal", `{"patient":"Patient/gone-a","reason":"appraised: no further need, 8 years after care ended"}`)
	r.mustStatus(resp, 201)
	disposal := r.body(resp)["id"].(string)
	r.mustStatus(r.as(r.ig, "POST", "/$disposal/"+disposal+"/$approve", `{}`), 403)
	r.mustStatus(r.as(r.sw, "POST", "/$disposal/"+disposal+"/$approve", `{}`), 403)
	resp = r.as(r.cg, "POST", "/$disposal/"+disposal+"/$approve", `{"reason":"agreed at records panel"}`)
	r.mustStatus(resp, 200)
	done := r.body(resp)
	if done["state"] != "disposed" || done["destroyed"].(float64) != 5 {
		t.Fatalf("approval: %s", resp.Body)
	}
	r.mustStatus(r.as(r.cg, "POST", "/$disposal/"+disposal+"/$approve", `{}`), 409)

	// No trace of gone-a in the store; held-b and open-c untouched.
	for _, path := range []string{"/Patient/gone-a", "/Patient/gone-a/_history/1", "/Patient/gone-a/_history", "/Observation/obs-gone-a", "/EpisodeOfCare/ep-gone-a/_history/2"} {
		r.mustStatus(r.as(r.sw, "GET", path, ""), 404)
	}
	resp = r.as(r.sw, "GET", "/Observation?subject=Patient/gone-a", "")
	r.mustStatus(resp, 200)
	if ids, _ := entries(t, resp); len(ids) != 0 {
		n := len(ids)
		t.Errorf("search finds %d of gone-a's observations", n)
	}
	for _, needle := range []string{"gone-a", "Markergone-a", "Secretgone-a"} {
		if where := traces(t, r.env, needle); len(where) > 0 {
			t.Errorf("%q is still stored: %v", needle, where)
		}
	}
	for _, kept := range []string{"Secretheld-b", "Secretopen-c"} {
		if len(traces(t, r.env, kept)) == 0 {
			t.Errorf("%q was destroyed too", kept)
		}
	}

	// The destruction record: in the audit trail, the chain verifies.
	if ok, report := r.verifyAudit(); !ok {
		t.Fatalf("the audit chain does not verify after the disposal:\n%s", report)
	}
	resp = r.as(r.ig, "GET", "/AuditEvent?patient=Patient/gone-a&agent=caldicott", "")
	r.mustStatus(resp, 200)
	{
		if !bytes.Contains(resp.Body, []byte("destruction record")) || !bytes.Contains(resp.Body, []byte("RMCOP-ASC-1")) || bytes.Contains(resp.Body, []byte("Secret")) {
			t.Errorf("the destruction record: %s", resp.Body)
		}
	}

	// The certificate, as JSON and as a page.
	resp = r.as(r.ig, "GET", "/$disposal/"+disposal, "")
	r.mustStatus(resp, 200)
	cert := r.body(resp)
	d := cert["disposal"].(map[string]any)
	if d["approved"].(map[string]any)["by"].(map[string]any)["subject"] != "caldicott" || d["by"].(map[string]any)["subject"] != "ig-lead" {
		t.Errorf("certificate: %s", resp.Body)
	}
	resp = r.as(r.ig, "GET", "/$disposal/"+disposal+"?_format=html", "")
	r.mustStatus(resp, 200)
	if !bytes.Contains(resp.Body, []byte("Certificate of destruction")) || !bytes.Contains(resp.Body, []byte("Observation/obs-gone-a")) || bytes.Contains(resp.Body, []byte("Secret")) {
		t.Errorf("certificate page: %s", resp.Body)
	}

	// The hold lifted: held-b becomes approvable.
	r.mustStatus(r.as(r.ig, "POST", "/$legal-hold/"+hold+"/$lift", `{}`), 400)
	r.mustStatus(r.as(r.ig, "POST", "/$legal-hold/"+hold+"/$lift", `{"reason":"claim settled"}`), 200)
	r.mustStatus(r.as(r.ig, "POST", "/$disposal", `{"patient":"Patient/held-b","reason":"past retention","dryRun":true}`), 200)

	// An extension moves the date past today: not due any more.
	r.mustStatus(r.as(r.ig, "POST", "/$retention-extend", `{"patient":"Patient/held-b","until":"2045-01-01","reason":"public inquiry"}`), 201)
	resp = r.as(r.ig, "GET", "/$disposal-due", "")
	r.mustStatus(resp, 200)
	if dueResources(t, r.body(resp))["Observation/obs-held-b"] {
		t.Errorf("held-b is listed after its retention was extended")
	}
}

// A hold placed between the proposal and its approval stops the
// approval with 409 and destroys nothing.
func TestRetentionHoldStopsAnApproval(t *testing.T) {
	r := newRetentionEnv(t)
	resp := r.as(r.ig, "POST", "/$disposal", `{"patient":"Patient/gone-a","reason":"past retention"}`)
	r.mustStatus(resp, 201)
	disposal := r.body(resp)["id"].(string)
	r.mustStatus(r.as(r.cg, "POST", "/$legal-hold", `{"patient":"Patient/gone-a","category":"other","reason":"complaint under investigation"}`), 201)
	before := countAll(t, r.env)
	r.mustStatus(r.as(r.cg, "POST", "/$disposal/"+disposal+"/$approve", `{}`), 409)
	if after := countAll(t, r.env); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused approval changed the store")
	}
	r.stored("Observation", "obs-gone-a")
}

// Only records managers: everyone else is refused, and audited.
func TestRetentionRefusesOthers(t *testing.T) {
	r := newRetentionEnv(t)
	before := r.auditEvents()
	for _, tok := range []string{r.sw, r.gp} {
		for _, rq := range []struct{ method, path, body string }{
			{"GET", "/$disposal-due", ""},
			{"POST", "/$disposal", `{"patient":"Patient/gone-a","reason":"x"}`},
			{"POST", "/$legal-hold", `{"patient":"Patient/gone-a","reason":"x"}`},
			{"POST", "/$retention-extend", `{"patient":"Patient/gone-a","until":"2050-01-01","reason":"x"}`},
		} {
			resp := r.as(tok, rq.method, rq.path, rq.body)
			r.mustStatus(resp, 403)
			if !bytes.Contains(resp.Body, []byte("OperationOutcome")) || !bytes.Contains(resp.Body, []byte("RETAIN-12")) {
				t.Errorf("%s %s: %s", rq.method, rq.path, resp.Body)
			}
		}
	}
	if n := r.auditEvents() - before; n != 8 {
		t.Errorf("%d audit records for 8 refused requests", n)
	}
	// A system token is refused decisions even where its role class
	// would allow reading.
	sys := mint(t, auth.DevClaims{Kind: auth.ShapeSystem, Subject: "client-la", Org: "SYN01", Purpose: "HOPERAT"})
	r.mustStatus(r.as(sys, "POST", "/$disposal", `{"patient":"Patient/gone-a","reason":"x"}`), 403)
	r.stored("Observation", "obs-gone-a")
}

// The daily job lists, audits and destroys nothing.
func TestRetentionJobDestroysNothing(t *testing.T) {
	r := newRetentionEnv(t)
	before, events := countAll(t, r.env), r.auditEvents()
	run, err := r.gw.RunAppraisal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if run.People != 2 || run.Due == 0 {
		t.Errorf("appraisal run: %+v", run)
	}
	if after := countAll(t, r.env); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the job changed the store")
	}
	if r.auditEvents() != events+1 {
		t.Errorf("the job is not audited")
	}
}

// traces says where needle is stored outside the audit trail: on SQLite
// in any row of any table of the resource and ingest databases, and in
// the raw bytes of their files and write-ahead logs; on MongoDB in any
// document of any collection but the audit trail's and the retention
// decisions' (the destruction record and the certificate name what was
// destroyed, by reference: that is their purpose).
func traces(t *testing.T, e *env, needle string) []string {
	t.Helper()
	ctx := context.Background()
	var where []string
	if e.eng.Kind == storage.SQLite {
		for _, file := range []string{sqlstore.FileName, storage.IngestFile} {
			db := e.sqliteFile(file, true)
			rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
			if err != nil {
				t.Fatal(err)
			}
			var tables []string
			for rows.Next() {
				var n string
				_ = rows.Scan(&n)
				tables = append(tables, n)
			}
			rows.Close()
			for _, tbl := range tables {
				rs, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM %q`, tbl))
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rs.Columns()
				for rs.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					_ = rs.Scan(ptrs...)
					for _, v := range vals {
						if strings.Contains(fmt.Sprintf("%s", v), needle) {
							where = append(where, file+"/"+tbl)
						}
					}
				}
				rs.Close()
			}
			db.Close()
			for _, suffix := range []string{"", "-wal"} {
				b, err := os.ReadFile(filepath.Join(e.dir, file+suffix))
				if err == nil && bytes.Contains(b, []byte(needle)) {
					where = append(where, "the bytes of "+file+suffix)
				}
			}
		}
		return where
	}
	db := e.eng.Mongo.Database()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "audit") || n == retention.Collection {
			continue // the destruction record and the disposal's certificate
		}
		cur, err := db.Collection(n).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			js, _ := bson.MarshalExtJSON(d, false, false)
			if bytes.Contains(js, []byte(needle)) {
				where = append(where, n)
			}
		}
	}
	return where
}

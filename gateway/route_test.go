package gateway

import "testing"

// Every API path is read once into its route: what the dispatcher, the
// handlers, the request log and the audit record see.
func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         route
	}{
		{"POST", "/", route{shape: "/", Interaction: "batch"}},
		{"GET", "/", route{shape: "/"}},
		{"GET", "/Patient", route{Type: "Patient", shape: "/{type}", Interaction: "search-type", name: "Patient"}},
		{"POST", "/Patient", route{Type: "Patient", shape: "/{type}", Interaction: "create", name: "Patient"}},
		{"POST", "/Encounter/_search", route{Type: "Encounter", shape: "/{type}/_search", Interaction: "search-type", name: "Encounter"}},
		{"GET", "/Encounter/_history", route{Type: "Encounter", shape: "/{type}/_history", Interaction: "history-type", name: "Encounter"}},
		{"GET", "/Patient/p1", route{Type: "Patient", ID: "p1", shape: "/{type}/{id}", Interaction: "read", name: "Patient"}},
		{"PUT", "/Patient/p1", route{Type: "Patient", ID: "p1", shape: "/{type}/{id}", Interaction: "update", name: "Patient"}},
		{"DELETE", "/Patient/p1", route{Type: "Patient", ID: "p1", shape: "/{type}/{id}", Interaction: "delete", name: "Patient"}},
		{"PATCH", "/Patient/p1", route{Type: "Patient", ID: "p1", shape: "/{type}/{id}", name: "Patient"}},
		{"GET", "/Patient/p1/_history", route{Type: "Patient", ID: "p1", shape: "/{type}/{id}/_history", Interaction: "history-instance", name: "Patient"}},
		{"GET", "/Patient/p1/_history/3", route{Type: "Patient", ID: "p1", Version: "3", shape: "/{type}/{id}/_history/{vid}", Interaction: "vread", name: "Patient"}},
		{"GET", "/Patient/p1/$everything", route{Type: "Patient", ID: "p1", Operation: "$everything", shape: "/{type}/{id}/$op", Interaction: "operation", name: "Patient"}},
		{"GET", "/Patient/$summary", route{Type: "Patient", Operation: "$summary", shape: "/{type}/$op", Interaction: "operation", name: "Patient"}},
		{"GET", "/$data-quality", route{Operation: "$data-quality", shape: "/$op", Interaction: "operation", name: "$data-quality"}},
		{"POST", "/AuditEvent/a1/$review", route{Type: "AuditEvent", ID: "a1", Operation: "$break-glass-review", shape: "/{type}/{id}/$op", Interaction: "operation", name: "AuditEvent"}},
		{"GET", "/Unicorn/u1", route{ID: "u1", shape: "/{type}/{id}", Interaction: "read", name: "Unicorn"}},
		{"GET", "/Patient/p1/a/b/c", route{Type: "Patient", shape: "/{type}/...", name: "Patient"}},
		{"POST", "/$export", route{Operation: "$export", shape: "/$op", Interaction: "operation", name: "$export"}},
		{"GET", "/$export-status/j1", route{Operation: "$export-status", ID: "j1", shape: "/$op/{id}", Interaction: "operation", name: "$export-status"}},
		{"GET", "/$export-file/j1/Patient-1.ndjson", route{Operation: "$export-download", ID: "j1", File: "Patient-1.ndjson", shape: "/$op/{id}/{file}", Interaction: "operation", name: "$export-file"}},
		{"GET", "/Group/g1/$export", route{Type: "Group", ID: "g1", Operation: "$export", shape: "/{type}/{id}/$op", Interaction: "operation", name: "Group"}},
		{"GET", "/policy/versions", route{Operation: "$policy-list", shape: "/policy/versions", Interaction: "operation", name: "policy"}},
		{"POST", "/policy/versions", route{Operation: "$policy-propose", shape: "/policy/versions", Interaction: "operation", name: "policy"}},
		{"POST", "/policy/versions/v1/$approve", route{Operation: "$policy-approve", ID: "v1", shape: "/policy/versions/{id}/$op", Interaction: "operation", name: "policy"}},
		{"POST", "/policy/$explain", route{Operation: "$policy-explain", shape: "/policy/$explain", Interaction: "operation", name: "policy"}},
		{"GET", "/policy/agreement", route{Operation: "$policy-agreement", shape: "/policy/agreement", Interaction: "operation", name: "policy"}},
		{"GET", "/AuditEvent/a1/$explain", route{Type: "AuditEvent", ID: "a1", Operation: "$explain", shape: "/{type}/{id}/$op", Interaction: "operation", name: "AuditEvent"}},
		{"POST", "/social-care/records", route{shape: "/social-care/records", Interaction: "ingest", name: "social-care"}},
		{"POST", "/social-care/$import", route{shape: "/social-care/$import", Operation: "$import", Interaction: "operation", name: "social-care"}},
		{"GET", "/social-care/$import-status/j1", route{shape: "/social-care/$import-status/{job}", ID: "j1", Operation: "$import-status", Interaction: "operation", name: "social-care"}},
	} {
		if got := parseRoute(tc.method, tc.path); *got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.method, tc.path, *got, tc.want)
		}
	}
}

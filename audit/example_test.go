package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/audit"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// A request handler records the interaction before the data leaves, and
// refuses to answer if the record cannot be written.
func ExampleLog_Record() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(ctx, dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client, _ := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	defer func() { _ = client.Disconnect(ctx) }()
	db := client.Database("gateway")

	log, err := audit.Open(ctx, db, audit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = log.Close(ctx) }()

	_, err = log.Record(ctx, audit.Entry{
		RequestID:    "3f1c",
		Interaction:  "read",
		ResourceType: "CarePlan",
		HTTPStatus:   200,
		Agent:        audit.Agent{Kind: audit.KindUser, Subject: "u-gp", Org: "G81001", Role: "R8001", Purpose: "TREAT"},
		Patients:     []string{"Patient/p1"},
		Resources:    []string{"CarePlan/cp1"},
		Categories:   []string{"care-plan"},
		Decision:     audit.Decision{Allowed: true, Reasons: []string{"DSA-1-signatory"}, Revision: "r42"},
	})
	if err != nil {
		fmt.Println("answer 503: audit unavailable")
		return
	}
	accesses, _ := log.WhoAccessed(ctx, "Patient/p1", 10)
	for _, a := range accesses {
		fmt.Println(a.Org, a.Role, a.Purpose, a.Categories, a.Allowed)
	}
	problem, n, _ := audit.Verify(ctx, db, "audit", nil)
	fmt.Println("records checked:", n, "problem:", problem)
	// Output:
	// G81001 R8001 TREAT [care-plan] true
	// records checked: 1 problem: <nil>
}

// Without MongoDB the trail lives in a SQLite file of its own in the data
// directory; it is verified the same way.
func ExampleOpenSQLite() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example")
	defer os.RemoveAll(dir)
	db, err := sqlitedb.Open(filepath.Join(dir, "audit.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	log, err := audit.OpenSQLite(ctx, db, audit.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = log.Close(ctx) }()

	if _, err := log.Record(ctx, audit.Entry{
		Interaction: "search-type", ResourceType: "Encounter", HTTPStatus: 200,
		Agent:    audit.Agent{Kind: audit.KindSystem, Subject: "cm", Org: "LA001", Purpose: "COC"},
		Patients: []string{"Patient/p1", "Patient/p2"},
		Decision: audit.Decision{Allowed: true},
	}); err != nil {
		fmt.Println("answer 503: audit unavailable")
		return
	}
	accesses, _ := log.WhoAccessed(ctx, "Patient/p2", 10)
	fmt.Println(len(accesses), accesses[0].Org, accesses[0].Interaction)
	problem, n, _ := audit.VerifySQLite(ctx, db, "audit", nil)
	fmt.Println("records checked:", n, "problem:", problem)
	// Output:
	// 1 LA001 search-type
	// records checked: 1 problem: <nil>
}

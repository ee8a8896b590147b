// Package ingest stores social care records in the FHIR store whole or not
// at all, one at a time ([Ingester.Record]), from NDJSON or Client Level
// Data files ([Ingester.Bulk]), or as background jobs whose status survives
// a restart ([Ingester.Submit], [Ingester.Job]).
//
// A record moves through the package in four steps:
//
//  1. socialcare.Decode checks all of it; a record with any problem is
//     rejected (a *fhir.Error, 422 naming every problem) and nothing is
//     written.
//  2. socialcare.Translate turns it into FHIR resources with deterministic
//     ids, in dependency order, Provenance last.
//  3. The whole list of resources is written as one journal document
//     (collection ingest_journal, state "pending") with majority write
//     concern. The embedded database has no multi-document transactions;
//     the journal is what makes the record all-or-nothing.
//  4. Each resource is stored with store.Update, which is idempotent
//     (identical content makes no new version), then the journal is
//     marked "applied" and its copy of the resources dropped.
//
// If the process stops between 3 and 4, [Ingester.Recover] re-applies every
// pending journal, oldest first. Run it at start-up before serving: then no
// client ever reads a half-stored record left by a crash. A record whose
// storing failed while the gateway kept running (the database went away
// mid-record) stays pending until the next Recover or the next record for
// the same person, which first finishes every earlier pending journal of
// that person, so resources are always written in the order the records
// were received.
//
// The package never logs record content; journal and job documents hold
// personal data and live in the same database as the resources.
package ingest

// Package ingest stores social care records in the FHIR store whole or not
// at all, one at a time ([Ingester.Record]), from NDJSON or Client Level
// Data files ([Ingester.Bulk]), or as background jobs whose status survives
// a restart ([Ingester.Submit], [Ingester.Job]).
//
// An Ingester writes resources through a [ResourceStore] and keeps its
// journals and job records in one of two places: MongoDB, in the
// resources' own database (collections ingest_journal and ingest_jobs;
// [New], for the MongoDB engine, *store.Store), or a SQLite database of its
// own (tables of the same names, normally the file [FileName] in the data
// directory; [NewSQLite], for any ResourceStore).
//
// A record moves through the package in four steps:
//
//  1. socialcare.Decode checks all of it; a record with any problem is
//     rejected (a *fhir.Error, 422 naming every problem) and nothing is
//     written.
//  2. socialcare.Translate turns it into FHIR resources with deterministic
//     ids, in dependency order, Provenance last.
//  3. With a store that writes one resource at a time (the MongoDB
//     engine), the whole list of resources is written as one journal
//     (state "pending"), durably, with majority write concern. The
//     embedded MongoDB-compatible database has no multi-document
//     transactions; the journal is what makes the record all-or-nothing.
//  4. The resources are stored, idempotently (identical content makes no
//     new version), one Update each, then the journal is marked "applied"
//     and its copy of the resources dropped.
//
// With a [BatchStore] (the SQLite engine) the record is stored by one
// UpdateAll transaction, which stores all of it or none, so there is
// nothing to replay after a crash and step 3 is skipped: no copy of the
// resources is written (a tenth of a bulk import's time went to it).
// Once the transaction has committed, with a full fsync, the record's
// receipt is written as an "applied" journal without resources.
//
// If the process stops between 3 and 4, [Ingester.Recover] re-applies every
// pending journal, oldest first. Run it at start-up before serving: then no
// client ever reads a half-stored record left by a crash. A record whose
// storing failed while the gateway kept running (the database went away
// mid-record) stays pending until [Ingester.RecoverStale] finds it old
// enough, the next Recover, or the next record for the same person, which
// first finishes every earlier pending journal of that person, so
// resources are always written in the order the records were received.
//
// [Ingester.ExportState] and [Ingester.ImportState] copy the pending
// journals and the job records from one engine to the other, for a
// migration tool.
//
// The package never logs record content. Journal and job documents hold
// personal data: in MongoDB they live in the same database as the
// resources; the SQLite journal file needs the same protection as the
// resource database.
package ingest

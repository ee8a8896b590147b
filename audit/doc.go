// Package audit is the gateway's audit trail: one record per interaction,
// allowed or refused, kept append-only and tamper-evident, and rendered on
// demand as FHIR R4 AuditEvents shaped after IHE Basic Audit Log Patterns
// (BALP).
//
// The trail lives in one of two storage engines, with the same behaviour:
//
//   - MongoDB ([Open]): the collection "audit" (Options.Collection) with
//     one document per record, and "audit_reviews" for the break-glass
//     reviews made before reviews were audit records (review.go); writes
//     use majority write concern.
//   - SQLite ([OpenSQLite]), the embedded engine, in a file of its own
//     (the gateway uses audit.db in its data directory), opened with
//     package sqlitedb (WAL, full fsync on commit, one writer
//     connection). Its layout is below.
//
// The chain logic, the group-commit writer, reading and searching,
// reviews, retention, verification and export are written once, against
// two small unexported interfaces (records and reviewStore in store.go);
// mongo.go and sqlite.go implement them.
//
// How data moves through it:
//
//   - The gateway builds an [Entry] (who, why, what, the policy decision) and
//     calls [Log.Record]. Record turns it into a stored record and hands it to
//     a single writer goroutine, then waits.
//   - A request announces its record when it starts ([Log.Expect]); an
//     announced record is waited for during at most ten MaxDelays, so a
//     long request does not hold up the others' batches while it runs.
//   - The writer owns the chain head. It takes whatever is queued (up to
//     MaxBatch), then, for at most MaxDelay, waits while announced records
//     are still to come (on MongoDB also while more keep arriving; when
//     idle it never waits), gives each record the next seq, the previous record's
//     hash as prev and its own hash = sha256(canonical JSON of the record),
//     and writes the batch in one write: an ordered InsertMany at majority
//     write concern, or one SQLite transaction. Only then is each waiting
//     caller told its record is durable. Under load many requests share
//     one write (group commit).
//   - If the write fails, every caller whose record is not stored gets an
//     error wrapping fhir.ErrUnavailable, and the gateway must answer 503
//     without the data (fail closed). The head is re-read from the database
//     before the next batch, because an ordered insert may have partly
//     succeeded (a SQLite transaction never does).
//   - [Verify] (and [RunVerify] for the command line), or [VerifySQLite]
//     and [RunVerifySQLite], walk the chain in seq order and report the
//     first record that was altered, removed or inserted. [Log.Purge]
//     removes records past their retention, oldest first, after appending
//     a checkpoint that carries the hash of the last purged record, so the
//     chain stays verifiable.
//   - Readers: [Log.AuditEvent] and [Log.Search] for IG leads,
//     [Log.WhoAccessed] for "who has seen my record", [Log.PendingBreakGlass]
//     and [Log.RecordReview] for the break-glass review workflow: a
//     review is an audit record of its own, in the chain.
//   - Moving a trail between engines: [Log.ExportRecords] and
//     [Log.ExportReviews] read it as stored, [Log.ImportRecords] and
//     [Log.ImportReviews] write it verbatim (same seq, prev, hash and id)
//     into an empty trail, so the copy verifies as the source does.
//
// # SQLite layout
//
// For a trail named N ("audit" by default), in one file:
//
//   - Table N, one row per record: seq INTEGER PRIMARY KEY; doc, the
//     record's canonical JSON ({"v":1,"t":<Unix ms>,"r":{...}}), byte for
//     byte what its hash covers; hash. The fields searched by (id, kind, t,
//     sub, org, pou, allowed, bg, cps) are virtual columns computed from
//     doc, so they cannot disagree with it. Indexes: unique on id; (t,
//     kind), (sub, kind), (org, kind), (pou, kind); partial indexes on
//     break-glass records, on refused ones and on checkpoints (by cps).
//     Every index ends in the rowid, seq, so each also gives the
//     newest-first order of the searches.
//   - Table N_patients (pat, seq, own) WITHOUT ROWID, primary key (pat,
//     seq): one row per patient a record concerns, own = 1 when it is that
//     patient's own access. It is the index of the patient searches
//     (SQLite cannot index a JSON array), written in the same transaction
//     as the record; Verify checks it against doc.
//   - Table N_reviews, one row per break-glass review made before reviews
//     were audit records, keyed by audit_id: moved into the chain at open,
//     then no longer read. Review records are found by the record they
//     review through an index on the expression json_extract(doc,
//     '$.r.rof').
//   - Triggers refuse UPDATE on all three tables; only Purge deletes.
//
// The chain head is the last row of the primary key, read at start-up.
// Every query on the request path is answered from one of these indexes
// (a test checks the query plans).
//
// One chain is kept per collection or table. Several gateway instances (or
// several Logs on one file) may write to it: the unique seq turns a clash
// between two writers into a duplicate-key error, after which the loser
// re-reads the head and retries its batch once.
//
// Audit records hold personal data (patient references, user ids,
// break-glass reasons, review notes). Nothing in this package logs them: log
// lines carry counts, sequence numbers and error classes only.
package audit

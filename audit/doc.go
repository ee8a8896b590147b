// Package audit is the gateway's audit trail: one record per interaction,
// allowed or refused, kept append-only and tamper-evident in its own MongoDB
// collection, and rendered on demand as FHIR R4 AuditEvents shaped after IHE
// Basic Audit Log Patterns (BALP).
//
// How data moves through it:
//
//   - The gateway builds an [Entry] (who, why, what, the policy decision) and
//     calls [Log.Record]. Record turns it into a stored record and hands it to
//     a single writer goroutine, then waits.
//   - The writer owns the chain head. It takes whatever is queued (up to
//     MaxBatch; when more keep arriving it waits at most MaxDelay, when idle
//     it never waits), gives each record the next seq, the previous record's
//     hash as prev and its own hash = sha256(canonical JSON of the record),
//     and writes the batch with one ordered InsertMany at majority write
//     concern. Only then is each waiting caller told its record is durable.
//     Under load many requests share one write (group commit).
//   - If the write fails, every caller whose record is not stored gets an
//     error wrapping fhir.ErrUnavailable, and the gateway must answer 503
//     without the data (fail closed). The head is re-read from the database
//     before the next batch, because an ordered insert may have partly
//     succeeded.
//   - [Verify] (and [RunVerify] for the command line) walks the chain in seq
//     order and reports the first record that was altered, removed or
//     inserted. [Log.Purge] removes records past their retention, oldest
//     first, after appending a checkpoint that carries the hash of the last
//     purged record, so the chain stays verifiable.
//   - Readers: [Log.AuditEvent] and [Log.Search] for IG leads,
//     [Log.WhoAccessed] for "who has seen my record", [Log.PendingBreakGlass]
//     and [Log.RecordReview] for the break-glass review workflow.
//
// One chain is kept per collection. Several gateway instances may write to
// it: the unique index on seq turns a clash between two writers into a
// duplicate-key error, after which the loser re-reads the head and retries
// its batch once.
//
// Audit records hold personal data (patient references, user ids,
// break-glass reasons, review notes). Nothing in this package logs them: log
// lines carry counts, sequence numbers and error classes only.
package audit

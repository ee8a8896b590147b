package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/socialcare-fhir/gateway/sqlitedb"
)

// Problem is the first break in the chain that Verify found.
type Problem struct {
	Seq int64  // where the chain breaks
	ID  string // the record there, "" when it is missing
	// Kind is "altered" (content does not match its hash), "missing" (a seq
	// is absent), "inserted" (a record that has no place in the chain) or
	// "broken-link" (prev is not the hash of the record before).
	Kind   string
	Detail string
}

// Problem kinds.
const (
	ProblemAltered    = "altered"
	ProblemMissing    = "missing"
	ProblemInserted   = "inserted"
	ProblemBrokenLink = "broken-link"
)

func (p *Problem) String() string {
	id := p.ID
	if id == "" {
		id = "-"
	}
	return fmt.Sprintf("seq %d (record %s): %s: %s", p.Seq, id, p.Kind, p.Detail)
}

// Verify walks the chain in collection in seq order and reports the first
// problem, with the number of records checked. progress, if not nil, is
// called every 1000 records and at the end. The walk starts after the
// purge point of the latest checkpoint (genesis when none): the first record
// after it must link to the checkpoint's purged hash. Records at or before
// the purge point, left by an interrupted purge, must still form a chain
// ending in that hash. error is for failures to read, not for problems.
//
// A hash chain without a key cannot reveal records cut from the end, or a
// chain rewritten in full by someone with write access: check it against
// anchors kept elsewhere (RunVerify, Anchor).
func Verify(ctx context.Context, db *mongo.Database, collection string, progress func(n int64)) (*Problem, int64, error) {
	res, err := verify(ctx, mongoRecords{db.Collection(collection)}, progress)
	return res.problem, res.checked, err
}

// VerifySQLite is Verify for a trail in a SQLite file, table being the
// Options.Collection it was opened with ("audit" by default). Beyond the
// chain it checks that each row's seq and patient index agree with the
// record its hash covers. A file without the table holds an empty chain.
func VerifySQLite(ctx context.Context, db *sqlitedb.DB, table string, progress func(n int64)) (*Problem, int64, error) {
	recs, err := sqliteVerifier(ctx, db, table)
	if err != nil {
		return nil, 0, err
	}
	res, err := verify(ctx, recs, progress)
	return res.problem, res.checked, err
}

// sqliteVerifier reads the trail in table of db; nil records when there is
// no such table.
func sqliteVerifier(ctx context.Context, db *sqlitedb.DB, table string) (records, error) {
	names, err := sqliteNamesFor(table)
	if err != nil {
		return nil, err
	}
	recs := &sqliteRecords{db: db, n: names}
	ok, err := recs.exists(ctx)
	switch {
	case err != nil:
		return nil, fmt.Errorf("verify audit chain: %w", err)
	case !ok:
		return emptyRecords{}, nil
	}
	return recs, nil
}

type verifyResult struct {
	problem *Problem
	checked int64
	head    head
}

func verify(ctx context.Context, recs records, progress func(n int64)) (verifyResult, error) {
	var res verifyResult
	cp, err := recs.latestCheckpoint(ctx)
	if err != nil {
		return res, fmt.Errorf("read audit checkpoint: %w", err)
	}
	w := chainWalk{cp: cp, expect: cp.seq + 1, prev: cp.hash}
	err = recs.walk(ctx, func(s *storedRecord) error {
		res.checked++
		if p := w.step(s, res.checked == 1); p != nil {
			res.problem = p
			return errStop
		}
		if progress != nil && res.checked%1000 == 0 {
			progress(res.checked)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return res, fmt.Errorf("verify audit chain: %w", err)
	}
	if progress != nil {
		progress(res.checked)
	}
	if res.problem == nil && cp.id != "" && !w.sawCheckpoint {
		res.problem = &Problem{Seq: cp.recordSeq, ID: cp.id, Kind: ProblemAltered,
			Detail: "the latest checkpoint lies inside the range it claims to have purged"}
	}
	res.head = head{w.expect - 1, w.prev}
	return res, nil
}

// checkpoint is the purge point a walk starts from.
type checkpoint struct {
	id        string // "" when there is none
	recordSeq int64  // the checkpoint record's own seq
	seq       int64  // last purged seq
	hash      string // its hash
}

func checkpointOf(r *record) checkpoint {
	return checkpoint{id: r.ID, recordSeq: r.Seq, seq: r.PurgedSeq, hash: r.PurgedHash}
}

// chainWalk checks records one at a time, in seq order.
type chainWalk struct {
	cp            checkpoint
	expect        int64  // the next seq
	prev          string // hash the next record must carry as prev
	sawCheckpoint bool
}

func (w *chainWalk) step(s *storedRecord, first bool) *Problem {
	if !s.seqOK {
		return &Problem{Seq: w.expect, ID: s.id, Kind: ProblemInserted, Detail: "record has no integer seq"}
	}
	seq, id := s.seq, s.id
	if s.flaw != "" {
		return &Problem{Seq: seq, ID: id, Kind: ProblemAltered, Detail: s.flaw}
	}
	r := &s.rec
	if first && w.cp.seq > 0 && seq <= w.cp.seq && seq > 0 {
		// Left by an interrupted purge: check it links forward to the
		// checkpoint's hash, but its own predecessor is gone.
		w.expect, w.prev = seq, r.Prev
	}
	switch {
	case seq < w.expect:
		return &Problem{Seq: seq, ID: id, Kind: ProblemInserted, Detail: fmt.Sprintf("seq %d is out of place (expected %d)", seq, w.expect)}
	case seq > w.expect:
		return &Problem{Seq: w.expect, Kind: ProblemMissing, Detail: fmt.Sprintf("records %d to %d are missing", w.expect, seq-1)}
	case r.Prev != w.prev:
		return &Problem{Seq: seq, ID: id, Kind: ProblemBrokenLink, Detail: "prev is not the hash of the record before"}
	}
	sum, err := r.computeHash()
	if err != nil || sum != r.Hash {
		return &Problem{Seq: seq, ID: id, Kind: ProblemAltered, Detail: "content does not match its hash"}
	}
	if seq == w.cp.seq && r.Hash != w.cp.hash {
		return &Problem{Seq: seq, ID: id, Kind: ProblemAltered, Detail: "hash differs from the one the checkpoint recorded"}
	}
	if w.cp.id != "" && r.ID == w.cp.id && r.Kind == kindCheckpoint && seq > w.cp.seq {
		w.sawCheckpoint = true
	}
	w.expect, w.prev = seq+1, r.Hash
	return nil
}

// ProblemTruncated: the chain ends before a head recorded elsewhere.
const ProblemTruncated = "truncated"

// Anchor is a chain head kept outside the database: the gateway logs one
// periodically (see Log.Head), and "gateway audit verify" prints one. A
// chain checked against anchors reveals records cut from its end, or a
// chain rewritten in full, since each anchor was taken.
type Anchor struct {
	Seq  int64
	Hash string
}

// ParseAnchor reads an anchor written as SEQ:HASH.
func ParseAnchor(s string) (Anchor, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || n < 1 || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return Anchor{}, fmt.Errorf("anchor %q is not SEQ:HASH (a record number and its 64-hex-digit hash)", s)
	}
	return Anchor{Seq: n, Hash: hash}, nil
}

func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Seq, a.Hash) }

// Head returns the chain's newest record as an anchor (seq 0 and the
// genesis hash for an empty chain). Kept outside the database, it lets a
// later verification detect truncation.
func (l *Log) Head(ctx context.Context) (Anchor, error) {
	h, err := loadHead(ctx, l.recs)
	return Anchor{Seq: h.seq, Hash: h.hash}, err
}

// checkAnchor checks a verified chain against one anchor: the chain must
// still hold the anchor's record with the anchor's hash, unless a purge
// has removed it lawfully (then nothing can be checked).
func checkAnchor(ctx context.Context, recs records, res verifyResult, cp checkpoint, a Anchor) (*Problem, error) {
	if a.Seq <= cp.seq {
		return nil, nil
	}
	if a.Seq > res.head.seq {
		return &Problem{Seq: a.Seq, Kind: ProblemTruncated,
			Detail: fmt.Sprintf("the chain ends at seq %d, but an anchor kept elsewhere records seq %d: records were cut from its end", res.head.seq, a.Seq)}, nil
	}
	found, err := recs.find(ctx, filter{atSeq: a.Seq}, false, 1)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read audit record %d: %w", a.Seq, err)
	case len(found) == 0:
		// The walk saw every seq up to the head: only a concurrent purge
		// removes one.
		return nil, fmt.Errorf("read audit record %d: it is gone", a.Seq)
	}
	if found[0].Hash != a.Hash {
		return &Problem{Seq: a.Seq, ID: found[0].ID, Kind: ProblemAltered,
			Detail: "hash differs from an anchor kept elsewhere: the chain was rewritten since"}, nil
	}
	return nil, nil
}

// RunVerify verifies the chain in collection, and against any anchors,
// printing progress and the result to w, for the "gateway audit verify"
// command. ok is false when the chain is broken; err is for failures to
// read or write. The result line ends with the chain head (seq and hash):
// keep it elsewhere, as the gateway's periodic log lines do, to detect
// later truncation.
func RunVerify(ctx context.Context, db *mongo.Database, collection string, w io.Writer, anchors ...Anchor) (ok bool, err error) {
	return runVerify(ctx, mongoRecords{db.Collection(collection)}, fmt.Sprintf("collection %q", collection), w, anchors)
}

// RunVerifySQLite is RunVerify for a trail in a SQLite file (table as for
// VerifySQLite).
func RunVerifySQLite(ctx context.Context, db *sqlitedb.DB, table string, w io.Writer, anchors ...Anchor) (ok bool, err error) {
	recs, err := sqliteVerifier(ctx, db, table)
	if err != nil {
		return false, err
	}
	return runVerify(ctx, recs, fmt.Sprintf("table %q of %s", table, db.Path), w, anchors)
}

func runVerify(ctx context.Context, recs records, where string, w io.Writer, anchors []Anchor) (ok bool, err error) {
	var werr error
	printf := func(format string, args ...any) {
		if werr == nil {
			_, werr = fmt.Fprintf(w, format, args...)
		}
	}
	printf("verifying audit chain in %s\n", where)
	res, err := verify(ctx, recs, func(n int64) {
		if n > 0 && n%10000 == 0 {
			printf("  %d records checked\n", n)
		}
	})
	if err != nil {
		return false, err
	}
	if res.problem == nil {
		cp, err := recs.latestCheckpoint(ctx)
		if err != nil {
			return false, fmt.Errorf("read audit checkpoint: %w", err)
		}
		for _, a := range anchors {
			if res.problem, err = checkAnchor(ctx, recs, res, cp, a); err != nil {
				return false, err
			}
			if res.problem != nil {
				break
			}
			if a.Seq <= cp.seq {
				printf("  anchor %d: purged by retention, not checkable\n", a.Seq)
			} else {
				printf("  anchor %d: present, hash matches\n", a.Seq)
			}
		}
	}
	if res.problem != nil {
		printf("FAILED after %d records: %s\n", res.checked, res.problem)
		return false, werr
	}
	printf("OK: %d records verified; head seq %d hash %s\n", res.checked, res.head.seq, res.head.hash)
	return true, werr
}

// emptyRecords is the chain of a SQLite file without the trail's table:
// it has no records, and Verify reads nothing else.
type emptyRecords struct{}

func (emptyRecords) head(context.Context) (head, error) { return head{0, genesis}, nil }
func (emptyRecords) insert(context.Context, []*record) error {
	return errors.New("audit trail not set up")
}
func (emptyRecords) find(context.Context, filter, bool, int) ([]record, error) { return nil, nil }
func (emptyRecords) latestCheckpoint(context.Context) (checkpoint, error) {
	return checkpoint{hash: genesis}, nil
}
func (emptyRecords) countThrough(context.Context, int64) (int64, error)  { return 0, nil }
func (emptyRecords) deleteThrough(context.Context, int64) (int64, error) { return 0, nil }
func (emptyRecords) firstNaming(context.Context, int64, int64) (map[string]int64, error) {
	return nil, nil
}
func (emptyRecords) walk(context.Context, func(*storedRecord) error) error {
	return nil
}

package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record kinds.
const (
	kindEvent      = "event"      // one interaction
	kindCheckpoint = "checkpoint" // written by Purge before it deletes
)

// genesis is the prev of the first record of a chain.
var genesis = hex.EncodeToString(make([]byte, sha256.Size))

// hashVersion is part of every hashed form, so the canonical form can change
// later without old records failing verification.
const hashVersion = 1

// record is one stored audit record. The searchable fields are flat, since
// the embedded MongoDB-compatible database has no $elemMatch on fields.
// Every field except Hash is covered by the hash; the BSON and JSON names
// are the same, and the JSON encoding of the struct (with T as Unix
// milliseconds, see canonicalForm) is the canonical form.
type record struct {
	ID   string    `bson:"_id" json:"id"`
	Seq  int64     `bson:"seq" json:"seq"`
	Prev string    `bson:"prev" json:"prev"`
	Hash string    `bson:"hash" json:"-"`
	Kind string    `bson:"kind" json:"kind"`
	T    time.Time `bson:"t" json:"-"`

	RequestID    string `bson:"rid,omitempty" json:"rid,omitempty"`
	Interaction  string `bson:"ia,omitempty" json:"ia,omitempty"`
	Operation    string `bson:"op,omitempty" json:"op,omitempty"`
	ResourceType string `bson:"rt,omitempty" json:"rt,omitempty"`
	Query        string `bson:"q,omitempty" json:"q,omitempty"`
	Outcome      string `bson:"out,omitempty" json:"out,omitempty"`
	HTTPStatus   int    `bson:"st,omitempty" json:"st,omitempty"`

	AgentKind        string `bson:"ak,omitempty" json:"ak,omitempty"`
	Subject          string `bson:"sub,omitempty" json:"sub,omitempty"`
	Org              string `bson:"org,omitempty" json:"org,omitempty"`
	Role             string `bson:"role,omitempty" json:"role,omitempty"`
	Purpose          string `bson:"pou,omitempty" json:"pou,omitempty"`
	BreakGlassReason string `bson:"bgr,omitempty" json:"bgr,omitempty"`
	ClientID         string `bson:"cid,omitempty" json:"cid,omitempty"`
	AgentPatient     string `bson:"apat,omitempty" json:"apat,omitempty"`
	Network          string `bson:"net,omitempty" json:"net,omitempty"`

	Patients   []string `bson:"pat,omitempty" json:"pat,omitempty"`
	Resources  []string `bson:"res,omitempty" json:"res,omitempty"`
	Categories []string `bson:"cat,omitempty" json:"cat,omitempty"`
	// Counts are resources by type handed over unlisted (bulk export).
	Counts map[string]int `bson:"n,omitempty" json:"n,omitempty"`
	// Own lists the patients whose record this is the person's own access
	// to; WhoAccessed leaves those out.
	Own []string `bson:"own,omitempty" json:"own,omitempty"`

	Allowed     bool     `bson:"allowed" json:"allowed"`
	BreakGlass  bool     `bson:"bg" json:"bg"`
	Reasons     []string `bson:"why,omitempty" json:"why,omitempty"`
	Revision    string   `bson:"rev,omitempty" json:"rev,omitempty"`
	Obligations []string `bson:"obl,omitempty" json:"obl,omitempty"`
	// Decided are the decisions' inputs (Entry.Decided), for replay;
	// DecidedOmitted counts those beyond MaxDecided. Records written
	// before they were kept have neither.
	Decided        []Decided `bson:"dec,omitempty" json:"dec,omitempty"`
	DecidedOmitted int       `bson:"deco,omitempty" json:"deco,omitempty"`
	// Destruction is a disposal's destruction record (Entry.Destruction).
	Destruction *Destruction `bson:"dst,omitempty" json:"dst,omitempty"`

	// Review fields, on the record of a break-glass review (review.go):
	// the id of the record reviewed, the verdict ("justified" or
	// "not-justified") and the reviewer's note; ReviewedAt is when a
	// review moved in from the old reviews store was made (Unix ms), 0
	// for one made as this record.
	ReviewOf   string `bson:"rof,omitempty" json:"rof,omitempty"`
	Verdict    string `bson:"vdt,omitempty" json:"vdt,omitempty"`
	ReviewNote string `bson:"vnote,omitempty" json:"vnote,omitempty"`
	ReviewedAt int64  `bson:"vat,omitempty" json:"vat,omitempty"`

	// Checkpoint fields: the last purged record's seq and hash, and how many
	// records that purge removed.
	PurgedSeq   int64  `bson:"cps,omitempty" json:"cps,omitempty"`
	PurgedHash  string `bson:"cph,omitempty" json:"cph,omitempty"`
	PurgedCount int64  `bson:"cpn,omitempty" json:"cpn,omitempty"`

	// doc is the canonical form computeHash last hashed, which the SQLite
	// trail stores as it is rather than encode the record again.
	doc []byte
	// form is the canonical form split around seq and prev (prepare),
	// made by the caller so that the writer, which alone knows them,
	// only joins the parts.
	form *splitForm
}

// splitForm is a record's canonical form without seq and prev: before is
// everything up to them, after everything that follows.
type splitForm struct{ before, after []byte }

// chainFields is how the canonical form of a record not yet chained (seq
// 0, prev "") holds seq and prev: the only place they appear, after the
// id, since the fields are encoded in the order of the struct. No string
// value can hold it, since JSON escapes the quotes inside a string.
const chainFields = `,"seq":0,"prev":"",`

// prepare encodes r, not yet chained, into its split canonical form. A
// record changed afterwards must be prepared again.
func (r *record) prepare() error {
	if r.Seq != 0 || r.Prev != "" {
		return fmt.Errorf("audit record %s is already chained", r.ID)
	}
	b, err := r.canonical()
	if err != nil {
		return err
	}
	i := bytes.Index(b, []byte(chainFields))
	if i < 0 {
		return fmt.Errorf("audit record %s: canonical form without seq and prev", r.ID)
	}
	r.form = &splitForm{before: b[:i], after: b[i+len(chainFields)-1:]}
	return nil
}

// chainedForm is the canonical form of r with its seq and prev, joined
// from its split form when it has one and prev needs no escaping (a hash
// is hex), or encoded whole.
func (r *record) chainedForm() ([]byte, error) {
	f := r.form
	if f == nil || strings.IndexFunc(r.Prev, func(c rune) bool { return !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') }) >= 0 {
		return r.canonical()
	}
	b := make([]byte, 0, len(f.before)+len(f.after)+len(r.Prev)+40)
	b = append(b, f.before...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"prev":"`...)
	b = append(b, r.Prev...)
	b = append(b, '"')
	return append(b, f.after...), nil
}

// newRecord turns a normalised entry into a record without its place in the
// chain (seq, prev, hash), which the writer assigns.
func newRecord(e *Entry) (*record, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	r := &record{
		ID: id, Kind: kindEvent, T: e.Time,
		RequestID: e.RequestID, Interaction: e.Interaction, Operation: e.Operation,
		ResourceType: e.ResourceType, Query: e.Query, Outcome: e.Outcome, HTTPStatus: e.HTTPStatus,
		AgentKind: e.Agent.Kind, Subject: e.Agent.Subject, Org: e.Agent.Org, Role: e.Agent.Role,
		Purpose: e.Agent.Purpose, BreakGlassReason: e.Agent.BreakGlassReason,
		ClientID: e.Agent.ClientID, AgentPatient: e.Agent.Patient, Network: e.Agent.Network,
		Patients: e.Patients, Resources: e.Resources, Categories: e.Categories, Counts: e.Counts,
		Allowed: e.Decision.Allowed, BreakGlass: e.breakGlass(), Reasons: e.Decision.Reasons,
		Revision: e.Decision.Revision, Obligations: e.Decision.Obligations,
		Decided: e.Decided, DecidedOmitted: e.DecidedOmitted, Destruction: e.Destruction,
	}
	if e.Agent.Kind == KindPerson {
		switch {
		case e.Agent.Patient != "":
			r.Own = []string{e.Agent.Patient}
		case e.Decision.Allowed:
			// The policy lets persons see only their own record.
			r.Own = e.Patients
		}
	}
	return r, nil
}

// newID returns a 128-bit id in hex, a valid FHIR id: the time in
// milliseconds (48 bits, as in a version 7 UUID) then 80 random bits.
// Ids made later sort later, so the trail's id index grows at its end
// instead of taking each new id on a random page.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[6:]); err != nil {
		return "", fmt.Errorf("audit record id: %w", err)
	}
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return hex.EncodeToString(b[:]), nil
}

// canonicalForm is the JSON a record's hash covers: the record's fields but
// Hash, with prev included and the time in Unix milliseconds, under a
// version. SQLite stores it as the record's doc.
type canonicalForm struct {
	V int     `json:"v"`
	T int64   `json:"t"`
	R *record `json:"r"`
}

// canonical returns the canonical form of r.
func (r *record) canonical() ([]byte, error) {
	b, err := json.Marshal(canonicalForm{hashVersion, r.T.UnixMilli(), r})
	if err != nil {
		return nil, fmt.Errorf("encode audit record: %w", err)
	}
	return b, nil
}

// computeHash returns sha256 over the canonical form of r, which includes
// r.Prev and excludes r.Hash, and keeps that form in r.doc.
func (r *record) computeHash() (string, error) {
	b, err := r.chainedForm()
	if err != nil {
		return "", err
	}
	r.doc = b
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

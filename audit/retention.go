package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Purge removes records older than the retention, as of now, and returns
// how many it removed; with no retention configured it removes nothing. It
// only ever removes a prefix of the chain (every record before the first one
// still within retention), so a record may outlive its retention but never
// the reverse. Before deleting, it appends a checkpoint record carrying the
// seq and hash of the last record it will remove; Verify starts from there.
// An interrupted purge leaves a valid chain that the next purge finishes.
func (l *Log) Purge(ctx context.Context, now time.Time) (int64, error) {
	if l.opt.Retention == 0 {
		return 0, nil
	}
	cutoff := now.Add(-l.opt.Retention).UTC()
	cp, err := latestCheckpoint(ctx, l.coll)
	if err != nil {
		return 0, err
	}
	var through int64
	var first struct {
		Seq int64 `bson:"seq"`
	}
	err = l.coll.FindOne(ctx, bson.D{{Key: "t", Value: bson.D{{Key: "$gte", Value: cutoff}}}},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: 1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&first)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		h, err := loadHead(ctx, l.coll)
		if err != nil {
			return 0, err
		}
		through = h.seq
	case err != nil:
		return 0, fmt.Errorf("purge audit records: %w", unavailable(err))
	default:
		through = first.Seq - 1
	}
	if through <= cp.seq {
		// Nothing new to purge; finish an interrupted purge, if any.
		return l.deleteThrough(ctx, cp.seq)
	}
	var last record
	if err := l.coll.FindOne(ctx, bson.D{{Key: "seq", Value: through}}).Decode(&last); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return 0, fmt.Errorf("purge audit records: record %d is missing; run audit verify", through)
		}
		return 0, fmt.Errorf("purge audit records: %w", unavailable(err))
	}
	n, err := l.coll.CountDocuments(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$lte", Value: through}}}})
	if err != nil {
		return 0, fmt.Errorf("purge audit records: %w", unavailable(err))
	}
	id, err := newID()
	if err != nil {
		return 0, err
	}
	mark := &record{ID: id, Kind: kindCheckpoint, T: now.UTC().Truncate(time.Millisecond),
		PurgedSeq: through, PurgedHash: last.Hash, PurgedCount: n}
	if err := l.append(ctx, mark); err != nil {
		return 0, fmt.Errorf("write audit checkpoint: %w", err)
	}
	return l.deleteThrough(ctx, through)
}

// deleteThrough removes the records up to seq through, which a checkpoint
// already covers.
func (l *Log) deleteThrough(ctx context.Context, through int64) (int64, error) {
	res, err := l.coll.DeleteMany(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$lte", Value: through}}}})
	if err != nil {
		return 0, fmt.Errorf("purge audit records: %w", unavailable(err))
	}
	if res.DeletedCount > 0 {
		l.logger.Info("audit records purged", "records", res.DeletedCount, "through_seq", through)
	}
	return res.DeletedCount, nil
}

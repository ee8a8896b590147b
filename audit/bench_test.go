package audit

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// BenchmarkRecord measures the audit write a request waits for, with 1 and
// 16 concurrent requests, and reports how many records share an InsertMany.
func BenchmarkRecord(b *testing.B) {
	for _, g := range []int{1, 16} {
		b.Run(fmt.Sprintf("goroutines-%d", g), func(b *testing.B) {
			db, inserts := monitoredDB(b)
			l := openOn(b, db, Options{})
			ctx := context.Background()
			var i atomic.Int64
			before := inserts.n.Load()
			b.ReportAllocs()
			b.ResetTimer()
			if g == 1 {
				for b.Loop() {
					if _, err := l.Record(ctx, readEntry(int(i.Add(1)), "Patient/p1")); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(max(1, g/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Record(ctx, readEntry(int(i.Add(1)), "Patient/p1")); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			if n := inserts.n.Load() - before; n > 0 {
				b.ReportMetric(float64(i.Load())/float64(n), "records/insert")
			}
		})
	}
}

// BenchmarkRecordSQLite is BenchmarkRecord on a SQLite file, reporting
// how many records share a transaction.
func BenchmarkRecordSQLite(b *testing.B) {
	for _, g := range []int{1, 16} {
		b.Run(fmt.Sprintf("goroutines-%d", g), func(b *testing.B) {
			l := newBackend(b, "sqlite").open(b, Options{})
			batches := &l.recs.(*sqliteRecords).batches
			ctx := context.Background()
			var i atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			if g == 1 {
				for b.Loop() {
					if _, err := l.Record(ctx, readEntry(int(i.Add(1)), "Patient/p1")); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(max(1, g/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Record(ctx, readEntry(int(i.Add(1)), "Patient/p1")); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			if n := batches.Load(); n > 0 {
				b.ReportMetric(float64(i.Load())/float64(n), "records/tx")
			}
		})
	}
}

// BenchmarkInsertOneBaseline is one plain majority-acknowledged InsertOne of
// an equivalent record into a collection with the same indexes, without
// chain, hashing or batching: the floor that Record is compared with.
func BenchmarkInsertOneBaseline(b *testing.B) {
	db, _ := monitoredDB(b)
	ctx := context.Background()
	l, err := Open(ctx, db, Options{Collection: "plain"}) // creates the indexes
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Close(ctx); err != nil {
		b.Fatal(err)
	}
	coll := db.Collection("plain", options.Collection().SetWriteConcern(writeconcern.Majority()))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e := readEntry(i, "Patient/p1")
		if err := e.normalise(base); err != nil {
			b.Fatal(err)
		}
		r, err := newRecord(&e)
		if err != nil {
			b.Fatal(err)
		}
		r.Seq = int64(i)
		if _, err := coll.InsertOne(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

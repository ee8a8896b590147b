// Package storetest gives tests a real database: the embedded
// MongoDB-compatible server in a temporary directory, reached with the
// official driver over the wire protocol. There is no fake store.
package storetest

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

// Server starts an embedded server with its data in dir (t.TempDir() when
// dir is empty), stopped when the test ends. It returns the connection URI.
func Server(tb testing.TB, dir string) string {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	srv, err := embedded.Start(context.Background(), dir, nil)
	if err != nil {
		tb.Fatalf("start embedded database: %v", err)
	}
	tb.Cleanup(srv.Close)
	return srv.URI()
}

// Database starts an embedded server and returns a connected database
// named name, disconnected when the test ends.
func Database(tb testing.TB, name string) *mongo.Database {
	tb.Helper()
	uri := Server(tb, "")
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(name)
}

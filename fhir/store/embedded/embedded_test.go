package embedded_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
)

func TestDataSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func() {
		srv, err := embedded.Start(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		c, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Disconnect(ctx)
		if _, err := c.Database("t").Collection("c").InsertOne(ctx, bson.M{"_id": "a", "v": 1}); err != nil {
			t.Fatal(err)
		}
	}
	write()
	srv, err := embedded.Start(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	var got bson.M
	if err := c.Database("t").Collection("c").FindOne(ctx, bson.M{"_id": "a"}).Decode(&got); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

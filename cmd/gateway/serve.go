package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/socialcare-fhir/gateway/fhir/store"
	"github.com/socialcare-fhir/gateway/fhir/store/embedded"
	"github.com/socialcare-fhir/gateway/gateway"
)

func serve(ctx context.Context, args []string) error {
	cfg, err := parseConfig(args, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	logger := cfg.logger()
	uri := cfg.MongoURI
	if uri == "" {
		db, err := embedded.Start(ctx, cfg.DataDir, logger)
		if err != nil {
			return err
		}
		defer db.Close()
		uri = db.URI()
		logger.Info("embedded database started", "data_dir", cfg.DataDir)
	}
	st, err := store.Open(ctx, uri, store.Options{Database: cfg.Database, Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	if cfg.Demo {
		n, err := loadDemo(ctx, st)
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		logger.Warn("DEVELOPMENT: synthetic demo records loaded", "resources", n)
	}
	h := gateway.New(gateway.Config{
		BaseURL:        cfg.BaseURL,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RequestTimeout: cfg.RequestTimeout,
		DefaultCount:   cfg.DefaultCount,
		MaxCount:       cfg.MaxCount,
	}, st, logger)
	srv := &http.Server{Addr: cfg.Addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return gateway.ListenAndServe(ctx, srv, cfg.ShutdownGrace, func(addr string) {
		logger.Info("gateway listening", "url", "http://"+addr, "mode", cfg.Mode)
		fmt.Fprintf(os.Stderr, "FHIR gateway listening on http://%s (try: curl http://%s/metadata)\n", addr, addr)
	})
}

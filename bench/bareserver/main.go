// Command bareserver is the comparison point for the gateway's read
// benchmarks: a bare Gin server that answers GET /Patient/:id with the
// same fixed bytes every time (a Patient fetched once from the gateway),
// with none of the gateway's work (no token check, policy, database, audit
// or redaction). The gateway's requests per second over this server's is
// what that work costs on the same machine, framework and HTTP stack.
//
//	go run ./bench/bareserver -file patient.json -addr 127.0.0.1:18081
//
// scripts/bench/reads.sh starts it and runs wrk against both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	file := flag.String("file", "", "the bytes to serve (e.g. a Patient JSON fetched from the gateway); required")
	contentType := flag.String("content-type", "application/fhir+json; charset=utf-8", "Content-Type of the answer (the gateway's)")
	flag.Parse()
	if *file == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New() // no logger or recovery middleware: the least Gin does
	r.GET("/Patient/:id", func(c *gin.Context) {
		c.Data(http.StatusOK, *contentType, body)
	})
	srv := &http.Server{Addr: *addr, Handler: r, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "bareserver: serving %d bytes of %s on http://%s/Patient/:id\n", len(body), *file, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

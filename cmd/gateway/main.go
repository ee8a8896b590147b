// Command gateway is the FHIR gateway for sharing adult social care records
// with the NHS. It serves FHIR R4 REST from the embedded SQLite engine (in
// the data directory) or, with a MONGODB_URI, from MongoDB.
//
// Usage:
//
//	gateway [serve] [flags]    run the gateway (the default)
//	gateway token [flags]      mint a DEVELOPMENT token for the fixture organisations
//	gateway import [flags] FILE  bulk-import social care records (NDJSON or CLD CSV)
//	gateway copy -from X -to Y   move everything to an empty engine (data directory or mongodb:// URI)
//	gateway audit verify       check the audit trail's hash chain
//	gateway policy check       say whether a policy directory would be accepted
//	gateway policy decide      show the policy's decision on one input (JSON)
//	gateway synth [flags]      write synthetic people as NDJSON, for load tests
//
// Every flag has an environment variable equivalent; see the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
)

// gcPercent is the garbage collector's target when GOGC is not set: the
// heap may grow to five times what is live before a collection (Go's
// default is twice). Collections were a tenth of the CPU of a GP's read
// and of a bulk import; at 400 a read costs about 12% less CPU and an
// import of 100,000 resources takes a tenth less time, for about half as
// much memory again (an import's peak 350 MB -> 520 MB). When GOGC or
// GOMEMLIMIT is set, they decide.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("GATEWAY_CPUPROFILE"); path != "" {
		// For performance work: a CPU profile of the whole command.
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateway: GATEWAY_CPUPROFILE:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("GATEWAY_TRACE"); path != "" {
		// For performance work: an execution trace of the whole command
		// (go tool trace), to see what waits for what.
		f, err := os.Create(path)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateway: GATEWAY_TRACE:", err)
			os.Exit(2)
		}
		defer trace.Stop()
	}
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		pprof.StopCPUProfile()
		trace.Stop()
		os.Exit(2)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args)
	case "import":
		return importCmd(ctx, args, os.Stderr)
	case "copy":
		return copyCmd(ctx, args, os.Stdout, os.Stderr)
	case "audit":
		return auditCmd(ctx, args, os.Stdout, os.Stderr)
	case "policy":
		return policyCmd(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	case "synth":
		return synthCmd(args, os.Stdout, os.Stderr)
	case "token":
		return token(args, os.Stdout, os.Stderr)
	case "help":
		fmt.Println(`gateway [serve] [flags]      run the FHIR gateway (gateway serve -h lists the flags)
gateway token [flags]        mint a DEVELOPMENT token (gateway token -h)
gateway import [flags] FILE  bulk-import social care records, NDJSON or CLD CSV
gateway copy -from X -to Y   move everything to another (empty) engine: X and Y are data directories or mongodb:// URIs
gateway audit verify         check the audit trail's hash chain
gateway policy check         say whether a policy directory would be accepted, and why not
gateway policy decide [FILE] show the policy's decision on one input (JSON)
gateway synth [flags]        write synthetic people as NDJSON records for load tests`)
		return nil
	}
	return fmt.Errorf("unknown command %q; try: gateway help", cmd)
}

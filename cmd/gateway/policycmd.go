package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/socialcare-fhir/gateway/policy"
)

// policyCmd runs `gateway policy check`, `gateway policy decide` and
// `gateway policy explain` (explaincmd.go), the
// information governance lead's tools: check says whether a running
// gateway would accept the policy in a directory (and why not), decide
// shows the decision it makes on one input.
func policyCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	usage := func() error {
		fmt.Fprintln(stderr, `usage: gateway policy check [-policy-dir DIR]
       gateway policy decide [-policy-dir DIR] [FILE]   (the input as JSON; - or none reads standard input)
`+policyVersionUsage+"\n"+policyExplainUsage)
		return errUsage
	}
	if len(args) > 0 && isPolicyVersionCommand(args[0]) {
		return policyVersionCmd(ctx, args[0], args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "explain" {
		return policyExplainCmd(ctx, args[1:], stdin, stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "check" && args[0] != "decide") {
		return usage()
	}
	fs := flag.NewFlagSet("gateway policy "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("policy-dir", envOr("GATEWAY_POLICY_DIR", "policy"), "the Rego policy, its data and tests")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	e, err := policy.Load(ctx, *dir)
	if err != nil {
		return fmt.Errorf("the policy in %s would be refused: %w", *dir, err)
	}
	if args[0] == "check" {
		fmt.Fprintf(stdout, "the policy in %s would be accepted: revision %s (formatted, compiled in strict mode, its Rego tests pass, its search filters translate and its plans agree with full evaluation)\n", *dir, e.Revision())
		return nil
	}
	in := stdin
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var input policy.Input
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&input); err != nil {
		return fmt.Errorf("read the decision input: %w (fields: action, subject, resource, context; see docs/policy-guide.md)", err)
	}
	d, err := e.Decide(ctx, input)
	if err != nil {
		return err
	}
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	return out.Encode(d)
}

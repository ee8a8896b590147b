package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
)

const policyExplainUsage = `       gateway policy explain  [engine flags] -audit ID [-revision recorded|active] [-json]
       gateway policy explain  [-policy-dir DIR] -input FILE [-json]   (a decision input as gateway policy decide takes it; - reads standard input)`

// policyExplainCmd runs gateway policy explain: an audited decision
// explained again from the decision inputs its record carries (the
// database the engine flags name: stop no gateway), under the revision
// that made it or the active version; or a hypothetical input explained
// under the policy in a directory.
func policyExplainCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway policy explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := addEngineFlags(fs)
	auditID := fs.String("audit", "", "the id of the audit record (AuditEvent) to explain")
	inputFile := fs.String("input", "", "a decision input (JSON) to explain; - reads standard input")
	revision := fs.String("revision", versions.UnderRecorded, "with -audit: recorded (the revision that decided) or active (the version in force now)")
	dir := fs.String("policy-dir", envOr("GATEWAY_POLICY_DIR", "policy"), "with -input: the policy to explain under")
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if (*auditID == "") == (*inputFile == "") {
		return errors.New("gateway policy explain needs -audit ID or -input FILE (one of them)")
	}
	print := func(v any, text func(io.Writer)) error {
		if *asJSON {
			out := json.NewEncoder(stdout)
			out.SetIndent("", "  ")
			return out.Encode(v)
		}
		text(stdout)
		return nil
	}
	if *inputFile != "" {
		in, err := readInput(*inputFile, stdin)
		if err != nil {
			return err
		}
		e, err := policy.Load(ctx, *dir)
		if err != nil {
			return fmt.Errorf("the policy in %s would be refused: %w", *dir, err)
		}
		x, err := e.Explain(ctx, in, policy.AllFacts)
		if err != nil {
			return err
		}
		return print(x, func(w io.Writer) { writeExplanation(w, x, "") })
	}
	if *revision != versions.UnderRecorded && *revision != versions.UnderActive {
		return fmt.Errorf("-revision takes recorded or active, not %q", *revision)
	}
	eng, err := ef.open(ctx, nil)
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())
	dr, err := eng.Audit.DecisionRecord(ctx, *auditID)
	if err != nil {
		return fmt.Errorf("audit record %s: %w", *auditID, err)
	}
	under := *revision
	var e *policy.Engine
	if under == versions.UnderRecorded {
		v, err := eng.Policies.Get(ctx, versions.IDOf(dr.Revision))
		switch {
		case errors.Is(err, versions.ErrNotFound):
			fmt.Fprintf(stderr, "revision %s is not a stored policy version; explaining under the active version\n", dr.Revision)
			under = versions.UnderActive
		case err != nil:
			return err
		default:
			if e, err = policy.LoadFiles(ctx, v.Files()); err != nil {
				return fmt.Errorf("policy version %s does not load: %w", v.ID, err)
			}
		}
	}
	if e == nil {
		l, err := versions.NewLoader(ctx, eng.Policies, nil)
		if err != nil {
			return fmt.Errorf("load the active policy version: %w", err)
		}
		e = l.Current()
	}
	x, err := versions.ExplainRecord(ctx, e, under, dr)
	if err != nil {
		return fmt.Errorf("audit record %s: %w", *auditID, err)
	}
	return print(x, func(w io.Writer) {
		verdict := "refused"
		if x.Recorded.Allowed {
			verdict = "allowed"
		}
		fmt.Fprintf(w, "audit record %s: %s at %s, recorded %s by revision %s\n", x.AuditID, x.Interaction, x.Time.Format("2006-01-02 15:04:05Z07:00"), verdict, x.Recorded.Revision)
		fmt.Fprintf(w, "explained under the %s revision %s; %d decision(s) now decided the other way\n", x.Under, x.Revision, x.Changed)
		for i, d := range x.Decisions {
			fmt.Fprintf(w, "\n--- decision %d (made %d time(s), recorded allowed=%t)\n", i+1, d.Count, d.WasAllowed)
			note := ""
			if d.Inexact {
				note = "a fact this revision reads was not worked out when the decision was made; taken as no"
			}
			writeExplanation(w, d.Explanation, note)
		}
		if x.Omitted > 0 {
			fmt.Fprintf(w, "\n%d further decision(s) not shown\n", x.Omitted)
		}
	})
}

func readInput(name string, stdin io.Reader) (policy.Input, error) {
	var in policy.Input
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return in, err
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("read the decision input: %w (fields: action, subject, resource, context; see docs/policy-guide.md)", err)
	}
	return in, nil
}

// writeExplanation prints an explanation as plain text.
func writeExplanation(w io.Writer, x *policy.Explanation, note string) {
	fmt.Fprintln(w, x.Summary)
	if note != "" {
		fmt.Fprintln(w, "note: "+note)
	}
	for _, r := range x.Rules {
		told := ""
		if r.Outcome == "refused" && !r.Disclosed {
			told = ", not told to the caller"
		}
		fmt.Fprintf(w, "  %s %s: %s (%s:%d%s)\n      %s\n", r.Outcome, r.ID, r.Title, r.File, r.Row, told, r.Description)
	}
	f := x.Facts
	fmt.Fprintf(w, "facts: %s by %s %s (%s, %s), role %s (class %s), purpose %s (%s)\n", f.Action, f.SubjectKind, f.Org, f.OrgName, f.OrgKind, f.Role, f.RoleClass, f.Purpose, f.PurposeMeaning)
	fmt.Fprintf(w, "       record %s, categories %s, labels %s\n", f.ResourceType, strings.Join(f.Categories, ", "), strings.Join(f.Labels, ", "))
	fmt.Fprintf(w, "       relationship %s, objection %s, known to council %s, self %s, provider named %s\n", f.Relationship, f.Objection, f.KnownToCouncil, f.Self, f.ProviderNamed)
	for _, r := range x.Redactions {
		fmt.Fprintf(w, "redacted %s: %s", r.Pointer, r.Plain)
		if r.Why != "" {
			fmt.Fprintf(w, " (%s)", r.Why)
		}
		fmt.Fprintln(w)
	}
	for _, o := range x.Obligations {
		fmt.Fprintf(w, "obligation %s: %s\n", o.Code, o.Plain)
	}
	fmt.Fprintf(w, "revision %s (evaluated in full)\n", x.Revision)
}

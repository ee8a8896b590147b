package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/socialcare-fhir/gateway/policy"
	"github.com/socialcare-fhir/gateway/policy/versions"
	"github.com/socialcare-fhir/gateway/storage"
)

// policyVersionCommands are the subcommands of gateway policy that work on
// the stored versions.
var policyVersionCommands = []string{"list", "propose", "test", "approve", "activate", "rollback", "impact", "shadow"}

const policyVersionUsage = `       gateway policy list     [engine flags] [-seed-dir DIR]   (an empty database starts with -seed-dir as its active version)
       gateway policy propose  [engine flags] -as WHO [-org ODS -role CODE] [-policy-dir DIR] [-note TEXT]
       gateway policy test     [engine flags] -as WHO ID
       gateway policy approve  [engine flags] -as WHO -org ODS -role CODE [-note TEXT] ID
       gateway policy activate [engine flags] -as WHO ID
       gateway policy rollback [engine flags] -as WHO ID
       gateway policy impact   [engine flags] [-since 168h] ID
       gateway policy shadow   [engine flags] -as WHO [-stop] ID   (every gateway on the database decides live traffic under it too; its report: GET /policy/versions/ID/$shadow)
  The CLI trusts its operator: -as, -org and -role say who acts, and the
  audit record says so. In production use the API (/policy/versions),
  which takes them from the caller's token.`

// policyVersionCmd runs one of policyVersionCommands on the database the
// engine flags name (stop no gateway: both may use it at once).
func policyVersionCmd(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway policy "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := addEngineFlags(fs)
	as := fs.String("as", "", "who acts: their user id (recorded in the version's history and the audit trail)")
	org := fs.String("org", "", "the acting person's organisation (ODS code)")
	role := fs.String("role", "", "the acting person's job role code, e.g. R5105 (the active policy decides who may approve)")
	note := fs.String("note", "", "why (propose, approve)")
	dir := fs.String("policy-dir", envOr("GATEWAY_POLICY_DIR", "policy"), "the directory proposed (propose)")
	seedDir := fs.String("seed-dir", envOr("GATEWAY_POLICY_DIR", "policy"), "the policy an empty database starts with, as its active version (as gateway serve does)")
	since := fs.Duration("since", versions.DefaultImpactPeriod, "how far back the impact preview replays audited decisions")
	stop := fs.Bool("stop", false, "stop the version's shadow (shadow)")
	minCov := fs.Float64("min-coverage", versions.DefaultMinRuleCoverage, "share (percent) of each rule's lines the Rego tests must evaluate (test)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	id := fs.Arg(0)
	needsID := cmd != "list" && cmd != "propose"
	if needsID && id == "" {
		return fmt.Errorf("gateway policy %s needs the version id (see gateway policy list)", cmd)
	}
	if *as == "" && cmd != "list" && cmd != "impact" {
		return fmt.Errorf("gateway policy %s needs -as: who acts", cmd)
	}
	eng, err := ef.open(ctx, nil)
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())
	w := &versions.Workflow{Store: eng.Policies, Audit: eng.Audit, MinRuleCoverage: *minCov}
	if err := seed(ctx, w, *seedDir); err != nil {
		return err
	}
	by := versions.Person{Subject: *as, Org: *org, Role: *role}
	var v *versions.Version
	switch cmd {
	case "list":
		return listVersions(ctx, w, stdout)
	case "propose":
		files, err := policy.ReadFiles(*dir)
		if err != nil {
			return err
		}
		v, err = w.Propose(ctx, by, files, *note)
		if err != nil {
			return err
		}
	case "test":
		v, err = w.Test(ctx, by, id)
		if v != nil && v.Report != nil {
			fmt.Fprintf(stdout, "coverage %.1f%% of lines; rules below %.0f%%: %d\n", v.Report.Coverage, v.Report.MinCoverage, len(v.Report.Uncovered))
		}
		if err != nil {
			return err
		}
	case "approve":
		loader, err := versions.NewLoader(ctx, eng.Policies, nil)
		if err != nil {
			return err
		}
		if v, err = w.Approve(ctx, loader.Current(), by, id, *note); err != nil {
			return err
		}
	case "activate":
		if v, err = w.Activate(ctx, by, id); err != nil {
			return err
		}
	case "rollback":
		if v, err = w.Rollback(ctx, by, id); err != nil {
			return err
		}
	case "impact":
		return impact(ctx, eng, id, *since, stdout)
	case "shadow":
		if v, err = w.Shadow(ctx, by, id, !*stop); err != nil {
			return err
		}
		if v.Shadowing != 0 {
			fmt.Fprintf(stdout, "policy version %s is in shadow: each gateway on this database starts it at its next policy poll\n", v.ID)
		} else {
			fmt.Fprintf(stdout, "policy version %s is no longer in shadow\n", v.ID)
		}
		return nil
	}
	fmt.Fprintf(stdout, "policy version %s is %s\n", v.ID, v.State)
	return nil
}

// seed stores the policy in dir as the active version of an empty
// database.
func seed(ctx context.Context, w *versions.Workflow, dir string) error {
	if id, err := w.Store.ActiveID(ctx); err != nil || id != "" {
		return err
	}
	files, err := policy.ReadFiles(dir)
	if err != nil {
		return fmt.Errorf("the database holds no policy version; seeding it from %s: %w", dir, err)
	}
	_, err = w.Seed(ctx, files)
	return err
}

func listVersions(ctx context.Context, w *versions.Workflow, stdout io.Writer) error {
	vs, err := w.List(ctx)
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Fprintf(stdout, "%s  %-8s  %s  by %s  %s\n", v.ID, v.State, v.Created.Format(time.RFC3339), v.Author.Subject, v.Note)
	}
	return nil
}

// impact replays the audited decisions since under version id and prints
// the report as JSON.
func impact(ctx context.Context, eng *storage.Engine, id string, since time.Duration, stdout io.Writer) error {
	v, err := eng.Policies.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("policy version %s: %w", id, err)
	}
	e, err := policy.LoadFiles(ctx, v.Files())
	if err != nil {
		return fmt.Errorf("policy version %s does not load: %w", id, err)
	}
	now := time.Now()
	rep, err := versions.Impact(ctx, e, eng.Audit, now.Add(-since), now)
	if err != nil {
		return err
	}
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	return out.Encode(rep)
}

func isPolicyVersionCommand(cmd string) bool { return slices.Contains(policyVersionCommands, cmd) }

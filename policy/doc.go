// Package policy decides who may read and write which social care records.
// It embeds Open Policy Agent: the rules are Rego modules in this directory
// (package gateway.authz), the data sharing agreement is data.json (which
// organisations signed, of what kind, which job roles form which role class
// and which record categories each class may see), and the Rego tests sit
// beside them in *_test.rego. docs/policy-guide.md explains the rules for
// information governance leads.
//
// Data moves through it like this:
//
//   - [Load] (a directory) and [LoadFiles] (a stored version) check a
//     version: every module must be formatted and compile in strict mode
//     with network built-ins removed, the Rego tests must exist and pass
//     (none, or any failure, rejects it), the decision, page and filter
//     queries are prepared once, and the result is an immutable [Engine]
//     named by its [Engine.Revision], a hash of the files
//     ([Files.Revision]). [Coverage] reports how much of each rule the
//     tests evaluate. The gateway serves the active version kept in the
//     database (package policy/versions, whose Loader swaps engines when
//     another version is activated); [Loader] serves a directory, reloaded
//     when a file changes or on SIGHUP, for tests and tools.
//   - The store saves [Attributes] of each resource (patient, record
//     categories, security labels, author organisations) on its document.
//   - A request takes [Loader.Current] once and uses that engine throughout.
//     The engine decides by plans (plan.go): for each caller (action and the
//     subject fields the policy reads) OPA partially evaluates the per-record
//     rules once, with the record and its patient facts unknown, and what is
//     left is compiled into Go predicates (residual.go). [Engine.Needs] names
//     the patient facts a caller's plan reads, so the gateway looks up only
//     those.
//   - A search asks [Engine.Filter] for its restriction: the plan's
//     conditions with the caller's patient lists put in, translated to a
//     condition of package cond over the stored access attributes
//     (filter.go), which each storage engine emits in its own query
//     language, so pages and totals count only what the caller may see;
//     anything untranslatable is an error (fail closed). Each resource
//     returned is then decided again with [Engine.DecideMany] or
//     [Engine.Decide], and the caller removes the [Decision.Redactions] and
//     honours the [Decision.Obligations]. A refusal tells the caller only
//     [Decision.Disclosed] (the policy leaves out rules that would
//     disclose something about the person); the audit trail keeps every
//     reason.
//   - Operations that are not reads of a record (the access report,
//     $who-accessed; $data-quality and its trend's $data-quality-snapshot
//     and $data-quality-trend; the case-file audit's
//     $case-file-sample, $case-file-report and $case-file-review
//     (casefile.rego, CASEAUDIT-13-case-file-audit: the data-quality
//     staff of quality.rego); the rights operations $accept,
//     $decline, $recipients, $overdue, $subject-access) are decided by
//     [Engine.DecideOperation], in full.
//   - At load, every caller kind in the agreement is planned and its plan
//     compared with full evaluation over probe records (probe.go); a policy
//     whose plans disagree, or whose conditions cannot be compiled, is
//     refused. Policies that read the clock or random numbers, or define no
//     plan entry points, are evaluated in full instead.
//   - Every rule id a policy can give as a reason carries a # METADATA
//     annotation (title, description, custom id), read at load into
//     [Engine.Rules] (annotations.go); a policy with an unannotated id is
//     refused. [Engine.Explain] (explain.go) decides one input in full and
//     says in those words which rules applied, on which facts, with which
//     redactions; [Engine.Agreement] (agreement.go) is the agreement of
//     data.json in plain words, for the agreement and rights pages.
//
// # Accepted Rego
//
// What partial evaluation leaves of the per-record rules, with the record
// (input.resource) and its patient facts (input.context) unknown, is
// accepted in these shapes only, directly or inside support rules whose
// parameters stand for the record, one of its attributes, the facts or
// constants; anything else refuses the plan, and at load the policy:
//
//   - "s" in r.categories (also r.labels, r.author_orgs);
//   - r.patient in a constant list or a patient list of the facts
//     (c.related_patients, c.objected_patients, c.known_patients,
//     c.self_patients, and c.shared_consent["cat"], c.shared_duty["cat"]
//     for a constant record category: the patients a Consent shares that
//     category of with the caller, share.rego), r.patient == "s",
//     r.patient != "s";
//   - a fact on its own or compared (c.related == true, and objected,
//     self, known_to_council, provider_named);
//   - comparisons and membership between constants;
//   - negation, conjunction (a body) and disjunction (several bodies or
//     support rules) of these.
//
// A plan's Go predicates (residual.go) also accept "some x in <list>"
// followed by conditions on x. A search filter (filter.go) takes the facts
// as patient lists and turns each accepted shape into a condition of
// package cond: membership of a string in a list attribute becomes
// equality on it, r.patient in a list membership, != a negated equality;
// the conditions that come out are those the cond package doc lists, on
// its access attributes. An iteration, or a shape over a list attribute
// other than membership of a string, is untranslatable (an error, never an
// unfiltered search).
package policy

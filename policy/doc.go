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
//   - At start-up [NewLoader] calls [Load], which reads the directory, checks
//     that every module is formatted and compiles in strict mode with network
//     built-ins removed, runs the Rego tests (none, or any failure, rejects the
//     version), prepares the decision, page and filter queries once and
//     returns an immutable [Engine] named by its [Engine.Revision], a hash of
//     the modules and data. [Loader.Watch] repeats this when a file changes or
//     on SIGHUP and swaps the engine only if the new version passed.
//   - The store saves [Attributes] of each resource (patient, record
//     categories, security labels, author organisations) on its document.
//   - A request takes [Loader.Current] once and uses that engine throughout.
//     The engine decides by plans (plan.go): for each caller (action and the
//     subject fields the policy reads) OPA partially evaluates the per-record
//     rules once, with the record and its patient facts unknown, and what is
//     left is compiled into Go predicates (residual.go). [Engine.Needs] names
//     the patient facts a caller's plan reads, so the gateway looks up only
//     those.
//   - A search asks [Engine.Filter] for a MongoDB filter: the plan's
//     conditions with the caller's patient lists put in, translated to bson
//     (filter.go), so pages and totals count only what the caller may see;
//     anything untranslatable is an error (fail closed). Each resource
//     returned is then decided again with [Engine.DecideMany] or
//     [Engine.Decide], and the caller removes the [Decision.Redactions] and
//     honours the [Decision.Obligations].
//   - At load, every caller kind in the agreement is planned and its plan
//     compared with full evaluation over probe records (probe.go); a policy
//     whose plans disagree, or whose conditions cannot be compiled, is
//     refused. Policies that read the clock or random numbers, or define no
//     plan entry points, are evaluated in full instead.
package policy

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
//     A search asks [Engine.Filter] for a MongoDB filter: OPA partially
//     evaluates the read rules with the resource unknown and the result is
//     translated to bson, so pages and totals count only what the caller may
//     see; anything untranslatable is an error (fail closed). Each resource
//     returned is then decided again with [Engine.DecideMany] (one evaluation
//     per page) or [Engine.Decide], and the caller removes the
//     [Decision.Redactions] and honours the [Decision.Obligations].
package policy

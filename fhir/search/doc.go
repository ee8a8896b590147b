// Package search is the FHIR R4 search-parameter layer of the gateway: which
// search parameters each resource type supports, how their values are
// extracted from a resource into fields stored beside it, and how a search
// query string becomes a condition on those fields (package cond), which
// each storage engine emits in its own query language.
//
// Data moves through it in two directions.
//
// On write, the store calls [Index] with the resource's decoded JSON. Index
// evaluates each parameter's path (the R4 FHIRPath expression, simplified to
// plain paths and choice types) and returns the document's "sp" field: flat
// arrays of scalars that every engine can match by equality, membership,
// prefix, containment and range comparisons, one value at a time. It also
// returns the patient compartment ("Patient/<id>" strings). [IndexKeys] lists
// the stored fields the store should index.
//
// On read, the HTTP edge calls [Parse] with the query parameters. Parse checks
// every parameter against [Params], reports every problem at once as a
// *fhir.Error with status 400, and returns a [Query]: a *cond.Node built
// only from this package's own field names (client text only ever appears
// as a value, never as a field, an operator or a pattern), plus the result
// parameters (_count, _sort, _include, ...) and the canonical parameters for
// the Bundle's self link.
//
// # Stored search fields
//
// For a parameter named n, sp.n holds, by parameter type:
//
//   - token: {c: [code], sc: ["system|code" or "|code"], s: [system], t: [text]}
//   - string: {n: [lower-case, accent-free form], e: [exact form]}
//   - date: {lo: DateTime, hi: DateTime}, a half-open range [lo, hi) in UTC;
//     open Period ends use the minimum and maximum representable dates
//   - reference: ["Type/id", ...] (relative, without version)
//   - quantity: {v: number, sc: ["system|code"], c: [code, unit]}
//   - uri: [uri, ...]
//
// A field is set only when the resource has a value, so :missing is a test
// of existence.
// Sortable date parameters also get sp._sort.n.a (ascending key, lo) and
// sp._sort.n.d (descending key, hi) on every document, with sentinels for
// missing values so those sort last in both directions.
//
// Approximation: when a date parameter has several values in one resource
// (for example several Timing events), the stored range is the smallest lo
// and the largest hi, so a search can match the gap between them.
package search

// Package casefile provides case-file audit sampling: the checklist a
// reviewer answers, a reproducible stratified random sample of people,
// the check of a reviewer's answers against the checklist, and the tally
// of the results. It knows nothing of HTTP, storage or policy; the
// gateway (gateway/casefile.go) reads the population as the caller may,
// stores samples and reviews, and asks the policy.
//
// # How data moves
//
//   - The checklist is a FHIR R4 Questionnaire. The gateway ships one,
//     checklist.json ([Default]): canonical url [ChecklistURL], version
//     "1", nine choice questions answered yes, no or not-applicable
//     ([AnswerSystem], a project code system: HL7 has no code system for
//     this answer set) and a free-text comment. Its linkIds are stable:
//     plan-current, plan-reviewed, persons-views, risk-assessment,
//     consent-sharing, nhs-number-verified, entries-signed-dated,
//     outcomes-recorded, safeguarding-followed-up, comments. A council
//     may use its own checklist (its own url and version) for a sample:
//     [ParseChecklist] accepts Questionnaires of flat choice, boolean,
//     string and text items and names every problem of one that is not.
//   - [Draw] draws the sample from the population ([Member]: a person and
//     the stratum, team or service, they count in). Its doc states the
//     algorithm: proportional allocation by largest remainder with at
//     least one person per stratum where the size allows, and within a
//     stratum the people ranked by SHA-256 of the seed and their
//     reference. The same seed over the same population gives the same
//     people in any order, on any machine, in any Go version (no
//     pseudo-random generator's sequence is relied on), and anyone can
//     check a sample by hand.
//   - [ValidateResponse] checks a reviewer's QuestionnaireResponse against
//     the sample's checklist and names every problem; [Answers] reads the
//     answers of a valid one.
//   - [Tally] counts the answers of completed reviews per question,
//     overall and per stratum, with completion.
//
// # How the gateway stores a sample, and why
//
// A sample is a Task (code case-file-sample) whose input records how it
// was drawn (size, seed, stratify-by, filters, the checklist's
// canonical, the population's size) and whose output lists one Task per
// case file (code case-file-review; for the person, partOf the sample,
// input the checklist and the stratum). A review is the
// QuestionnaireResponse contained in its case file's Task, referenced
// from Task.output, with the person as subject and the reviewer as author; a
// council's own checklist is contained in the sample's Task.
//
// Task is FHIR's resource for work to be done and its outcome (SDC's
// pattern for "fill in this questionnaire" is a Task with the
// Questionnaire as input and the QuestionnaireResponse as output), and
// one case file is one piece of work with its own status (requested,
// in-progress, completed) and owner. A Group would name the people but
// not the work, and a List the worklist but not each item's state; both
// are also changeable through the REST API by their organisation (a
// Group by COHORT-11-own-cohort), while the gateway's Tasks are never
// changed or deleted directly, so a sample cannot be redrawn quietly.
// Questionnaire and QuestionnaireResponse are not types the gateway
// serves through its REST API; contained in the Tasks they travel with
// them wherever a Task goes (history, the subject access export,
// retention, gateway copy).
package casefile

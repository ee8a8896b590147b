# A policy that allows every interaction, used only by the gateway's tests
# of FHIR REST behaviour (versions, search, paging, errors), so that those
# tests exercise the real OPA engine without depending on the data sharing
# agreement. The baseline policy in policy/ is tested by the access tests.
package gateway.authz

decision := {
	"allow": true,
	"reasons": ["TEST-allow-all"],
	"redactions": [],
	"obligations": [],
}

decisions := [decision | some _ in input.resources]

filter if input.subject.org != ""

package gateway.authz_test

import data.gateway.authz

# A carer who signs in with NHS login: a person, not the patient.
carer := object.union(person, {"id": "c1", "nhs_number": "9990000026"})

shared_care_plan := object.union(unrelated, {"shared_consent": {"care-plan": ["Patient/p1"], "alert": ["Patient/p1"]}, "shared_duty": {}})

shared_duty_safeguarding := object.union(unrelated, {"shared_consent": {}, "shared_duty": {"alert": ["Patient/p1"], "safeguarding": ["Patient/p1"]}})

test_carer_reads_what_the_consent_covers if {
	d := decide(carer, care_plan, shared_care_plan)
	d.allow
	d.reasons == ["SHARE-13-consent"]
}

test_carer_refused_other_categories if {
	not decide(carer, visit, shared_care_plan).allow
	not decide(carer, finance, shared_care_plan).allow
}

test_carer_refused_other_people if {
	other := object.union(care_plan, {"patient": "Patient/p2"})
	not decide(carer, other, shared_care_plan).allow
}

test_carer_needs_every_category_covered if {
	# alert is shared, safeguarding is not.
	not decide(carer, safeguarding_flag, shared_care_plan).allow
}

test_carer_refused_without_a_share if {
	d := decide(carer, care_plan, unrelated)
	not d.allow
	"SELF-6" in d.reasons
}

test_objection_wins_over_consent if {
	not decide(carer, care_plan, object.union(shared_care_plan, {"objected": true})).allow
}

test_legal_duty_holds_despite_objection if {
	d := decide(carer, safeguarding_flag, object.union(shared_duty_safeguarding, {"objected": true}))
	d.allow
	d.reasons == ["SHARE-13-duty"]

	# Safeguarding details are withheld from anyone outside the roles
	# that see them.
	count(d.redactions) > 0
}

test_consent_and_duty_together if {
	ctx := object.union(unrelated, {"shared_consent": {"alert": ["Patient/p1"]}, "shared_duty": {"safeguarding": ["Patient/p1"]}})
	d := decide(carer, safeguarding_flag, ctx)
	d.allow
	d.reasons == ["SHARE-13-consent"]
	not decide(carer, safeguarding_flag, object.union(ctx, {"objected": true})).allow
}

test_never_third_party_or_restricted if {
	not decide(carer, third_party, shared_care_plan).allow
	restricted := object.union(care_plan, {"labels": ["http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"]})
	not decide(carer, restricted, shared_care_plan).allow
}

test_carer_needs_a_person_purpose if {
	not decide(object.union(carer, {"purpose": "HRESCH"}), care_plan, shared_care_plan).allow
}

test_staff_never_take_the_share_path if {
	d := decide(gp_nurse, visit, object.union(unrelated, {"shared_consent": {"visit": ["Patient/p1"]}, "shared_duty": {}}))
	not d.allow
}

test_carer_cannot_write if {
	not authz.decision.allow with input as {"action": "write", "subject": carer, "resource": care_plan, "context": shared_care_plan}
}

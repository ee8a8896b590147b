package gateway.authz_test

import data.gateway.authz

test_allows if authz.decision.allow

test_filter if authz.filter with input as {"subject": {"org": "TST01"}}

#!/usr/bin/env bash
# Builds the gateway, registers two SMART Backend Services clients, each
# with its own ES384 key pair (as scripts/smart does): a GP practice system
# (Y99001) and the demo trust's system (RJ1, whose cohort Group the demo
# data holds: fixtures/trust), starts the gateway on a fresh embedded
# database with the demo records, and runs a Bulk Data client written by
# someone else (Medplum's MedplumClient.bulkExport, token from
# openid-client) against it: system, Patient and Group-level exports, every
# NDJSON file checked against what the gateway's own search and the same
# client's Patient-level export return. Used by CI; needs Go, Node and npm.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
build_gateway
client_keys "$work" gp-system-key-1
client_keys "$work/trust" trust-system-key-1
cat >"$work/clients.json" <<JSON
[{"client_id": "gp-system-demo", "jwks_file": "$work/client-jwks.json", "organisation": "Y99001",
  "purpose_of_use": "TREAT", "scopes": ["system/*.rs"]},
 {"client_id": "trust-system-demo", "jwks_file": "$work/trust/client-jwks.json", "organisation": "RJ1",
  "purpose_of_use": "TREAT", "scopes": ["system/*.rs"]}]
JSON
start_gateway "$work/clients.json"
# A council social worker's token (the development key is trusted in demo
# mode): the council holds every record, so it sees people the GP practice
# does not, which the export must leave out.
council=$("$work/gateway" token -kind council -org SYN01 -role R1330 -purpose TREAT)
cd "$here"
npm ci --no-audit --no-fund --silent
mkdir -p "$work/out"
if ! GATEWAY_URL="$base" CLIENT_ID=gp-system-demo CLIENT_KID=gp-system-key-1 \
  CLIENT_KEY="$work/client-private.jwk" TRUST_CLIENT_ID=trust-system-demo TRUST_CLIENT_KID=trust-system-key-1 \
  TRUST_CLIENT_KEY="$work/trust/client-private.jwk" OUT_DIR="$work/out" COUNCIL_TOKEN="$council" node export.mjs; then
  echo "--- gateway log"; cat "$work/log"; exit 1
fi

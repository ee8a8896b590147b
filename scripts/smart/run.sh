#!/usr/bin/env bash
# Builds the gateway, registers a SMART Backend Services client (a GP
# practice system, Y99001, with its own ES384 key pair), starts the gateway
# on a fresh embedded database with the demo records, and runs a client
# written by someone else (openid-client) against it. Used by CI; needs
# Go, Node and npm.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
build_gateway
client_keys "$work" gp-system-key-1
cat >"$work/clients.json" <<JSON
[{"client_id": "gp-system-demo", "jwks_file": "$work/client-jwks.json", "organisation": "Y99001",
  "purpose_of_use": "TREAT", "scopes": ["system/*.rs"]}]
JSON
start_gateway "$work/clients.json"
cd "$here"
npm ci --no-audit --no-fund --silent
GATEWAY_URL="$base" CLIENT_ID=gp-system-demo CLIENT_KID=gp-system-key-1 CLIENT_KEY="$work/client-private.jwk" node smoke.mjs

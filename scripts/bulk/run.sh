#!/usr/bin/env bash
# Builds the gateway, registers a SMART Backend Services client (a GP
# practice system, Y99001, with its own ES384 key pair, as scripts/smart
# does), starts the gateway on a fresh embedded database with the demo
# records, and runs a Bulk Data client written by someone else (Medplum's
# MedplumClient.bulkExport, token from openid-client) against it: system
# and Patient-level exports, every NDJSON file checked against what the
# gateway's own search returns to the same client. Used by CI; needs Go,
# Node and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; fi; rm -rf "$work"' EXIT
cd "$root"
go build -o "$work/gateway" ./cmd/gateway
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18082)
node "$root/scripts/smart/keys.mjs" "$work" gp-system-key-1
cat >"$work/clients.json" <<JSON
[{"client_id": "gp-system-demo", "jwks_file": "$work/client-jwks.json", "organisation": "Y99001",
  "purpose_of_use": "TREAT", "scopes": ["system/*.rs"]}]
JSON
"$work/gateway" serve -demo -addr "127.0.0.1:$port" -data-dir "$work/data" -log-level warn \
  -base-url "http://127.0.0.1:$port" -smart-clients "$work/clients.json" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.2
done
# A council social worker's token (the development key is trusted in demo
# mode): the council holds every record, so it sees people the GP practice
# does not, which the export must leave out.
council=$("$work/gateway" token -kind council -org SYN01 -role R1330 -purpose TREAT)
cd "$here"
npm ci --no-audit --no-fund --silent
mkdir -p "$work/out"
if ! GATEWAY_URL="http://127.0.0.1:$port" CLIENT_ID=gp-system-demo CLIENT_KID=gp-system-key-1 \
  CLIENT_KEY="$work/client-private.jwk" OUT_DIR="$work/out" COUNCIL_TOKEN="$council" node export.mjs; then
  echo "--- gateway log"; cat "$work/log"; exit 1
fi

#!/usr/bin/env bash
# Builds the gateway, starts it on a fresh embedded database, and runs the
# fhir-kit-client smoke test against it. Used by CI; needs Go, Node and npm.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$root"
go build -o "$work/gateway" ./cmd/gateway
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
"$work/gateway" serve -demo -addr "127.0.0.1:$port" -data-dir "$work/data" -log-level warn >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.2
done
token=$("$work/gateway" token -kind council -org SYN01 -role R1330 -purpose TREAT 2>/dev/null)
cd "$here"
npm ci --no-audit --no-fund --silent
GATEWAY_URL="http://127.0.0.1:$port" GATEWAY_TOKEN="$token" node smoke.mjs

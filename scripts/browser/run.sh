#!/usr/bin/env bash
# Builds the gateway, starts it in demo mode on a fresh embedded database,
# makes a care worker's reads of medication records (the audit trail the
# impact preview replays), and drives the IG workbench in Debian's headless
# Chromium with playwright-core (workbench.test.mjs), then a council data
# lead's case-file audit on its pages (casefile.test.mjs). Used by CI; needs Go,
# Node and npm; installs Chromium with apt-get when it is missing (no
# browser is downloaded by npm: playwright-core ships none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
cd "$root"
go build -o "$work/gateway" ./cmd/gateway
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18090)
"$work/gateway" serve -demo -addr "127.0.0.1:$port" -data-dir "$work/data" -log-level warn >"$work/log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  curl -sf "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.2
done
curl -sf "$url/readyz" >/dev/null || { echo "the gateway did not become ready"; cat "$work/log"; exit 1; }

# A care worker of the council reads the medication records they may see:
# a search, then each record by id. These are the accesses the proposed
# change would refuse.
carer=$("$work/gateway" token -kind council -org SYN01 -role R1460 -purpose TREAT -subject u-carer 2>/dev/null)
ids=$(curl -sf -H "Authorization: Bearer $carer" "$url/MedicationAdministration?_count=5&_elements=id" |
  python3 -c 'import json,sys; print(" ".join(e["resource"]["id"] for e in json.load(sys.stdin).get("entry", [])))')
[ -n "$ids" ] || { echo "the care worker sees no MedicationAdministration in the demo data"; exit 1; }
reads=0
for id in $ids; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $carer" "$url/MedicationAdministration/$id")
  [ "$status" = 200 ] || { echo "the care worker's read of MedicationAdministration/$id: $status"; exit 1; }
  reads=$((reads + 1))
done

# An IG lead's API token, to find the audit record of a refused read (the
# workbench itself signs in with the demo people).
ig=$("$work/gateway" token -kind council -org SYN01 -role R0001 -purpose HOPERAT -subject u-ig-api 2>/dev/null)

# The council data lead's API token, to check the review the case-file
# audit test records through the pages (casefile.test.mjs).
lead=$("$work/gateway" token -kind council -org SYN01 -role R1330 -purpose TREAT -subject u-data-lead-api 2>/dev/null)

cd "$here"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; else npm install --no-audit --no-fund --silent; fi
GATEWAY_URL="$url" SCREENSHOT_DIR="${SCREENSHOT_DIR:-}" CARER_TOKEN="$carer" IG_TOKEN="$ig" LEAD_TOKEN="$lead" MED_IDS="$ids" CARER_READS="$reads" BROWSER_PROFILE="$work/profile" \
  node --test --test-concurrency=1 --test-reporter=spec workbench.test.mjs casefile.test.mjs || { echo "== gateway log"; tail -50 "$work/log"; exit 1; }

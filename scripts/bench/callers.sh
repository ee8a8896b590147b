#!/usr/bin/env bash
# The gateway as its real callers use it, at a given data size, on the
# embedded engine (or the one GATEWAY_STORE names): makes about RESOURCES
# synthetic FHIR resources (gateway synth), imports them into a fresh data
# directory (timing the import), starts the gateway in development mode
# with the baseline policy in policy/, and measures a GP practice (Y99001),
# an NHS trust (RYQ) and a council social worker (SYN01) with
# bench/callers (p50/p99 per request shape), then read throughput of a GP
# against a bare Gin server with scripts/bench/reads.sh.
#
# usage: scripts/bench/callers.sh RESOURCES [MONTHS]
#   e.g. scripts/bench/callers.sh 100000
#
# Environment: DATA_DIR (default: a new temporary directory; an existing
# one with a .imported marker is reused), ADDR (127.0.0.1:18090), N (200
# requests per shape), SKIP_WRK=1 skips the throughput run.
set -euo pipefail
cd "$(dirname "$0")/../.."
resources=${1:?usage: scripts/bench/callers.sh RESOURCES [MONTHS]}
months=${2:-3}
addr=${ADDR:-127.0.0.1:18090}
data=${DATA_DIR:-$(mktemp -d)}
bin=$(mktemp -d)/gateway
go build -o "$bin" ./cmd/gateway

if [ ! -e "$data/.imported" ]; then
	"$bin" synth -resources "$resources" -months "$months" > "$data/synth.ndjson"
	start=$(date +%s.%N)
	"$bin" import -data-dir "$data" "$data/synth.ndjson" 2> "$data/import.log" || { tail -5 "$data/import.log"; exit 1; }
	end=$(date +%s.%N)
	tail -1 "$data/import.log"
	created=$(grep -o 'stored [0-9]* records ([0-9]* resources created' "$data/import.log" | grep -o '[0-9]* resources' | grep -o '[0-9]*')
	echo "import: $created resources in $(echo "$end - $start" | bc) s: $(echo "$created / ($end - $start)" | bc) resources/s"
	rm "$data/synth.ndjson"
	touch "$data/.imported"
fi
du -sh "$data"

"$bin" -data-dir "$data" -addr "$addr" -log-level warn > "$data/gateway.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://$addr/readyz" > /dev/null && break; sleep 0.5; done

GP=$("$bin" token -kind cis2 -org Y99001 -role R0260 -purpose TREAT 2>/dev/null)
TRUST=$("$bin" token -kind cis2 -org RYQ -role R8000 -purpose TREAT 2>/dev/null)
SW=$("$bin" token -kind council -org SYN01 -role R1330 -purpose TREAT 2>/dev/null)
go run ./bench/callers -url "http://$addr" -gp "$GP" -trust "$TRUST" -sw "$SW" -n "${N:-200}"

if [ -z "${SKIP_WRK:-}" ]; then
	patient=$(curl -s -H "Authorization: Bearer $GP" "http://$addr/Patient?_count=1&_elements=id" | grep -o '"id":"[^"]*"' | sed -n 1p | cut -d'"' -f4)
	scripts/bench/reads.sh "http://$addr" "$GP" "/Patient/$patient"
fi

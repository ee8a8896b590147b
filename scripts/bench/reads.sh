#!/usr/bin/env bash
# Read throughput of the gateway against a bare Gin server serving the same
# bytes: what the gateway's work (token, policy, database, audit,
# redaction) costs per read on this machine.
#
# usage: scripts/bench/reads.sh GATEWAY_URL TOKEN RESOURCE_PATH
#   e.g. scripts/bench/reads.sh http://127.0.0.1:18080 "$T" /Patient/0123abcd
#
# It fetches RESOURCE_PATH once through the gateway (with the token) into a
# temporary file, builds and starts bench/bareserver on that file, then runs
#   wrk -t${THREADS:-2} -c${CONNECTIONS:-16} -d${DURATION:-15s} --latency
# against the gateway (with the Authorization header) and then against the
# bare server (GET /Patient/<last segment of RESOURCE_PATH>, no token), and
# prints requests/s, latency and the ratio. Each server first serves the
# same load for WARMUP, not counted: sustained reads are a running
# server's, and a gateway just started spends its first seconds of load
# growing its audit trail's WAL to its working size (about 160 MB), each
# commit's sync then writing the file's new size too.
#
# Environment: DURATION (15s), WARMUP (10s; 0 for none), THREADS (2), CONNECTIONS (16),
# BARE_ADDR (127.0.0.1:18081), KEEP_OUTPUT=1 keeps the temporary directory.
# Needs wrk (Debian: apt-get install -y wrk), curl and go.
set -euo pipefail

if [ $# -ne 3 ]; then
	sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
gateway=${1%/}
token=$2
path=$3
case $path in /*) ;; *) path=/$path ;; esac

duration=${DURATION:-15s}
warmup=${WARMUP:-10s}
threads=${THREADS:-2}
connections=${CONNECTIONS:-16}
bare_addr=${BARE_ADDR:-127.0.0.1:18081}

for tool in wrk curl go; do
	command -v "$tool" >/dev/null || { echo "reads.sh: $tool is not installed" >&2; exit 1; }
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
bare_pid=
cleanup() {
	if [ -n "$bare_pid" ]; then
		kill "$bare_pid" 2>/dev/null || true
		wait "$bare_pid" 2>/dev/null || true
	fi
	if [ "${KEEP_OUTPUT:-}" = 1 ]; then
		echo "reads.sh: output kept in $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# 1. The resource, once, through the gateway.
status=$(curl -sS -o "$tmp/resource.json" -w '%{http_code}' \
	-H "Authorization: Bearer $token" -H 'Accept: application/fhir+json' "$gateway$path")
if [ "$status" != 200 ]; then
	echo "reads.sh: GET $gateway$path answered $status, not 200:" >&2
	head -c 600 "$tmp/resource.json" >&2
	echo >&2
	exit 1
fi
echo "fetched $gateway$path: $(wc -c <"$tmp/resource.json") bytes"

# 2. The bare server on those bytes.
(cd "$repo" && go build -o "$tmp/bareserver" ./bench/bareserver)
"$tmp/bareserver" -file "$tmp/resource.json" -addr "$bare_addr" 2>"$tmp/bareserver.log" &
bare_pid=$!
id=${path%%\?*}
id=${id##*/}
bare_url="http://$bare_addr/Patient/$id"
for _ in $(seq 1 50); do
	if curl -fsS -o /dev/null "$bare_url" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$bare_pid" 2>/dev/null; then
		echo "reads.sh: the bare server stopped:" >&2
		cat "$tmp/bareserver.log" >&2
		exit 1
	fi
	sleep 0.1
done
if ! cmp -s "$tmp/resource.json" <(curl -fsS "$bare_url"); then
	echo "reads.sh: the bare server at $bare_url does not answer with the fetched bytes" >&2
	exit 1
fi

# 3. wrk against each.
run() { # name, output file, wrk arguments...
	local name=$1 out=$2
	shift 2
	echo
	if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
		echo "== $name: warming up for $warmup"
		wrk -t"$threads" -c"$connections" -d"$warmup" "$@" >/dev/null
	fi
	echo "== $name: wrk -t$threads -c$connections -d$duration --latency $*" | sed "s/Bearer [^ ]*/Bearer .../"
	wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" | tee "$out"
}
run gateway "$tmp/gateway.txt" -H "Authorization: Bearer $token" -H 'Accept: application/fhir+json' "$gateway$path"
run "bare gin" "$tmp/bare.txt" -H 'Accept: application/fhir+json' "$bare_url"

# 4. Summary.
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
lat() { awk '$1 == "Latency" {print $2; exit}' "$1"; }   # mean
pct() { awk -v p="$2" '$1 == p {print $2; exit}' "$1"; } # from --latency
errors() { # non-2xx answers plus socket errors
	awk '/Non-2xx or 3xx responses:/ {n += $NF}
		/Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10}
		END {print n + 0}' "$1"
}

echo
printf '%-10s %12s %12s %10s %10s %10s %8s\n' "" "requests/s" "latency avg" "p50" "p90" "p99" "errors"
for name in gateway bare; do
	f=$tmp/$name.txt
	printf '%-10s %12s %12s %10s %10s %10s %8s\n' "$name" "$(rps "$f")" "$(lat "$f")" \
		"$(pct "$f" 50%)" "$(pct "$f" 90%)" "$(pct "$f" 99%)" "$(errors "$f")"
done
awk -v g="$(rps "$tmp/gateway.txt")" -v b="$(rps "$tmp/bare.txt")" 'BEGIN {
	if (g > 0) printf "ratio: the bare server answers %.1f× as many requests/s; the gateway reaches %.2f%% of it\n", b / g, 100 * g / b
	else print "ratio: the gateway answered no requests"
}'
if [ "$(errors "$tmp/gateway.txt")" != 0 ]; then
	echo "reads.sh: warning: the gateway gave non-2xx answers or socket errors during the run (expired token? overload?); its figures are not reads" >&2
fi

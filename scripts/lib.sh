# Shared by scripts/smart/run.sh and scripts/bulk/run.sh (sourced, not
# run): build the gateway, make SMART Backend Services clients' key pairs,
# and start it on a fresh embedded database with the demo records and the
# clients registered. Sourcing it sets root (the repository) and work (a
# temporary directory, removed on exit with the gateway stopped).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; fi; rm -rf "$work"' EXIT

# build_gateway builds $work/gateway.
build_gateway() {
  (cd "$root" && go build -o "$work/gateway" ./cmd/gateway)
}

# client_keys DIR KID makes a client's ES384 key pair, as a trust would
# before registering: DIR/client-jwks.json (public, for the gateway) and
# DIR/client-private.jwk (kept by the client).
client_keys() {
  mkdir -p "$1"
  node "$root/scripts/smart/keys.mjs" "$1" "$2"
}

# start_gateway CLIENTS_JSON starts gateway serve -demo on a free loopback
# port with the SMART clients of CLIENTS_JSON registered, and waits until
# it is ready. Sets port, base (its URL) and pid; its log is $work/log.
start_gateway() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18081)
  base="http://127.0.0.1:$port"
  "$work/gateway" serve -demo -addr "127.0.0.1:$port" -data-dir "$work/data" -log-level warn \
    -base-url "$base" -smart-clients "$1" >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do
    curl -sf "$base/readyz" >/dev/null 2>&1 && return 0
    kill -0 $pid 2>/dev/null || { cat "$work/log"; return 1; }
    sleep 0.2
  done
  echo "the gateway did not become ready; its log:" >&2
  cat "$work/log" >&2
  return 1
}

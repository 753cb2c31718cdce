#!/usr/bin/env bash
# Sync figure: how long `facematch sync --once` takes for N pending records on loopback,
# and how many requests it makes. The remote is a second `facematch serve` (limits off).
# Needs scripts/build.sh first. Usage: bench/sync.sh SELFIE DOCUMENT [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(realpath "$1"); front=$(realpath "$2"); n=${3:-200}
work=$(mktemp -d)
bin="$root/target/release/facematch"
"$bin" serve --db "$work/remote.db" --listen 127.0.0.1:0 --token-rate 0 --api-rate 0 2> "$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q "listening on" "$work/serve.err" && break; sleep 0.2; done
base=$(grep -o 'http://[0-9.:]*' "$work/serve.err" | head -1)
token=$("$bin" token add --db "$work/remote.db" device 2>/dev/null)
cargo run -q --release --example seed_outbox --manifest-path "$root/Cargo.toml" -- "$work/device.db" "$n" "$src" "$front"
start=$(date +%s.%N)
FACEMATCH_REMOTE_TOKEN=$token "$bin" sync --db "$work/device.db" --remote "$base" --once
end=$(date +%s.%N)
echo "wall: $(echo "$end - $start" | bc) s for $n records"

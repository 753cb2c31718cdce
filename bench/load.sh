#!/usr/bin/env bash
# Load figure for the HTTP API: facex/match on loopback with 2 and 8 concurrent clients,
# rate limits raised, a bounded run each. Needs scripts/build.sh first.
# Usage: bench/load.sh SELFIE DOCUMENT [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(realpath "$1"); front=$(realpath "$2"); seconds=${3:-10}
work=$(mktemp -d)
bin="$root/target/release/facematch"
source "$root/bench/lib.sh"
start_server "$work/log.db"
id() { curl -s -H "Authorization: Basic $token" -F "file=@$1" "$base/api/v1/public/media/image/multipart" | python3 -c 'import json,sys; print(json.load(sys.stdin)["_id"])'; }
a=$(id "$src"); b=$(id "$front")
cargo build -q --release --example api_load --manifest-path "$root/Cargo.toml"
for clients in 2 8; do
  "$root/target/release/examples/api_load" "$base" "$token" "$a" "$b" "$clients" "$seconds"
done

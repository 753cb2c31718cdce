#!/usr/bin/env bash
# Sync figure: how long `facematch sync --once` takes for N pending records on loopback,
# and how many requests it makes. The remote is a second `facematch serve` (limits off).
# Needs scripts/build.sh first. Usage: bench/sync.sh SELFIE DOCUMENT [N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(realpath "$1"); front=$(realpath "$2"); n=${3:-200}
work=$(mktemp -d)
bin="$root/target/release/facematch"
source "$root/bench/lib.sh"
start_server "$work/remote.db"
# With the tests' features: the examples build with the dev-dependencies, whose font crate needs them.
source "$root/scripts/features.sh"
# A plain build: clippy-driver (features.sh's lints) turns MIR optimisations off.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
cargo run -q --release --locked --example seed_outbox --features "$TEST_FEATURES" --manifest-path "$root/Cargo.toml" -- "$work/device.db" "$n" "$src" "$front"
start=$(date +%s%N)
FACEMATCH_REMOTE_TOKEN=$token "$bin" sync --db "$work/device.db" --remote "$base" --once
end=$(date +%s%N)
echo "wall: $(( (end - start) / 1000000 )) ms for $n records"

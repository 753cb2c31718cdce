#!/usr/bin/env bash
# Time and peak memory of the most expensive pictures the intake accepts, one of each kind
# (examples/worst_pictures.rs: baseline, noise, progressive, greyscale, CMYK, huge EXIF, 8- and
# 16-bit PNG, interlaced PNG, each the largest the intake's budget lets through), in a
# `facematch match` as the selfie against an ordinary photo and in all three slots: median wall
# time, CPU time (user + system) and peak RSS of RUNS runs, and an ordinary pair for scale.
# Needs scripts/build.sh first (and jpegtran: scripts/setup.sh installs it).
# Usage: bench/worst.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin="$root/target/release/facematch"
. "$root/scripts/features.sh"
# A plain build: clippy-driver (features.sh's lints) turns MIR optimisations off.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build -q --release --features "$TEST_FEATURES" --example worst_pictures --manifest-path "$root/Cargo.toml"
"$root/target/release/examples/worst_pictures" "$work/pictures" >/dev/null
photo="$root/../shared/faces/barack_obama/2.jpg"
measure() { # measure NAME SRC FRONT [BACK]
  local name=$1 src=$2 front=$3 back=${4:-}
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$bin" match --src "$src" --front "$front" ${back:+--back "$back"} \
      --type GOV --threshold 85 >"$work/out" 2>/dev/null || true
    echo "$(tail -1 "$work/t") $(grep -o '"status": "[A-Z_]*"\|"code": [0-9]*' "$work/out" | head -1 | tr -d ' "')"
  done | python3 -c "
import statistics, sys
rows = [line.split() for line in sys.stdin]
wall = statistics.median(float(r[0]) for r in rows)
cpu = statistics.median(float(r[1]) + float(r[2]) for r in rows)
mems = [int(r[3]) / 1024 for r in rows]
print(f'| {sys.argv[1]:<46} | {wall:5.2f} s | {cpu:5.2f} s | {statistics.median(mems):4.0f} MB (max {max(mems):.0f}) | {rows[0][4] if len(rows[0]) > 4 else \"?\"} |')
" "$name"
}
echo "| pictures | wall (median) | CPU (median) | peak RSS (median) | answer |"
echo "|---|---|---|---|---|"
measure "ordinary pair (910x1137 vs 2.jpg)" "$root/../shared/faces/barack_obama/1.jpg" "$photo"
for picture in "$work"/pictures/*; do
  name=$(basename "$picture")
  measure "$name as selfie" "$picture" "$photo"
  measure "$name in all 3 slots" "$picture" "$picture" "$picture"
done

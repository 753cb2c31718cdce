#!/usr/bin/env bash
# Time and peak memory of the most expensive pictures the intake accepts (a flat 12000x4000
# JPEG and a 6900x6900 PNG of zeros, both inside the 12000 px / 48 MP limits), in every slot
# of a `facematch match` (selfie, front and back): median wall time and peak RSS of 5 runs,
# and an ordinary pair beside them for scale. Needs scripts/build.sh first.
# Usage: bench/worst.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin="$root/target/release/facematch"
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build -q --release --example worst_pictures --manifest-path "$root/Cargo.toml"
# The lab prints the ordinary pair's card.
cargo build -q --release --locked -p facematch-lab --features "${FACEMATCH_FEATURES:-onnx}" --manifest-path "$root/Cargo.toml"
"$root/target/release/examples/worst_pictures" "$work" >/dev/null
"$root/target/release/facematch-lab" card --photo "$root/../shared/faces/barack_obama/2.jpg" --out "$work/card.jpg" --seed 5 2>/dev/null
measure() { # measure NAME SRC FRONT [BACK]
  local name=$1 src=$2 front=$3 back=${4:-}
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$bin" match --src "$src" --front "$front" ${back:+--back "$back"} \
      --type GOV --threshold 85 >/dev/null 2>&1
    cat "$work/t"
  done | python3 -c "
import statistics, sys
rows = [line.split() for line in sys.stdin]
times = [float(t) for t, _ in rows]; mems = [int(m) / 1024 for _, m in rows]
print(f'{sys.argv[1]:<34} median {statistics.median(times):.2f} s, peak RSS median {statistics.median(mems):.0f} MB (max {max(mems):.0f} MB)')
" "$name"
}
measure "ordinary pair (910x1137 vs card)" "$root/../shared/faces/barack_obama/1.jpg" "$work/card.jpg"
measure "12000x4000 JPEG in all 3 slots" "$work/worst-12000x4000.jpg" "$work/worst-12000x4000.jpg" "$work/worst-12000x4000.jpg"
measure "6900x6900 PNG in all 3 slots" "$work/worst-6900x6900.png" "$work/worst-6900x6900.png" "$work/worst-6900x6900.png"

#!/usr/bin/env bash
# Side-by-side: facematch vs the OpenCV-Python pipeline with the same models on the same
# pictures. Builds what it runs (scripts/build.sh); needs PyPI and Debian's hyperfine.
# Usage: bench/compare.sh SELFIE DOCUMENT [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(realpath "$1"); front=$(realpath "$2"); runs=${3:-30}
work="$root/target/bench"
mkdir -p "$work"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
opencv_setup
if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq hyperfine time >/dev/null
fi
bin="$root/target/release/facematch"
lab_build
py="$OPENCV_PY $root/bench/opencv_baseline.py --models $OPENCV_MODELS --src $src --front $front"

echo "== in-process medians ($runs runs; models loaded once)"
"$lab" bench --src "$src" --front "$front" --runs "$runs" 2>/dev/null
$py --runs "$runs"
echo "== whole command, cold process each run (hyperfine)"
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/hyperfine.json" \
  "$bin match --src $src --front $front --type GOV --threshold 85" "$py"
echo "== peak RSS of one match (GNU time)"
for cmd in "$bin match --src $src --front $front --type GOV --threshold 85" "$py"; do
  /usr/bin/time -f "%M KB  $cmd" $cmd >/dev/null 2>"$work/time.txt" || true
  tail -1 "$work/time.txt"
done

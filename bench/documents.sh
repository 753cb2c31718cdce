#!/usr/bin/env bash
# Documents as a camera delivers them: facematch vs the OpenCV-Python pipeline (same models) on
# camera-like captures of every ../shared/faces photo, per condition (`facematch-lab captures`).
# Prints a Markdown table: documents with a usable face, TAR and FAR at the default threshold
# (85 %, cosine 0.400 for OpenCV), over every genuine and every impostor pair.
# Needs the release build (scripts/build.sh) and PyPI (opencv-python, as bench/compare.sh).
# Usage: bench/documents.sh [CONDITION ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
opencv_setup
lab_build
out="$root/target/captures"
conditions=("$@")
if [ ${#conditions[@]} -eq 0 ]; then
  mapfile -t conditions < <("$lab" captures --help | sed -n 's/.*\[possible values: \(.*\)\]/\1/p' | tr -d ' ' | tr ',' '\n')
fi
for c in "${conditions[@]}"; do
  [ -f "$out/$c/pairs.csv" ] || "$lab" captures --faces "$root/../shared/faces" --out "$out" --condition "$c" 2>/dev/null
done
echo "| condition | facematch: faces used | TAR | FAR | OpenCV-Python: faces found | TAR | FAR |"
echo "|---|---|---|---|---|---|---|"
for c in "${conditions[@]}"; do
  ours=$("$lab" eval --pairs "$out/$c/pairs.csv" --type GOV 2>/dev/null)
  theirs=$(cd "$root/bench" && "$OPENCV_PY" opencv_captures.py --models "$OPENCV_MODELS" --pairs "$out/$c/pairs.csv")
  python3 - "$c" "$ours" "$theirs" <<'PY'
import json, sys
c, ours, theirs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
docs = theirs["documents"]
unusable = sum(1 for name, _ in ours["unusable_pictures"] if name.endswith(" as document"))
far = lambda r, n: f"{r * 100:.3f} % ({round(r * n)})"
print(f"| {c} | {docs - unusable}/{docs} | {ours['tar'] * 100:.1f} % | {far(ours['far'], ours['impostor'])} "
      f"| {theirs['documents_with_face']}/{docs} | {theirs['tar'] * 100:.1f} % | {far(theirs['far'], theirs['impostor'])} |")
PY
done

#!/usr/bin/env bash
# Documents as a camera delivers them: facematch vs the OpenCV-Python pipeline (same models) on
# camera-like captures of every ../shared/faces photo, per condition (`facematch-lab captures`),
# and facematch on every cross-identity pair of ../shared/faces itself.
# Prints one Markdown table (bench/documents_table.py): faces found, TAR and false accepts at
# facematch's default threshold and OpenCV at the cosine it stands for, TAR at FAR 1e-4 per
# condition, OpenCV's bar at the same pooled FAR, and every false accept by name.
# Builds what it runs (scripts/build.sh); needs PyPI (opencv-python, as bench/compare.sh).
# Usage: bench/documents.sh [CONDITION ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
opencv_setup
lab_build
out="$root/target/captures"
mkdir -p "$out"
conditions=("$@")
if [ ${#conditions[@]} -eq 0 ]; then
  mapfile -t conditions < <("$lab" captures --help | sed -n 's/.*\[possible values: \(.*\)\]/\1/p' | tr -d ' ' | tr ',' '\n')
fi
for c in "${conditions[@]}"; do
  [ -f "$out/$c/pairs.csv" ] || "$lab" captures --faces "$root/../shared/faces" --out "$out" --condition "$c" \
    2>"$out/captures.log" || { tail -5 "$out/captures.log" >&2; exit 1; }
  "$lab" eval --pairs "$out/$c/pairs.csv" --type GOV --scores "$out/$c/facematch.csv" >"$out/$c/facematch.json" \
    2>"$out/$c/facematch.log" || { tail -5 "$out/$c/facematch.log" >&2; exit 1; }
  # OpenCV's own JSON at the cosine facematch's default stands for (the table reads the scores).
  read -r percent cosine < <(python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))
print(r["threshold"], r["threshold_cosine"])' "$out/$c/facematch.json")
  (cd "$root/bench" && "$OPENCV_PY" opencv_captures.py --models "$OPENCV_MODELS" --pairs "$out/$c/pairs.csv" \
    --cosine "$cosine" --scores "$out/$c/opencv.csv" >"$out/$c/opencv.json")
done
"$lab" eval --pairs "$root/../shared/faces/pairs.csv" --all-impostors --scores "$out/photos.csv" >/dev/null \
  2>"$out/photos.log" || { tail -5 "$out/photos.log" >&2; exit 1; }
# The bystander card is left out of the pool OpenCV's equal-FAR bar is set on (its largest face is
# the bystander there, whatever the bar).
python3 "$root/bench/documents_table.py" "$out" "${conditions[@]}" --photos "$out/photos.csv" \
  --percent "$percent" --cosine "$cosine" --unpooled bystander

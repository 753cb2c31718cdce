#!/usr/bin/env bash
# Builds the device's release binary (TensorFlow Lite, and ONNX Runtime for `--runtime onnx`; the
# lab, `facematch-lab`, is built by what needs it: `cargo build --release -p facematch-lab`) and puts
# libLiteRt.so (found by its rpath, $ORIGIN) and libonnxruntime.so.1 (looked for beside
# the executable) next to it: target/release/facematch then runs from anywhere.
# FACEMATCH_FEATURES: the cargo features (default: onnx); the CI checks pass the tests' set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
cargo build --release --locked -p facematch --features "${FACEMATCH_FEATURES:-onnx}"
cp -f "$root/.litert/$(uname -m)/libLiteRt.so" "$root/.onnxruntime/$(uname -m)/libonnxruntime.so.1" \
  "$root/target/release/"

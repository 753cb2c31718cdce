#!/usr/bin/env bash
# Builds the release binary and puts libtensorflowlite_c.so beside it, where its
# rpath ($ORIGIN) finds it: target/release/facematch then runs from anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
cargo build --release --locked
cp -f "$root/.tflite/$(uname -m)/libtensorflowlite_c.so" "$root/target/release/"

#!/usr/bin/env bash
# The kiosk on a desktop (winit window) with the bundled sample folders standing in for
# the camera and the document scanner. Extra arguments go to `facematch kiosk`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
cargo build --release --locked --features kiosk-kms
cp -f "$root/.tflite/$(uname -m)/libtensorflowlite_c.so" "$root/target/release/"
exec "$root/target/release/facematch" kiosk --camera dir:assets/kiosk/camera --document-source dir:assets/kiosk/scanner "$@"

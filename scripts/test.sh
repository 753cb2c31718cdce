#!/usr/bin/env bash
# Everything a change must pass: formatting, clippy, unit and integration tests
# (the integration tests read ../shared beside the project). One profile (release)
# so the demo, the tests and CI share one build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
cargo fmt --check
# One feature set for everything on x86_64: both inference runtimes (TensorFlow Lite, and ONNX Runtime
# that the Raspberry Pi 4 build runs, compared in tests/runtimes.rs), the kiosk's Slint UI (its tests
# render headless), and test-faults (`serve --inject-faults`, which the sync tests drive; never in a bundle).
cargo clippy --release --locked --all-targets --features kiosk-kms,test-faults,onnx -- -D warnings
# The kiosk's voice prompts, which the tests check for every language (the same build the tests use).
cargo build --release --locked --features kiosk-kms,test-faults,onnx
"$root/scripts/voice.sh"
cargo test --release --locked --features kiosk-kms,test-faults,onnx

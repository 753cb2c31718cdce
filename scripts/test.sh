#!/usr/bin/env bash
# Everything a change must pass, over the whole workspace (the device crate and the lab, lab/):
# formatting, clippy, unit and integration tests (the integration tests read ../shared beside the
# project). One profile (release) so the demo, the tests and CI share one build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
. "$root/scripts/features.sh"
# The lints are part of what a change must pass: no clippy, no test run.
: "${RUSTC_WORKSPACE_WRAPPER:?clippy is required: rustup component add clippy}"
cargo fmt --all --check
# One feature set for everything on x86_64, built with clippy's lints, every warning an error
# (scripts/features.sh); ONNX Runtime, which the Raspberry Pi 4 build runs, is compared with TensorFlow
# Lite in tests/runtimes.rs. Every target (tests, examples) is linted and built here; the kiosk's voice
# prompts, which the tests check for every language, are then made by the lab's binary.
cargo build --release --locked --workspace --all-targets --features "$TEST_FEATURES"
"$root/scripts/voice.sh"
# Tests that need root (giving files to another user) are ignored elsewhere; as root, run them too.
ignored=()
[ "$(id -u)" -ne 0 ] || ignored=(-- --include-ignored)
cargo test --release --locked --workspace --features "$TEST_FEATURES" "${ignored[@]}"

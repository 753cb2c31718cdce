# shellcheck shell=bash
# The x86_64 build the tests, CI's later steps and the bundle's helpers share (sourced by the scripts
# that build it), so that one compilation serves them all.
#
# The feature set: both inference runtimes, the kiosk's Slint UI drawing without a desktop (its tests
# render headless), and test-faults (`serve --inject-faults`, which the sync tests drive; never in a
# bundle).
TEST_FEATURES=kiosk-kms,test-faults,onnx
# Clippy inside that build: clippy-driver compiles the workspace's own crates (what `cargo clippy`
# does over a `cargo check`, here over the real build), with every warning an error. The dependencies
# are then compiled once, not a second time in check mode for the lints (5 min 34 s of a fresh CI
# run's x86_64 work on 2026-12-07). The wrapper is part of cargo's fingerprint of the workspace's
# crates, so every script that sources this file builds with it and reuses the same build.
# clippy-driver compiles as rustc does but with MIR optimisations off: the answers are the same, the
# speed may differ a little, so the benchmarks build without it (bench/*.sh unset both variables).
# rustup puts a stand-in for every tool on the PATH: ask the tool itself whether it is installed.
if clippy_driver=$(command -v clippy-driver) && "$clippy_driver" -V >/dev/null 2>&1; then
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  # clippy-driver's own argument list (what `cargo clippy -- -D warnings` passes it).
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
else
  unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
  echo "features.sh: clippy is not installed (rustup component add clippy): building without lints" >&2
fi

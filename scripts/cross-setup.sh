#!/usr/bin/env bash
# Everything an aarch64 build needs on x86_64 Debian/Ubuntu without Docker, idempotently:
# Debian's cross compiler and C library, qemu-user (to run the result), the Rust target,
# and the aarch64 TensorFlow Lite runtime (scripts/setup.sh aarch64).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
need=()
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
"$root/scripts/setup.sh" x86_64 aarch64

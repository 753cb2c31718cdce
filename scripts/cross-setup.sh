#!/usr/bin/env bash
# Everything an aarch64 build needs on x86_64 Debian without Docker, idempotently:
# Debian's cross compiler and C library, qemu-user (to run the result), the arm64 -dev packages
# of the kiosk (fontconfig; libudev, libinput, libxkbcommon for linuxkms: Debian multiarch), libstdc++
# (LiteRT and ONNX Runtime, for the emulated runs), the Rust
# target, and the aarch64 LiteRT runtime (scripts/setup.sh aarch64).
# On Ubuntu, arm64 packages come from ports.ubuntu.com: add it to the apt sources for arm64 first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
updated=no
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo_cmd dpkg --add-architecture arm64
  $sudo_cmd apt-get update -qq
  updated=yes
fi
need=()
for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user pkg-config \
         libfontconfig-dev:arm64 libudev-dev:arm64 libinput-dev:arm64 libxkbcommon-dev:arm64 \
         libstdc++6:arm64; do
  case "$p" in *:*) q=$p ;; *) q="$p:$(dpkg --print-architecture)" ;; esac
  dpkg -s "$q" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$updated" = yes ] || $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
"$root/scripts/setup.sh" x86_64 aarch64

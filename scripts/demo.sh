#!/usr/bin/env bash
# The main job on the bundled sample pictures (assets/samples, public-domain photos):
# a selfie against an ID card printed with the same person, then with someone else.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
bin="$root/target/release/facematch"
samples="$root/assets/samples"
run() {
  echo "== facematch match --src $1 --front $2 --type GOV --threshold 89"
  "$bin" match --src "$samples/$1" --front "$samples/$2" --type GOV --threshold 89 2>/dev/null
}
run selfie_astronaut.png card_astronaut.jpg
run selfie_astronaut.png card_grace_hopper.jpg

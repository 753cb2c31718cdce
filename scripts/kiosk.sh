#!/usr/bin/env bash
# The kiosk on a desktop (winit window) with the bundled sample folders standing in for
# the camera and the document scanner. Extra arguments go to `facematch kiosk`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
# The device (the kiosk) and the lab (the voice prompts, the generated liveness session).
cargo build --release --locked --workspace --features kiosk-kms,onnx
cp -f "$root/.litert/$(uname -m)/libLiteRt.so" "$root/.onnxruntime/$(uname -m)/libonnxruntime.so.1" \
  "$root/target/release/"
"$root/scripts/voice.sh"
# The selfie camera plays a generated bona fide liveness session of the sample selfie (a still
# picture would rightly never pass the head-movement challenge), asked in the order it shows.
demo="$root/target/kiosk-demo"
if [ ! -f "$demo/sessions/sessions.csv" ]; then
  mkdir -p "$demo/faces/astronaut"
  cp -f assets/samples/selfie_astronaut.png "$demo/faces/astronaut/"
  "$root/target/release/facematch-lab" liveness generate --faces "$demo/faces" --out "$demo/sessions"
fi
# The scanner holds a card printed with another photo of the same person, generated from the
# sample (head turned, lit from one side): a card printed from the selfie's own photo is refused
# by the kiosk's copy rule, as a customer holding their card up to the camera would be.
if [ ! -f "$demo/scanner/card.jpg" ]; then
  mkdir -p "$demo/scanner"
  "$root/target/release/facematch-lab" card --other-photo --photo assets/samples/selfie_astronaut.png \
    --out "$demo/scanner/card.jpg"
fi
row=$(grep ',bona_fide,' "$demo/sessions/sessions.csv" | head -1)
frames=${row%%,*}
challenge=$(echo "$row" | cut -d, -f2)
# A recording cannot answer screen colours drawn after it was made: they are off for the demo.
exec "$root/target/release/facematch" kiosk --camera "dir:$demo/sessions/$frames" \
  --liveness-challenge "$challenge" --screen-colours off --document-source "dir:$demo/scanner" "$@"

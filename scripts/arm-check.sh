#!/usr/bin/env bash
# Same answers on ARM: builds the aarch64 bundle and runs its launcher on real genuine and impostor
# pairs from ../shared (one document a synthetic card of a ../shared photo), emulated three times:
#   - qemu-aarch64 -cpu cortex-a76 (Raspberry Pi 5) and -cpu cortex-a72 (Raspberry Pi 4, ARMv8.0):
#     the launcher's default, TensorFlow Lite models on LiteRT, against x86_64's: same status,
#     match within 0.5, boxes within 1%;
#   - -cpu cortex-a72 with FACEMATCH_RUNTIME=onnx: the ONNX Runtime build; against x86_64's
#     TensorFlow Lite: same status, boxes within 1%; against x86_64's ONNX Runtime: match within 0.5.
# qemu-user reads the host's /proc/cpuinfo, which the runtime's CPU detection would
# misread: each emulated run gets a private mount namespace with an aarch64 cpuinfo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. "$root/scripts/features.sh"
shared=${FACEMATCH_SHARED:-$root/../shared}
"$root/scripts/bundle.sh" >/dev/null
FACEMATCH_FEATURES=$TEST_FEATURES "$root/scripts/build.sh" >/dev/null
bundle=$(ls -d dist/facematch-*-aarch64 | head -1)
x86="$root/target/release/facematch"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# With Debian's arm64 multiarch libraries installed (scripts/cross-setup.sh), qemu finds the arm64
# loader and libraries where the binary expects them; the cross sysroot (-L) is only for machines
# without them (mixing the two makes every run spin).
wrapper="qemu-aarch64 -cpu cortex-a76"
[ -e /lib/ld-linux-aarch64.so.1 ] || wrapper="$wrapper -L /usr/aarch64-linux-gnu"

emulated() { # emulated CPU OUT ARGS... : the bundle's launcher, emulated as a cortex-a76 or -a72
  local cpu=$1 out=$2; shift 2
  local cpuinfo="$root/build-support/qemu/cpuinfo-$cpu"
  unshare -m sh -c 'mount --bind "$0" /proc/cpuinfo && exec "$@"' "$cpuinfo" \
    env FACEMATCH_EXEC_WRAPPER="${wrapper/cortex-a76/$cpu}" \
    "$bundle/facematch" "$@" >"$out" 2>"$out.err" || echo "exit $?" >>"$out.err"
}
arm() { emulated cortex-a76 "$@"; }

# Photos (paths under ../shared/faces) and a synthetic card (a wide page: YuNet's 640×416 input).
"$x86" card --photo "$shared/faces/barack_obama/2.jpg" --out "$work/card-barack_obama.jpg" --seed 5 >/dev/null
pairs=(
  "barack_obama/1.jpg $work/card-barack_obama.jpg"
  "joe_biden/1.jpg $work/card-barack_obama.jpg"
  "barack_obama/1.jpg barack_obama/2.jpg"
  "angelina_jolie/1.jpg angelina_jolie/4.jpg"
  "kaley_cuoco/1.jpg kaley_cuoco/2.jpg"
  "barack_obama/1.jpg joe_biden/1.jpg"
  "jim_parsons/1.jpg johnny_galecki/1.jpg"
  "scarlett_johansson/1.jpg angelina_jolie/2.jpg"
)
started=$(date +%s)
i=0
for pair in "${pairs[@]}"; do
  set -- $pair
  for threshold in 85 1; do
    front=$2
    [ "${front#/}" != "$front" ] || front="$shared/faces/$front"
    args=(match --src "$shared/faces/$1" --front "$front" --type GOV --threshold "$threshold")
    "$x86" "${args[@]}" >"$work/x86-$i-$threshold.json" 2>/dev/null || true
    FACEMATCH_RUNTIME=onnx "$x86" "${args[@]}" >"$work/x86onnx-$i-$threshold.json" 2>/dev/null || true
    arm "$work/arm-$i-$threshold.json" "${args[@]}"
    emulated cortex-a72 "$work/a72-$i-$threshold.json" "${args[@]}"
    FACEMATCH_RUNTIME=onnx emulated cortex-a72 "$work/a72onnx-$i-$threshold.json" "${args[@]}"
  done
  i=$((i + 1))
done
python3 - "$work" "${#pairs[@]}" <<'PY'
import json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
def load(kind, i, threshold):
    path = f"{work}/{kind}-{i}-{threshold}.json"
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        err = path + ".err"
        sys.exit(f"arm-check: no answer in {path}: " + (open(err).read() if os.path.exists(err) else ""))
boxes = ["srcLeft", "srcTop", "srcWidth", "srcHeight", "targetFrontLeft", "targetFrontTop", "targetFrontWidth", "targetFrontHeight"]
ok = True
def against_x86(kind, name):
    """The launcher's default build on one emulated CPU against x86_64's: same answers."""
    global ok
    print(f"{name}, TensorFlow Lite models on LiteRT:")
    worst_match = worst_box = 0.0
    for i in range(n):
        x85, a85 = load("x86", i, 85), load(kind, i, 85)
        x1, a1 = load("x86", i, 1), load(kind, i, 1)
        dm = abs(x1["targetFrontMatch"] - a1["targetFrontMatch"])
        db = max(abs(x85[k] - a85[k]) for k in boxes)
        same = x85["status"] == a85["status"]
        worst_match, worst_box = max(worst_match, dm), max(worst_box, db)
        good = same and dm <= 0.5 and db <= 0.01
        ok &= good
        print(f"pair {i}: status x86 {x85['status']:<16} arm {a85['status']:<16} match x86 {x1['targetFrontMatch']:7.3f} arm {a1['targetFrontMatch']:7.3f}  box diff {db:.5f}  {'ok' if good else 'DIFFERENT'}")
    print(f"arm-check: {name} {n} pairs, largest match difference {worst_match:.4f} points, largest box difference {worst_box:.5f}")
against_x86("arm", "Cortex-A76 (Raspberry Pi 5)")
against_x86("a72", "Cortex-A72 (Raspberry Pi 4)")
print("Cortex-A72 (Raspberry Pi 4), ONNX Runtime build (FACEMATCH_RUNTIME=onnx):")
worst_onnx = worst_vs_tflite = worst_box = 0.0
for i in range(n):
    x85, o1, a85, a1 = load("x86", i, 85), load("x86onnx", i, 1), load("a72onnx", i, 85), load("a72onnx", i, 1)
    x1 = load("x86", i, 1)
    do = abs(o1["targetFrontMatch"] - a1["targetFrontMatch"])
    dt = abs(x1["targetFrontMatch"] - a1["targetFrontMatch"])
    db = max(abs(x85[k] - a85[k]) for k in boxes)
    same = x85["status"] == a85["status"]
    worst_onnx, worst_vs_tflite, worst_box = max(worst_onnx, do), max(worst_vs_tflite, dt), max(worst_box, db)
    good = same and do <= 0.5 and db <= 0.01
    ok &= good
    print(f"pair {i}: status x86 {x85['status']:<16} a72 {a85['status']:<16} match x86 onnx {o1['targetFrontMatch']:7.3f} tflite {x1['targetFrontMatch']:7.3f} a72 {a1['targetFrontMatch']:7.3f}  box diff {db:.5f}  {'ok' if good else 'DIFFERENT'}")
print(f"arm-check: Cortex-A72 on ONNX Runtime {n} pairs, largest match difference {worst_onnx:.4f} points against x86 ONNX Runtime, {worst_vs_tflite:.4f} against x86 TensorFlow Lite, largest box difference {worst_box:.5f}")
sys.exit(0 if ok else 1)
PY
echo "arm-check: emulated runs took $(( $(date +%s) - started )) s in all"

# The aarch64 kiosk (linuxkms build) loads all its libraries and, with no screen to draw on here,
# says so in plain words and exits 2: no panic, no crash.
arm "$work/kiosk.out" kiosk --display kms --camera dir:"$root/assets/kiosk/camera" --idle-timeout 5
if ! grep -q "the kiosk cannot start its display" "$work/kiosk.out.err" || ! grep -qx "exit 2" "$work/kiosk.out.err" \
   || grep -qi "panicked" "$work/kiosk.out.err"; then
  echo "arm-check: the aarch64 kiosk did not fail cleanly without a screen:"; cat "$work/kiosk.out.err"; exit 1
fi
echo "arm-check: aarch64 kiosk without a screen: $(head -1 "$work/kiosk.out.err")"
echo "arm-check: $(( 3 * ${#pairs[@]} + 1 )) passed, 0 failed"

#!/usr/bin/env bash
# Same answers on ARM: builds the aarch64 bundle and runs its launcher on real genuine and impostor
# pairs from ../shared (one document a synthetic card of a ../shared photo), emulated three times:
#   - qemu-aarch64 -cpu cortex-a76 (Raspberry Pi 5) and -cpu cortex-a72 (Raspberry Pi 4, ARMv8.0):
#     the launcher's default, TensorFlow Lite models on LiteRT, against x86_64's: same status,
#     match within 0.5, boxes within 1%;
#   - -cpu cortex-a72 with FACEMATCH_RUNTIME=onnx: the same binary on ONNX Runtime; against x86_64's
#     TensorFlow Lite: same status, boxes within 1%; against x86_64's ONNX Runtime: match within 0.5.
# Each pair runs once per configuration, at threshold 1 (the score and the boxes do not depend on the
# threshold): "same status" is the status at threshold 1 and the verdict at 85 derived from the scores
# (the contract's rule: matched when targetFrontMatch or targetBackMatch reaches it); x86_64 also
# answers each pair at 85 natively (about a second each), which that derivation must reproduce.
# qemu-user reads the host's /proc/cpuinfo, which the runtime's CPU detection would
# misread: each emulated run gets a private mount namespace with an aarch64 cpuinfo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. "$root/scripts/features.sh"
shared=${FACEMATCH_SHARED:-$root/../shared}
"$root/scripts/bundle.sh" >/dev/null
FACEMATCH_FEATURES=$TEST_FEATURES "$root/scripts/build.sh" >/dev/null
# The lab's binary (x86_64 only) prints the synthetic card.
cargo build -q --release --locked --workspace --features "$TEST_FEATURES"
lab="$root/target/release/facematch-lab"
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
"$lab" card --photo "$shared/faces/barack_obama/2.jpg" --out "$work/card-barack_obama.jpg" --seed 5 >/dev/null
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
  front=$2
  [ "${front#/}" != "$front" ] || front="$shared/faces/$front"
  request=(match --src "$shared/faces/$1" --front "$front" --type GOV)
  args=("${request[@]}" --threshold 1)
  "$x86" "${args[@]}" >"$work/x86-$i.json" 2>"$work/x86-$i.json.err" || echo "exit $?" >>"$work/x86-$i.json.err"
  # x86_64 only (native, about a second): the real answer at 85, which the derived verdicts must equal.
  "$x86" "${request[@]}" --threshold 85 >"$work/x86at85-$i.json" 2>"$work/x86at85-$i.json.err" || echo "exit $?" >>"$work/x86at85-$i.json.err"
  FACEMATCH_RUNTIME=onnx "$x86" "${args[@]}" >"$work/x86onnx-$i.json" 2>"$work/x86onnx-$i.json.err" || echo "exit $?" >>"$work/x86onnx-$i.json.err"
  arm "$work/arm-$i.json" "${args[@]}"
  emulated cortex-a72 "$work/a72-$i.json" "${args[@]}"
  FACEMATCH_RUNTIME=onnx emulated cortex-a72 "$work/a72onnx-$i.json" "${args[@]}"
  i=$((i + 1))
done
python3 - "$work" "${#pairs[@]}" <<'PY'
import json, math, os, sys
work, n = sys.argv[1], int(sys.argv[2])
def load(kind, i):
    path = f"{work}/{kind}-{i}.json"
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        err = path + ".err"
        sys.exit(f"arm-check: no answer in {path}: " + (open(err).read() if os.path.exists(err) else ""))
boxes = ["srcLeft", "srcTop", "srcWidth", "srcHeight", "targetFrontLeft", "targetFrontTop", "targetFrontWidth", "targetFrontHeight"]
def diff(a, b):
    """|a - b| of two optional numbers: 0 when both are null, infinite when only one is."""
    if a is None or b is None:
        return 0.0 if a is None and b is None else math.inf
    return abs(a - b)
def at_85(answer):
    """The status a run at threshold 85 answers, from the run at threshold 1: the match percents are
    only populated where they reach the threshold, and the verdict is matched when the front or the
    back reaches it (src/matching.rs); an answer not matched at 1 is not matched at 85 either."""
    status = answer["status"]
    if status != "FACE_MATCHED":
        return status
    scores = [answer.get(k) for k in ("targetFrontMatch", "targetBackMatch")]
    return "FACE_MATCHED" if any(s is not None and s >= 85 for s in scores) else "FACE_NOT_MATCHED"
def score(answer):
    s = answer.get("targetFrontMatch")
    return f"{s:7.3f}" if s is not None else "   null"
def same_status(x, a):
    """Same status at threshold 1 and the same verdict at 85 (same side of 85)."""
    return x["status"] == a["status"] and at_85(x) == at_85(a)
def status(answer):
    return f"{answer['status']}/{at_85(answer)}"
ok = True
for i in range(n):
    x, x85 = load("x86", i), load("x86at85", i)
    if at_85(x) != x85["status"]:
        ok = False
        print(f"pair {i}: x86 at threshold 85 answers {x85['status']}, the verdict derived from its run at 1 is {at_85(x)}: DIFFERENT (the derivation no longer follows the program's rule)")
def against_x86(kind, name):
    """The launcher's default runtime on one emulated CPU against x86_64's: same answers."""
    global ok
    print(f"{name}, TensorFlow Lite models on LiteRT:")
    worst_match = worst_box = 0.0
    for i in range(n):
        x, a = load("x86", i), load(kind, i)
        dm = diff(x.get("targetFrontMatch"), a.get("targetFrontMatch"))
        db = max(diff(x.get(k), a.get(k)) for k in boxes)
        same = same_status(x, a)
        worst_match, worst_box = max(worst_match, dm), max(worst_box, db)
        good = same and dm <= 0.5 and db <= 0.01
        ok &= good
        print(f"pair {i}: status at 1/85 x86 {status(x):<33} arm {status(a):<33} match x86 {score(x)} arm {score(a)}  box diff {db:.5f}  {'ok' if good else 'DIFFERENT'}")
    print(f"arm-check: {name} {n} pairs, largest match difference {worst_match:.4f} points, largest box difference {worst_box:.5f}")
against_x86("arm", "Cortex-A76 (Raspberry Pi 5)")
against_x86("a72", "Cortex-A72 (Raspberry Pi 4)")
print("Cortex-A72 (Raspberry Pi 4), ONNX Runtime (FACEMATCH_RUNTIME=onnx):")
worst_onnx = worst_vs_tflite = worst_box = 0.0
for i in range(n):
    x, o, a = load("x86", i), load("x86onnx", i), load("a72onnx", i)
    do = diff(o.get("targetFrontMatch"), a.get("targetFrontMatch"))
    dt = diff(x.get("targetFrontMatch"), a.get("targetFrontMatch"))
    db = max(diff(x.get(k), a.get(k)) for k in boxes)
    same = same_status(x, a)
    worst_onnx, worst_vs_tflite, worst_box = max(worst_onnx, do), max(worst_vs_tflite, dt), max(worst_box, db)
    good = same and do <= 0.5 and db <= 0.01
    ok &= good
    print(f"pair {i}: status at 1/85 x86 {status(x):<33} a72 {status(a):<33} match x86 onnx {score(o)} tflite {score(x)} a72 {score(a)}  box diff {db:.5f}  {'ok' if good else 'DIFFERENT'}")
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

#!/usr/bin/env bash
# Same answers on ARM: builds the aarch64 bundle, runs `facematch match` under
# qemu-aarch64 -cpu cortex-a76 on real genuine and impostor pairs from ../shared,
# and compares with the x86_64 build: same status, match within 0.5, boxes within 1%.
# Also checks that the launcher refuses a Cortex-A72 (Pi 4) in one clear line.
# qemu-user reads the host's /proc/cpuinfo, which the runtime's CPU detection would
# misread: each emulated run gets a private mount namespace with an aarch64 cpuinfo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
shared=${FACEMATCH_SHARED:-$root/../shared}
"$root/scripts/bundle.sh" >/dev/null
"$root/scripts/build.sh" >/dev/null
bundle=$(ls -d dist/facematch-*-aarch64 | head -1)
x86="$root/target/release/facematch"
a76="$root/build-support/qemu/cpuinfo-cortex-a76"
a72="$root/build-support/qemu/cpuinfo-cortex-a72"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# With Debian's arm64 multiarch libraries installed (scripts/cross-setup.sh), qemu finds the arm64
# loader and libraries where the binary expects them; the cross sysroot (-L) is only for machines
# without them (mixing the two makes every run spin).
wrapper="qemu-aarch64 -cpu cortex-a76"
[ -e /lib/ld-linux-aarch64.so.1 ] || wrapper="$wrapper -L /usr/aarch64-linux-gnu"

arm() { # arm OUT ARGS... : the bundle's launcher, emulated as a Cortex-A76
  local out=$1; shift
  unshare -m sh -c 'mount --bind "$0" /proc/cpuinfo && exec "$@"' "$a76" \
    env FACEMATCH_CPUINFO="$a76" FACEMATCH_EXEC_WRAPPER="$wrapper" \
    "$bundle/facematch" "$@" >"$out" 2>"$out.err" || echo "exit $?" >>"$out.err"
}

pairs=(
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
    args=(match --src "$shared/faces/$1" --front "$shared/faces/$2" --type GOV --threshold "$threshold")
    "$x86" "${args[@]}" >"$work/x86-$i-$threshold.json" 2>/dev/null || true
    arm "$work/arm-$i-$threshold.json" "${args[@]}"
  done
  i=$((i + 1))
done
python3 - "$work" "${#pairs[@]}" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
boxes = ["srcLeft", "srcTop", "srcWidth", "srcHeight", "targetFrontLeft", "targetFrontTop", "targetFrontWidth", "targetFrontHeight"]
worst_match = worst_box = 0.0
ok = True
for i in range(n):
    x85, a85 = (json.load(open(f"{work}/{k}-{i}-85.json")) for k in ("x86", "arm"))
    x1, a1 = (json.load(open(f"{work}/{k}-{i}-1.json")) for k in ("x86", "arm"))
    dm = abs(x1["targetFrontMatch"] - a1["targetFrontMatch"])
    db = max(abs(x85[k] - a85[k]) for k in boxes)
    same = x85["status"] == a85["status"]
    worst_match, worst_box = max(worst_match, dm), max(worst_box, db)
    good = same and dm <= 0.5 and db <= 0.01
    ok &= good
    print(f"pair {i}: status x86 {x85['status']:<16} arm {a85['status']:<16} match x86 {x1['targetFrontMatch']:7.3f} arm {a1['targetFrontMatch']:7.3f}  box diff {db:.5f}  {'ok' if good else 'DIFFERENT'}")
print(f"arm-check: {n} pairs, largest match difference {worst_match:.4f} points, largest box difference {worst_box:.5f}")
sys.exit(0 if ok else 1)
PY
echo "arm-check: emulated runs took $(( $(date +%s) - started )) s in all"

# A Cortex-A72 (Raspberry Pi 4) is refused by the launcher in one line, before the runtime loads.
set +e
FACEMATCH_CPUINFO="$a72" "$bundle/facematch" --version >"$work/a72.out" 2>&1
code=$?
set -e
if [ "$code" -ne 78 ] || [ "$(wc -l <"$work/a72.out")" -ne 1 ] || ! grep -q "unsupported CPU" "$work/a72.out"; then
  echo "arm-check: the launcher did not refuse a Cortex-A72 cleanly (exit $code):"; cat "$work/a72.out"; exit 1
fi
echo "arm-check: Cortex-A72 refused: $(cat "$work/a72.out")"

# The aarch64 kiosk (linuxkms build) loads all its libraries and, with no screen to draw on here,
# says so in plain words and exits 2: no panic, no crash.
arm "$work/kiosk.out" kiosk --display kms --camera dir:"$root/assets/kiosk/camera" --idle-timeout 5
if ! grep -q "the kiosk cannot start its display" "$work/kiosk.out.err" || ! grep -qx "exit 2" "$work/kiosk.out.err" \
   || grep -qi "panicked" "$work/kiosk.out.err"; then
  echo "arm-check: the aarch64 kiosk did not fail cleanly without a screen:"; cat "$work/kiosk.out.err"; exit 1
fi
echo "arm-check: aarch64 kiosk without a screen: $(head -1 "$work/kiosk.out.err")"
echo "arm-check: $(( ${#pairs[@]} + 2 )) passed, 0 failed"

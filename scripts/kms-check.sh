#!/usr/bin/env bash
# The kiosk as it runs on a Pi, drawn for real: boots Debian's arm64 kernel under
# qemu-system-aarch64 (-cpu cortex-a76, virtio GPU at 1280x800, no desktop), starts
# the aarch64 bundle's `facematch kiosk --display kms --language hi` from a tiny busybox
# initramfs, and takes screenshots of the emulated screen through QEMU until the welcome screen
# is there (in Hindi: the embedded Devanagari font, drawn by the Pi's build) and fills the output.
# Before the kiosk, the guest runs one `facematch match` (the bundled astronaut selfie vs her
# card) with the real kernel's /proc/cpuinfo, compared with the x86_64 build here. Then it taps
# through welcome, consent and document type with a finger on a touch panel (a uinput multi-touch
# device made by evemu in the guest, read through evdev and libinput as a Pi's panel is), checks
# that the consent screen's voice prompt is heard byte for byte on ALSA's loopback card, that the
# selfie screen shows vivid (the kernel's virtual V4L2 camera: `facematch cameras` names it as
# virtual, and the kiosk takes it only with --allow-virtual-camera), that unplugging it shows the
# staff message and that plugging it back brings the picture back.
# Writes target/kiosk-screens/kms-aarch64-*.png; fails if a screen or an event does not come
# within the time limit, the kiosk exits, or the match differs (status, or more than 0.5 points).
#
# Everything comes from Debian's archive (qemu-system-arm, cpio; linux-image-*-arm64,
# busybox-static, alsa-utils and evemu-tools for arm64, downloaded, not installed) and the bundle
# from scripts/bundle.sh.
# Usage: scripts/kms-check.sh   (after scripts/bundle.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. "$root/scripts/features.sh"
say() { echo "kms-check: $*" >&2; }
limit=${FACEMATCH_KMS_LIMIT:-900}

bundle=$(ls -d dist/facematch-*-aarch64 2>/dev/null | head -1)
[ -n "$bundle" ] || { say "no bundle: run scripts/bundle.sh first"; exit 1; }
if ! command -v qemu-system-aarch64 >/dev/null || ! command -v cpio >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends qemu-system-arm cpio >/dev/null
fi

cache="$root/target/kms-check"
mkdir -p "$cache/debs"
kernel_pkg=$(apt-cache depends linux-image-arm64:arm64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\):arm64$/\1/p; s/.*Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { say "no arm64 kernel package in apt's lists (is arm64 added? scripts/cross-setup.sh)"; exit 1; }
(cd "$cache/debs" && for p in "$kernel_pkg:arm64" busybox-static:arm64 alsa-utils:arm64 libasound2:arm64 libasound2-data \
  evemu-tools:arm64 libevemu3:arm64 libevdev2:arm64; do
  ls "${p%%:*}"_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null 2>&1
done)
for deb in "$cache"/debs/*.deb; do say "using $(basename "$deb") sha256 $(sha256sum "$deb" | cut -c1-16)…"; done

rm -rf "$cache/kernel" "$cache/root" && mkdir -p "$cache/kernel" "$cache/root"
dpkg-deb -x "$cache"/debs/"$kernel_pkg"_*.deb "$cache/kernel"
release=$(ls "$cache/kernel/lib/modules")
rootfs="$cache/root"
mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,run,modules,opt,samples,etc}
dpkg-deb --fsys-tarfile "$cache"/debs/busybox-static_*.deb | tar -x -C "$cache" ./bin/busybox
mv "$cache/bin/busybox" "$rootfs/bin/busybox" && rmdir "$cache/bin"

# The virtio GPU driver; uinput and evdev (the touch panel's taps through the kernel's input
# stack, read by libinput); virtio_console (the host's channel that says where to tap); vivid, the
# kernel's virtual camera (V4L2); and snd-aloop, ALSA's loopback sound card (what is played on one
# end is recorded on the other), with the modules they need, in load order (read from each
# module's .modinfo; one built into the kernel is skipped).
python3 - "$cache/kernel/lib/modules/$release/kernel" "$rootfs/modules" virtio_pci virtio_gpu uinput evdev virtio_console vivid snd_aloop <<'PY'
import os, re, shutil, sys
tree, out, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
paths = {}
for d, _, files in os.walk(tree):
    for f in files:
        if f.endswith(".ko"):
            paths[f[:-3].replace("-", "_")] = os.path.join(d, f)
order = []
builtin = {os.path.basename(line.strip())[:-3].replace("-", "_")
           for line in open(os.path.join(os.path.dirname(tree), "modules.builtin"))}
def add(name):
    name = name.replace("-", "_")
    if name in order or not name or name in builtin:
        return
    if name not in paths:
        sys.exit(f"kms-check: the kernel has no module {name}")
    data = open(paths[name], "rb").read()
    m = re.search(rb"depends=([^\x00]*)\x00", data)
    for dep in (m.group(1).decode().split(",") if m else []):
        add(dep)
    order.append(name)
for w in wanted:
    add(w)
with open(os.path.join(out, "order"), "w") as f:
    for i, name in enumerate(order):
        shutil.copy(paths[name], os.path.join(out, f"{i:02d}-{name}.ko"))
        f.write(f"{i:02d}-{name}.ko\n")
PY

# The bundle, the arm64 libraries it links (Debian multiarch), fonts, keyboard data, sample pictures.
cp -r "$bundle" "$rootfs/opt/facematch"
cp -L assets/kiosk/camera/* "$rootfs/samples/"
mkdir -p "$rootfs/cards" && cp -L assets/kiosk/scanner/* "$rootfs/cards/"
x86_match=$(FACEMATCH_FEATURES=$TEST_FEATURES "$root/scripts/build.sh" >/dev/null && "$root/target/release/facematch" match --type GOV --threshold 1 \
  --src assets/kiosk/camera/selfie_astronaut.png --front assets/kiosk/scanner/card_astronaut.jpg | tr -d '\n')
libs=$(LD_LIBRARY_PATH="$rootfs/opt/facematch/bin" qemu-aarch64 /lib/ld-linux-aarch64.so.1 --list "$rootfs/opt/facematch/bin/facematch" \
  | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p' | grep -v "$rootfs")
for lib in $libs /lib/ld-linux-aarch64.so.1; do
  mkdir -p "$rootfs$(dirname "$lib")" && cp -L "$lib" "$rootfs$lib"
done
mkdir -p "$rootfs/usr/share/fonts/truetype" "$rootfs/usr/share/X11"
cp -r /usr/share/fonts/truetype/dejavu "$rootfs/usr/share/fonts/truetype/"
cp -rL /etc/fonts "$rootfs/etc/"
[ -d /usr/share/X11/xkb ] && cp -r /usr/share/X11/xkb "$rootfs/usr/share/X11/"
# libinput's device quirks, as libinput10 brings them on the Pi (libinput-bin; data, not code).
[ -d /usr/share/libinput ] || { say "no /usr/share/libinput (libinput-bin, with libinput-dev: scripts/setup.sh)"; exit 1; }
cp -r /usr/share/libinput "$rootfs/usr/share/"
# aplay (the kiosk's voice) and arecord, with ALSA's library and configuration, for arm64.
alsa="$cache/alsa" && rm -rf "$alsa" && mkdir -p "$alsa"
for deb in "$cache"/debs/alsa-utils_*.deb "$cache"/debs/libasound2_*.deb "$cache"/debs/libasound2-data_*.deb; do
  dpkg-deb -x "$deb" "$alsa"
done
mkdir -p "$rootfs/usr/bin" "$rootfs/usr/share"
cp "$alsa/usr/bin/aplay" "$rootfs/usr/bin/aplay" && ln -sf aplay "$rootfs/usr/bin/arecord"
cp -r "$alsa/usr/share/alsa" "$rootfs/usr/share/"
alsa_libs=$(LD_LIBRARY_PATH="$alsa/usr/lib/aarch64-linux-gnu" qemu-aarch64 /lib/ld-linux-aarch64.so.1 --list "$alsa/usr/bin/aplay" \
  | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p')
for lib in $alsa_libs; do
  mkdir -p "$rootfs/usr/lib/aarch64-linux-gnu" && cp -L "$lib" "$rootfs/usr/lib/aarch64-linux-gnu/"
done
# evemu for arm64 (its libraries beside ALSA's): evemu-device makes the touch panel through
# uinput, evemu-play puts a finger on it.
evemu="$cache/evemu" && rm -rf "$evemu" && mkdir -p "$evemu"
for deb in "$cache"/debs/evemu-tools_*.deb "$cache"/debs/libevemu3_*.deb "$cache"/debs/libevdev2_*.deb; do
  dpkg-deb -x "$deb" "$evemu"
done
cp "$evemu"/usr/bin/evemu-device "$evemu"/usr/bin/evemu-play "$rootfs/usr/bin/"
cp -a "$evemu"/usr/lib/aarch64-linux-gnu/lib* "$rootfs/usr/lib/aarch64-linux-gnu/"
# The touch panel, as a Pi's DSI or USB panel shows itself to the kernel: a direct-touch
# (INPUT_PROP_DIRECT) multi-touch device, protocol B (slots and tracking ids), with BTN_TOUCH and
# single-touch axes beside, covering the 1280x800 output.
python3 - "$rootfs/etc/touch-panel.evemu" <<'PY'
import sys
EV_SYN, EV_KEY, EV_ABS = 0x00, 0x01, 0x03
BTN_TOUCH = 0x14a
axes = {0x00: 1279, 0x01: 799,                # ABS_X, ABS_Y
        0x2f: 9,                              # ABS_MT_SLOT: ten fingers
        0x35: 1279, 0x36: 799,                # ABS_MT_POSITION_X, _Y
        0x39: 65535}                          # ABS_MT_TRACKING_ID
def mask(bits, size):
    b = bytearray(size)
    for bit in bits:
        b[bit // 8] |= 1 << (bit % 8)
    return b
def lines(tag, b):
    return [f"{tag} " + " ".join(f"{x:02x}" for x in b[i:i + 8]) for i in range(0, len(b), 8)]
out = ["# EVEMU 1.3", "N: facematch kms-check touch panel", "I: 0006 0000 0000 0001"]
out += lines("P:", mask([0x01], 8))            # INPUT_PROP_DIRECT: a screen, not a touchpad
out += lines("B: 00", mask([EV_SYN, EV_KEY, EV_ABS], 8))
out += lines("B: 01", mask([BTN_TOUCH], 96))
out += lines("B: 03", mask(axes, 8))
for code, top in axes.items():
    resolution = 10 if code in (0x00, 0x01, 0x35, 0x36) else 0
    out.append(f"A: {code:02x} 0 {top} 0 0 {resolution}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY

cat > "$rootfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
for m in $(cat /modules/order); do
  case $m in
    # One video capture node (/dev/video0), as a USB webcam gives.
    *-vivid.ko) insmod /modules/$m node_types=0x1 ;;
    *-snd_aloop.ko) insmod /modules/$m pcm_substreams=1 ;;
    *) insmod /modules/$m ;;
  esac
done
sleep 1
export PATH=/bin:/usr/bin LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu
# The touch panel, made through uinput before the kiosk starts (libinput enumerates at start), and
# what udevd would record for it (no udevd here): libinput takes only input devices the udev
# database names as input, and a touchscreen as one.
evemu-device /etc/touch-panel.evemu >/tmp/panel.txt 2>&1 &
n=0
until grep -q /dev/input/event /tmp/panel.txt; do
  n=$((n + 1)); [ $n -lt 150 ] || { echo "kms-check-guest: no touch panel: $(cat /tmp/panel.txt)"; poweroff -f; }
  sleep 0.2
done
panel=$(sed -n 's/.*\(\/dev\/input\/event[0-9]*\).*/\1/p' /tmp/panel.txt)
mkdir -p /run/udev/data
printf 'I:1\nE:ID_INPUT=1\nE:ID_INPUT_TOUCHSCREEN=1\n' >"/run/udev/data/c$(cat /sys/class/input/${panel#/dev/input/}/dev)"
echo "kms-check-guest: cameras: $(ls /dev/video* 2>&1), touch panel: $panel ($(cat /sys/class/input/${panel#/dev/input/}/device/name))"
echo "kms-check-guest: display devices: $(ls /dev/dri 2>&1)"
echo "kms-check-guest: cpu: $(grep -m1 Features /proc/cpuinfo)"
cd /tmp
echo "kms-check-guest: match $(/opt/facematch/facematch match --type GOV --threshold 1 --src /samples/selfie_astronaut.png --front /cards/card_astronaut.jpg 2>/dev/null | tr -d '\n')"
# The loopback's other end, recorded from before the kiosk speaks (the prompts' format: 11025 Hz,
# mono, 16 bits).
arecord -q -D hw:Loopback,1,0 -t raw -f S16_LE -r 11025 -c 1 /tmp/heard.raw 2>/tmp/arecord.log &
recorder=$!
# vivid is what the kernel says it is: a virtual camera, which the kiosk takes only for testing.
echo "kms-check-guest: cameras: $(/opt/facematch/facematch cameras 2>&1 | tr '\n' ' ')"
echo "kms-check-guest: enrol: $(/opt/facematch/facematch cameras --enrol /dev/video0 2>/dev/null)"
FACEMATCH_LOG=info,facematch::kiosk::speaker=debug \
  /opt/facematch/facematch kiosk --display kms --language hi --camera /dev/video0 --document-source dir:/cards \
  --allow-virtual-camera \
  --audio-device hw:Loopback,0,0 --idle-timeout 600 --threads 2 >/tmp/kiosk.log 2>&1 &
kiosk=$!
# The first prompt played (the consent screen's, once the host taps Start) must be heard, byte for
# byte, on the loopback's other end.
(
  until grep -q "speaker: playing" /tmp/kiosk.log; do sleep 1; done
  sleep 8
  kill -INT $recorder; sleep 1
  prompt=$(grep -m1 "speaker: playing" /tmp/kiosk.log | sed 's/.*speaker: playing \([^ ]*\).*/\1/')
  # The byte offset of the first sound (a non-zero byte) in $1, from byte $2 on.
  # (od's offsets have leading zeros, which busybox's awk would read as octal.)
  first() { od -A d -v -t x1 -j "$2" "$1" | awk '{ for (i = 2; i <= NF; i++) if ($i != "00") { o = $1; sub(/^0+/, "", o); print o + i - 2; exit } }'; }
  # The byte offset of a WAV file's samples: its chunks walked to "data".
  samples_at() {
    off=12
    while [ "$off" -lt 65536 ]; do
      id=$(dd if="$1" bs=1 skip="$off" count=4 2>/dev/null)
      size=$(od -A n -t u4 -j $((off + 4)) -N 4 "$1" | tr -d ' ')
      [ "$id" = data ] && { echo $((off + 8)); return; }
      off=$((off + 8 + size + size % 2))
    done
  }
  heard_at=$(first /tmp/heard.raw 0); said_at=$(first "$prompt" "$(samples_at "$prompt")")
  # The prompt's first 16 KB of sound (0.7 s): the next screen's prompt cuts in once the host
  # taps on, so what follows in the recording is another prompt.
  n=$(( $(wc -c <"$prompt") - ${said_at:-0} )); [ "$n" -le 16384 ] || n=16384
  if [ -n "$heard_at" ] && [ -n "$said_at" ] && cmp -s -n "$n" /tmp/heard.raw "$prompt" "$heard_at" "$said_at"; then
    echo "kms-check-guest: voice heard: $n bytes of $(basename "$prompt") recorded byte for byte on the loopback"
  else
    echo "kms-check-guest: voice not heard: $(wc -c </tmp/heard.raw) bytes recorded, first sound at ${heard_at:-none}, prompt $prompt; $(cat /tmp/arecord.log)"
    echo "kms-check-guest: voice recorded: $(od -A n -t x1 -N 48 -j "${heard_at:-0}" /tmp/heard.raw | tr -d '\n')"
    echo "kms-check-guest: voice prompt:   $(od -A n -t x1 -N 48 -j "${said_at:-0}" "$prompt" | tr -d '\n')"
  fi
) &
# The host says where to tap ("tap X Y", screen pixels) on the virtio port named "touch": one
# finger down and up 120 ms later, on slot 0, through the panel.
(
  named=$(grep -lx touch /sys/class/virtio-ports/*/name 2>/dev/null)
  [ -n "$named" ] || { echo "kms-check-guest: no virtio port named touch: $(ls /sys/class/virtio-ports 2>&1)"; exit 1; }
  port=/dev/$(basename "$(dirname "$named")")
  n=0
  # (Read before the host connects, the port gives an end of file: read it again.)
  while :; do
    while read -r verb x y; do
      [ "$verb" = tap ] || continue
      n=$((n + 1))
      printf 'E: 0.000000 0003 002f 0\nE: 0.000000 0003 0039 %d\nE: 0.000000 0003 0035 %d\nE: 0.000000 0003 0036 %d\nE: 0.000000 0001 014a 1\nE: 0.000000 0003 0000 %d\nE: 0.000000 0003 0001 %d\nE: 0.000000 0000 0000 0\nE: 0.120000 0003 0039 -1\nE: 0.120000 0001 014a 0\nE: 0.120000 0000 0000 0\n' \
        "$n" "$x" "$y" "$x" "$y" >/tmp/tap.events
      if evemu-play "$panel" </tmp/tap.events 2>/tmp/play.log; then
        echo "kms-check-guest: touched $n at ($x, $y)"
      else
        echo "kms-check-guest: evemu-play failed: $(cat /tmp/play.log)"
      fi
    done <"$port"
    sleep 1
  done
) &
echo "kms-check-guest: kiosk started"
# The kiosk's log on the console as it is written (the host shows it when a check fails).
tail -f /tmp/kiosk.log 2>/dev/null | while read -r line; do echo "kms-check-guest: log: $line" | cut -c1-240; done &
# Once the selfie screen previews the camera (the host taps there), unplug it (vivid's device
# unbound, as a USB camera pulled out) and plug it back.
(
  until grep -q "kiosk: preview .*Selfie" /tmp/kiosk.log; do sleep 1; done
  echo "kms-check-guest: camera streaming: $(grep -m1 'camera /dev/video0:' /tmp/kiosk.log | cut -c1-260)"
  echo "kms-check-guest: preview: $(grep 'kiosk: preview' /tmp/kiosk.log | tail -1 | cut -c1-160)"
  sleep 10
  echo vivid.0 >/sys/bus/platform/drivers/vivid/unbind && echo "kms-check-guest: camera unplugged"
  sleep 15
  opened=$(grep -c 'camera /dev/video0:' /tmp/kiosk.log)
  echo vivid.0 >/sys/bus/platform/drivers/vivid/bind && echo "kms-check-guest: camera plugged back"
  until [ "$(grep -c 'camera /dev/video0:' /tmp/kiosk.log)" -gt "$opened" ]; do sleep 1; done
  sleep 8
  echo "kms-check-guest: camera reopened, preview: $(grep 'kiosk: preview' /tmp/kiosk.log | tail -1 | cut -c1-160)"
) &
while kill -0 $kiosk 2>/dev/null; do sleep 5; done
wait $kiosk
echo "kms-check-guest: kiosk exited with $?"
cat /tmp/kiosk.log
poweroff -f
INIT
chmod 0755 "$rootfs/init"
(cd "$rootfs" && find . | cpio -o -H newc --quiet | gzip -1) >"$cache/initrd.gz"
say "initramfs $(du -h "$cache/initrd.gz" | cut -f1), kernel $release"

run="$cache/run" && rm -rf "$run" && mkdir -p "$run"
qemu-system-aarch64 -M virt -cpu cortex-a76 -smp 2 -m 2048 \
  -kernel "$cache/kernel/boot/vmlinuz-$release" -initrd "$cache/initrd.gz" \
  -append "console=ttyAMA0 rdinit=/init quiet" \
  -device virtio-gpu-pci,xres=1280,yres=800,romfile= -display none \
  -device virtio-serial-pci,romfile= -chardev socket,id=touch,path="$run/touch.sock",server=on,wait=off \
  -device virtserialport,chardev=touch,name=touch \
  -serial file:"$run/serial.log" -monitor unix:"$run/monitor.sock",server,nowait \
  -qmp unix:"$run/qmp.sock",server,nowait \
  -nic none -no-reboot &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
started=$(date +%s)
shot="$root/target/kiosk-screens/kms-aarch64-welcome.png"
mkdir -p "$(dirname "$shot")"
while :; do
  sleep 10
  elapsed=$(( $(date +%s) - started ))
  if ! kill -0 $qemu 2>/dev/null || grep -q "kiosk exited" "$run/serial.log"; then
    say "the emulated device stopped before the kiosk drew its screen:"; tr -d '\r' <"$run/serial.log" | tail -20; exit 1
  fi
  [ "$elapsed" -lt "$limit" ] || { say "no kiosk screen after $limit s:"; tr -d '\r' <"$run/serial.log" | tail -20; exit 1; }
  grep -q "kiosk started" "$run/serial.log" || continue
  rc=0
  python3 - "$run" "$shot" <<'PY' || rc=$?
import os, socket, struct, sys, time, zlib
run, shot = sys.argv[1], sys.argv[2]
ppm = os.path.join(run, "screen.ppm")
s = socket.socket(socket.AF_UNIX); s.connect(os.path.join(run, "monitor.sock"))
s.sendall(f"screendump {ppm}\n".encode()); time.sleep(2); s.close()
data = open(ppm, "rb").read()
parts = data.split(b"\n", 3)
w, h = map(int, parts[1].split()); pixels = parts[3]
colours = len(set(pixels[i:i + 3] for i in range(0, len(pixels), 3 * 7)))
if colours < 16:
    sys.exit(1)
rows = b"".join(b"\x00" + pixels[y * w * 3:(y + 1) * w * 3] for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
open(shot, "wb").write(png)
# The kiosk takes the output's size (1280x800 here, not its 1024x768 window default): the staff
# button sits at the right edge of the whole screen, a page's padding from it.
page = bytes.fromhex("0b1d2a")
right = max((x for y in range(h // 2, h, 4) for x in range(w)
             if pixels[(y * w + x) * 3:(y * w + x) * 3 + 3] != page), default=0)
if right < 0.9 * w:
    print(f"the screen's content ends at x={right} of {w}: the kiosk did not take the output's size", file=sys.stderr)
    sys.exit(2)
print(f"{w}x{h}, {colours} colours, content to x={right}")
PY
  [ "$rc" -ne 2 ] || { say "the kiosk's screen does not fill the display: $shot"; exit 1; }
  if [ "$rc" -eq 0 ]; then
    say "the kiosk drew its welcome screen through DRM/KMS on an emulated Cortex-A76 after $elapsed s: $shot"
    tr -d '\r' <"$run/serial.log" | grep "kms-check-guest" | cut -c1-300 >&2
    arm_match=$(tr -d '\r' <"$run/serial.log" | sed -n 's/^kms-check-guest: match //p')
    python3 - "$x86_match" "$arm_match" <<'PY'
import json, sys
x86, arm = (json.loads(a) for a in sys.argv[1:3])
diff = abs(x86["targetFrontMatch"] - arm["targetFrontMatch"])
print(f"kms-check: match on the emulated Pi {arm['targetFrontMatch']:.3f} ({arm['status']}), here {x86['targetFrontMatch']:.3f} ({x86['status']}), difference {diff:.3f}", file=sys.stderr)
sys.exit(0 if x86["status"] == arm["status"] and diff <= 0.5 else 1)
PY
    break
  fi
done

# The customer's taps through the kernel's input stack: a finger on the guest's uinput touch panel
# (Debian 12's QEMU has no touchscreen device), read by libinput as a Pi's panel is; the host says
# where on a virtio port. Each screen is found by its buttons' colours on the emulated display, and
# kept as a picture.
say "tapping through welcome, consent and document type; the camera is vivid (V4L2)"
python3 - "$run" "$root/target/kiosk-screens" "$limit" "$started" <<'PY'
import json, os, socket, struct, sys, time, zlib
run, shots, limit, started = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def fail(why):
    print(f"kms-check: {why}", file=sys.stderr)
    print("".join(open(os.path.join(run, "serial.log"), errors="replace").read().splitlines(True)[-20:]), file=sys.stderr)
    sys.exit(1)

def serial():
    return open(os.path.join(run, "serial.log"), errors="replace").read()

def wait_serial(words):
    while words not in serial():
        if time.time() - started > limit:
            fail(f"no '{words}' from the guest within {limit} s")
        time.sleep(1)

def screen(name):
    ppm = os.path.join(run, f"{name}.ppm")
    command("screendump", {"filename": ppm})  # returns once the file is written
    try:
        parts = open(ppm, "rb").read().split(b"\n", 3)
        w, h = map(int, parts[1].split()); px = parts[3]
    except (OSError, ValueError, IndexError) as e:
        fail(f"the screenshot {ppm} cannot be read: {e}")
    rows = b"".join(b"\x00" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
    open(os.path.join(shots, f"kms-aarch64-{name}.png"), "wb").write(png)
    return w, h, px

def first_button(shot, colour):
    """The centre of the topmost, leftmost run of `colour` (a button's) on the screen."""
    w, h, px = shot
    c = bytes.fromhex(colour)
    for y in range(0, h, 2):
        xs = [x for x in range(w) if px[(y * w + x) * 3:(y * w + x) * 3 + 3] == c]
        if len(xs) >= 40:
            end = xs[0]
            while end + 1 < w and px[(y * w + end + 1) * 3:(y * w + end + 1) * 3 + 3] == c:
                end += 1
            return (xs[0] + end) // 2, y + 20
    return None

def count(shot, test):
    w, h, px = shot
    return sum(1 for i in range(0, w * h * 3, 3 * 3) if test(px[i], px[i + 1], px[i + 2]))

qmp = socket.socket(socket.AF_UNIX); qmp.connect(os.path.join(run, "qmp.sock"))
reader = qmp.makefile("r")
def command(execute, arguments=None):
    qmp.sendall(json.dumps({"execute": execute, "arguments": arguments or {}}).encode())
    while True:
        reply = json.loads(reader.readline())
        if "return" in reply or "error" in reply:
            if "error" in reply:
                fail(f"QMP {execute}: {reply['error']}")
            return reply
reader.readline()
command("qmp_capabilities")
touch = socket.socket(socket.AF_UNIX); touch.connect(os.path.join(run, "touch.sock"))
taps = 0

def screen_where(name, test, what):
    """Screenshots until `test` holds for one (the screen has changed), kept as `name`."""
    while True:
        shot = screen(name)
        if test(shot):
            return shot
        if time.time() - started > limit:
            fail(f"no {what} on the screen within {limit} s")
        time.sleep(1)

def has(shot, colour):
    return first_button(shot, colour) is not None

def tap(shot, at, what):
    w, h, _ = shot
    if at is None:
        fail(f"no {what} button on the screen")
    x, y = at
    global taps
    taps += 1
    # The panel's axes are the output's pixels (1280x800).
    touch.sendall(f"tap {x * 1280 // w} {y * 800 // h}\n".encode())
    while f"touched {taps} at" not in serial():
        if "evemu-play failed" in serial() or "no virtio port" in serial():
            fail("the guest could not touch its panel")
        if time.time() - started > limit:
            fail(f"touch {taps} not made within {limit} s")
        time.sleep(0.5)
    print(f"kms-check: touched {what} at ({x}, {y})", file=sys.stderr)
    time.sleep(1)

# Welcome: Start is the one blue button. Consent: no blue, "I agree" green. Document type: blue
# buttons and no green (the welcome's chosen language is green too).
welcome = screen_where("welcome", lambda s: has(s, "1565c0"), "welcome screen")
tap(welcome, first_button(welcome, "1565c0"), "Start")
consent = screen_where("consent", lambda s: not has(s, "1565c0") and has(s, "2e7d32"), "consent screen")
tap(consent, first_button(consent, "2e7d32"), "I agree")
types = screen_where("document-type", lambda s: has(s, "1565c0") and not has(s, "2e7d32"), "document-type screen")
tap(types, first_button(types, "1565c0"), "Aadhaar")
wait_serial("kms-check-guest: voice")
if "voice not heard" in serial():
    fail("the consent screen's voice prompt was not heard on the loopback sound card")
wait_serial("camera streaming")
streaming = [l for l in serial().splitlines() if "camera streaming" in l]
if 'enrol: camera_identity = { card = "vivid' not in serial() or not any("(vivid, virtual)" in l for l in streaming):
    fail("vivid is not recorded as what it is (a virtual camera, driver vivid) in the enrolment line and the kiosk's log")
# vivid's colour bars: cyan and magenta are in no colour of the kiosk's own.
bars = lambda shot: count(shot, lambda r, g, b: g > 140 and b > 140 and r < 90) + count(shot, lambda r, g, b: r > 140 and b > 140 and g < 90)
selfie = screen("selfie-vivid")
if bars(selfie) < 2000:
    fail("the selfie screen does not show the camera's picture (no colour bars)")
wait_serial("camera unplugged")
time.sleep(6)
unplugged = screen("selfie-unplugged")
problem = count(unplugged, lambda r, g, b: (r, g, b) == (0xff, 0x8a, 0x80))
if problem < 50 or bars(unplugged) > 2000:
    fail(f"unplugged, the screen should say the camera is not working ({problem} pixels of the problem colour)")
wait_serial("camera reopened")
back = screen("selfie-plugged-back")
if bars(back) < 2000:
    fail("the camera plugged back is not shown again")
for line in serial().splitlines():
    if any(f"kms-check-guest: {w}" in line for w in ("camera", "preview", "voice")):
        print(line.strip(), file=sys.stderr)
print(f"kms-check: taps, the V4L2 camera, its unplugging and return all seen after {int(time.time() - started)} s", file=sys.stderr)
PY

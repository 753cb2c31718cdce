#!/bin/sh
# Installs this facematch bundle on a Raspberry Pi-class device (run as root from the unpacked folder).
#   ./install.sh           the Face Match API service (facematch-serve)
#   ./install.sh --kiosk   the same, plus the kiosk on this device's screen (facematch-kiosk)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
kiosk=no
case "${1:-}" in
  --kiosk) kiosk=yes ;;
  "") ;;
  *) echo "usage: $0 [--kiosk]" >&2; exit 2 ;;
esac
if ! "$here/facematch" --version >/dev/null; then
  echo "install: facematch cannot run on this machine (see the line above); nothing was installed" >&2
  exit 1
fi
id facematch >/dev/null 2>&1 || useradd --system --home-dir /var/lib/facematch --shell /usr/sbin/nologin facematch
install -d -m 0755 /opt/facematch /opt/facematch/bin /opt/facematch/models
install -m 0755 "$here/facematch" /opt/facematch/facematch
# One binary with both runtimes: LiteRT (linked) and the ONNX Runtime fallback (FACEMATCH_RUNTIME=onnx,
# loaded from beside the binary), with both model sets, as the .deb has them.
install -m 0755 "$here/bin/facematch" "$here/bin/libLiteRt.so" "$here/bin/libonnxruntime.so.1" /opt/facematch/bin/
install -m 0644 "$here"/models/*.tflite "$here"/models/*.onnx "$here/models/README.md" "$here/models/SHA256SUMS" /opt/facematch/models/
install -d -m 0700 -o facematch -g facematch /var/lib/facematch
install -d -m 0755 /etc/facematch
[ -f /etc/facematch/facematch.env ] || install -m 0644 "$here/etc/facematch.env" /etc/facematch/facematch.env
# Settings added since an earlier install are appended, the operator's own values kept.
for key in $(sed -n 's/^\(FACEMATCH_[A-Z_]*\)=.*/\1/p' "$here/etc/facematch.env"); do
  grep -q "^$key=" /etc/facematch/facematch.env || grep "^$key=" "$here/etc/facematch.env" >>/etc/facematch/facematch.env
done
[ -f /etc/facematch/kiosk.toml ] || install -m 0640 -o root -g facematch "$here/etc/kiosk.toml" /etc/facematch/kiosk.toml
# It holds the staff PIN's hash: readable by the kiosk's user only (also for older installs).
chown root:facematch /etc/facematch/kiosk.toml && chmod 0640 /etc/facematch/kiosk.toml
[ -f /etc/facematch/sync.toml ] || install -m 0600 -o facematch -g facematch "$here/etc/sync.toml.example" /etc/facematch/sync.toml.example
install -m 0644 "$here"/systemd/*.service /etc/systemd/system/
ln -sf /opt/facematch/facematch /usr/local/bin/facematch
systemctl daemon-reload
systemctl enable --now facematch-serve.service
echo "install: facematch installed in /opt/facematch; API on $(grep ^FACEMATCH_LISTEN /etc/facematch/facematch.env | cut -d= -f2)"
if [ "$kiosk" = yes ]; then
  systemctl enable --now facematch-kiosk.service
  echo "install: the kiosk runs on this screen (facematch-kiosk); camera and document source: /etc/facematch/facematch.env"
  echo "install: set a staff PIN with: echo NNNNNN | sudo -u facematch facematch operator-pin --db /var/lib/facematch/log.db | sudo tee -a /etc/facematch/kiosk.toml"
fi
echo "install: make a client token with: sudo -u facematch facematch token add --db /var/lib/facematch/log.db NAME"
echo "install: to sync, write /etc/facematch/sync.toml (see sync.toml.example) and: systemctl enable --now facematch-sync"

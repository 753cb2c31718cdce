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

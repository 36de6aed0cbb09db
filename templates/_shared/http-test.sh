#!/bin/sh
# test.sh PLUGIN.wasm EXPECTED: serves PLUGIN on a free port, checks that
# GET /hello?x=1 answers EXPECTED and that a POST echoes its body.
set -eu
WASMPLUG=${WASMPLUG:-wasmplug}
plugin=$1 expected=$2
log=$(mktemp)
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
"$WASMPLUG" serve "$plugin" --listen 127.0.0.1:0 --access-log off --no-watch 2>"$log" &
pid=$!
url=
for _ in $(seq 1200); do  # up to 2 minutes: a JS component compiles slowly under sanitizers
  url=$(sed -n 's/^wasmplug serve: listening on \(http:[^ ]*\)$/\1/p' "$log")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "FAIL: wasmplug serve exited:"; cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "FAIL: wasmplug serve did not start:"; cat "$log"; exit 1; }
got=$(curl -sS "$url/hello?x=1")
[ "$got" = "$expected" ] || { echo "FAIL: GET /hello?x=1 gave '$got', not '$expected'"; exit 1; }
got=$(curl -sS --data-binary 'echo me' "$url/echo")
[ "$got" = "echo me" ] || { echo "FAIL: POST /echo gave '$got'"; exit 1; }
echo "test: ok ($url)"

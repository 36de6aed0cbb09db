#!/usr/bin/env bash
# bindings/go/test.sh - builds the Go binding against the installed
# libwasmplug and runs its tests (go test), with the race detector too.
# Env: WASMPLUG_PREFIX, WP_PLUGINS, WP_FIXTURES, WASMPLUG_WORKER (see
# bindings/CMakeLists.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
for v in WP_PLUGINS WP_FIXTURES WASMPLUG_WORKER; do
  if [ -z "${!v:-}" ]; then echo "bindings/go/test.sh: $v is not set" >&2; exit 1; fi
done
cd "$here"
echo "== go vet"
go vet ./...
echo "== go build (example, bench)"
go build -o /dev/null ./example
go build -o /dev/null ./bench
echo "== go test (GODEBUG=cgocheck=1)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
GODEBUG=cgocheck=1 go test -count=1 -v ./... >"$log" 2>&1
status=$?
set -e
grep -E '^(--- |ok |FAIL|panic)' "$log" || true
if [ "$status" -ne 0 ]; then
  cat "$log"
  echo "bindings/go/test.sh: go test failed" >&2
  exit 1
fi
passed=$(grep -c -- '--- PASS' "$log" || true)
echo "== go test -race"
go test -count=1 -race ./...
echo "== example"
out=$(go run ./example "$WP_PLUGINS/callback-c.wasm" callback Go)
if [ "$out" != "Hello Go" ]; then
  echo "bindings/go/test.sh: example printed '$out', want 'Hello Go'" >&2
  exit 1
fi
echo "example: $out"
echo "$passed passed, 0 failed"

#!/usr/bin/env bash
# bindings/go/bench.sh - the Go side of `make bench-bindings` (protocol in
# bench/bindings/run.py): --batch N --reps R, JSON lines on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$here"
bin="${XDG_CACHE_HOME:-$HOME/.cache}/wasmplug/go-bench/wasmplug-bench-go"
mkdir -p "$(dirname "$bin")"
go build -o "$bin" ./bench >&2
exec "$bin" "$@"

#!/bin/sh
# make bench-bindings' Node.js side (protocol: bench/bindings/run.py):
#   bench.sh --batch N --reps R
# Builds the addon if needed (build.sh) and runs bench.js.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
WASMPLUG_NODE_ADDON=$("$here/build.sh")
export WASMPLUG_NODE_ADDON
exec node "$here/bench.js" "$@"

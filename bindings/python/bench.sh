#!/bin/sh
# The Python binding's side of make bench-bindings (protocol: bench/bindings/run.py).
. "$(cd "$(dirname "$0")" && pwd)/_env.sh"
exec "$PY" "$here/bench.py" "$@"

#!/bin/sh
# The Python binding's side of make bench-bindings (protocol: bench/bindings/run.py).
# Times the compiled fast path (cffi) unless WASMPLUG_PY_FFI=ctypes.
. "$(cd "$(dirname "$0")" && pwd)/_env.sh"
use_python cffi setuptools
build_fast
exec "$PY" "$here/bench.py" "$@"

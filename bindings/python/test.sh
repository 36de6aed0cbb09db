#!/bin/sh
# ctest binding_python: runs the Python binding's pytest suite against the
# installed library ($WASMPLUG_PREFIX) twice: through the compiled fast path
# (cffi, built into ~/.cache/wasmplug/python-cffi; failing to build it fails
# the test) and through the pure ctypes fallback. pytest and cffi come from
# the system Python if it has them, else from a venv under
# ~/.cache/wasmplug/python-venv (made once, from PyPI).
. "$(cd "$(dirname "$0")" && pwd)/_env.sh"
[ -n "${WP_PLUGINS:-}" ] || die "WP_PLUGINS is not set (build/plugins)"
[ -n "${WP_FIXTURES:-}" ] || die "WP_FIXTURES is not set (tests/fixtures)"
use_python pytest cffi setuptools
build_fast
cd "$here"
status=0
for ffi in cffi ctypes; do
  echo "bindings/python: the suite with WASMPLUG_PY_FFI=$ffi" >&2
  WASMPLUG_PY_FFI=$ffi "$PY" -m pytest -q -p no:cacheprovider tests "$@" || status=1
done
[ $status -eq 0 ] || die "tests failed (see above for which path)"

# Sourced by test.sh and bench.sh: checks the environment, points the binding
# at the installed library and picks a Python with pytest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "bindings/python: $*" >&2; exit 1; }
[ -n "${WASMPLUG_PREFIX:-}" ] || die "WASMPLUG_PREFIX is not set (the installed wasmplug tree)"
[ -d "$WASMPLUG_PREFIX/include/wasmplug" ] || die "no headers under WASMPLUG_PREFIX=$WASMPLUG_PREFIX"
# The library directory, as the installed wasmplug.pc says (pkg-config when
# there is one, else PREFIX/lib).
libdir=
if command -v pkg-config >/dev/null 2>&1; then
  libdir=$(PKG_CONFIG_PATH="$WASMPLUG_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
    pkg-config --variable=libdir wasmplug 2>/dev/null || true)
fi
[ -n "$libdir" ] || libdir="$WASMPLUG_PREFIX/lib"
[ -f "$libdir/libwasmplug.so" ] || die "no libwasmplug.so in $libdir"
export WASMPLUG_LIB="$libdir/libwasmplug.so"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
# Nothing written into the checkout (no __pycache__).
export PYTHONDONTWRITEBYTECODE=1
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || die "no $PY: install Python 3.8 or newer"

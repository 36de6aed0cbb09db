# Sourced by test.sh and bench.sh: checks the environment, points the binding
# at the installed library, picks a Python and builds the compiled fast path.
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
cache="${XDG_CACHE_HOME:-$HOME/.cache}/wasmplug"

# use_python MODULE...: keeps $PY if it imports every MODULE, else switches
# to a venv made once under $cache/python-venv with them from PyPI
# (cffi compiles with setuptools: ask for both).
use_python() {
  imports=$(printf '%s,' "$@"); imports=${imports%,}
  "$PY" -c "import $imports" >/dev/null 2>&1 && return 0
  venv="$cache/python-venv"
  if ! "$venv/bin/python" -c "import $imports" >/dev/null 2>&1; then
    echo "bindings/python: installing $* into $venv (PyPI)" >&2
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv" \
      || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
      || die "pip install $* failed"
  fi
  PY="$venv/bin/python"
}

# build_fast: compiles the cffi module (once per installed header set and
# Python) into $cache/python-cffi/<key>/ and exports WASMPLUG_PY_FAST_DIR.
# Failing to build it is an error here: this machine is expected to have
# cc, the Python headers and cffi.
build_fast() {
  dir=$("$PY" "$here/_fast_build.py" --cache-root "$cache/python-cffi") \
    || die "cannot build the compiled fast path (cffi): it needs a C compiler (cc), the Python
  headers (Debian: python3-dev) and cffi; see the errors above"
  export WASMPLUG_PY_FAST_DIR="$dir"
}

#!/bin/sh
# ctest binding_python: runs the Python binding's pytest suite against the
# installed library ($WASMPLUG_PREFIX). pytest comes from the system Python
# if it has it, else from a venv under ~/.cache/wasmplug/python-venv (made
# once, from PyPI).
. "$(cd "$(dirname "$0")" && pwd)/_env.sh"
[ -n "${WP_PLUGINS:-}" ] || die "WP_PLUGINS is not set (build/plugins)"
[ -n "${WP_FIXTURES:-}" ] || die "WP_FIXTURES is not set (tests/fixtures)"
if ! "$PY" -c "import pytest" >/dev/null 2>&1; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/wasmplug/python-venv"
  if ! "$venv/bin/python" -c "import pytest" >/dev/null 2>&1; then
    echo "bindings/python: installing pytest into $venv" >&2
    rm -rf "$venv"
    "$PY" -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest \
      || die "pip install pytest failed"
  fi
  PY="$venv/bin/python"
fi
cd "$here"
exec "$PY" -m pytest -q -p no:cacheprovider tests "$@"
